#include "io/zarr.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/memory_budget.h"
#include "core/progress.h"
#include "core/threads.h"
#include "io/atomic_output.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem {
namespace {

json read_json(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError(file, "cannot be read");
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw InputError(file, "is not a JSON object (Zarr metadata)");
  return j;
}

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) throw InputError(file, "cannot be opened");
  std::string bytes(static_cast<size_t>(std::max<std::streamoff>(0, in.tellg())), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) throw InputError(file, "cannot be read");
  return bytes;
}

// nm per unit of an OME axis ("micrometer", ...); 0 when the unit is not a length we know.
double nm_per(const std::string& unit) {
  static const std::map<std::string, double> units = {
      {"nanometer", 1}, {"micrometer", 1e3}, {"millimeter", 1e6}, {"centimeter", 1e7}, {"meter", 1e9},
      {"angstrom", 0.1}, {"picometer", 1e-3}, {"nm", 1}, {"um", 1e3}, {"µm", 1e3}};
  const auto it = units.find(unit);
  return it == units.end() ? 0 : it->second;
}

std::vector<int64_t> integers(const json& j, const fs::path& file, const char* key) {
  if (!j.contains(key) || !j[key].is_array() || j[key].empty()) throw InputError(file, std::string("has no \"") + key + "\" list");
  std::vector<int64_t> out;
  for (const auto& v : j[key]) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0) throw InputError(file, std::string("\"") + key + "\" holds " + v.dump() + ", not a size");
    out.push_back(v.get<int64_t>());
  }
  return out;
}

// The value of one stored element, byte order `swap`ped when it is not this machine's.
template <typename T>
T load(const uint8_t* p, bool swap) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, p, sizeof(T));
  if (swap) std::reverse(b, b + sizeof(T));
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

template <typename Out>
void convert(const uint8_t* in, char kind, size_t item, bool swap, int64_t n, Out* out) {
  for (int64_t i = 0; i < n; ++i, in += item) {
    if (kind == 'f') out[i] = static_cast<Out>(item == 4 ? load<float>(in, swap) : load<double>(in, swap));
    else if (item == 1) out[i] = static_cast<Out>(in[0]);
    else if (item == 2) out[i] = static_cast<Out>(load<uint16_t>(in, swap));
    else if (item == 4) out[i] = static_cast<Out>(load<uint32_t>(in, swap));
    else out[i] = static_cast<Out>(load<uint64_t>(in, swap));
  }
}

template <typename T>
void fill_box(Volume& v, int64_t z0, int64_t z1, int64_t y0, int64_t y1, int64_t x0, int64_t x1, double value) {
  for (int64_t z = z0; z < z1; ++z)
    for (int64_t y = y0; y < y1; ++y) std::fill(&v.at<T>(z, y, x0), &v.at<T>(z, y, x0) + (x1 - x0), static_cast<T>(value));
}

template <typename F>
void on_dtype(DType t, F&& f) {
  switch (t) {
    case DType::u8: f(uint8_t{}); break;
    case DType::u16: f(uint16_t{}); break;
    case DType::u32: f(uint32_t{}); break;
    case DType::u64: f(uint64_t{}); break;
    case DType::f32: f(float{}); break;
  }
}

}  // namespace

bool is_zarr(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return false;
  const std::string name = (path.filename().empty() ? path.parent_path() : path).filename().string();
  return name.ends_with(".zarr") || fs::exists(path / ".zarray", ec) || fs::exists(path / ".zgroup", ec) ||
         fs::exists(path / "zarr.json", ec);
}

ZarrArray::ZarrArray(const fs::path& path) : array_(path) {
  std::error_code ec;
  if (fs::exists(path / "zarr.json", ec))
    throw InputError(path / "zarr.json", "is Zarr version 3, which uniem does not read yet; save it as Zarr version 2 (OME-Zarr 0.4)");
  int levels = 0;
  std::vector<double> scale;
  std::vector<std::string> units;
  if (!fs::exists(path / ".zarray", ec)) {
    if (!fs::exists(path / ".zgroup", ec) && !fs::exists(path / ".zattrs", ec))
      throw InputError(path, "is not a Zarr array or OME-Zarr image (it has no .zarray, .zgroup or .zattrs)");
    const fs::path attrs_file = path / ".zattrs";
    const json attrs = fs::exists(attrs_file, ec) ? read_json(attrs_file) : json::object();
    if (!attrs.contains("multiscales") || !attrs["multiscales"].is_array() || attrs["multiscales"].empty() ||
        !attrs["multiscales"][0].is_object())
      throw InputError(path, "is a Zarr group, not an OME-Zarr image (no \"multiscales\" in .zattrs): give the path of an array in it");
    const json& m = attrs["multiscales"][0];
    if (!m.contains("datasets") || !m["datasets"].is_array() || m["datasets"].empty() || !m["datasets"][0].is_object() ||
        !m["datasets"][0].contains("path") || !m["datasets"][0]["path"].is_string())
      throw InputError(attrs_file, "has no datasets with a path in its multiscales");
    levels = static_cast<int>(m["datasets"].size());
    array_ = path / m["datasets"][0]["path"].get<std::string>();
    for (const json* t : {&m["datasets"][0], &m})
      if (t->contains("coordinateTransformations") && (*t)["coordinateTransformations"].is_array())
        for (const auto& c : (*t)["coordinateTransformations"])
          if (c.is_object() && c.value("type", "") == "scale" && c.contains("scale") && c["scale"].is_array()) {
            std::vector<double> s;
            for (const auto& x : c["scale"]) s.push_back(x.is_number() ? x.get<double>() : 1.0);
            if (scale.empty()) scale = s;
            else if (s.size() == scale.size()) for (size_t i = 0; i < s.size(); ++i) scale[i] *= s[i];
          }
    if (m.contains("axes") && m["axes"].is_array())
      for (const auto& a : m["axes"]) units.push_back(a.is_object() && a.contains("unit") && a["unit"].is_string() ? a["unit"].get<std::string>() : "");
  }
  metadata_ = array_ / ".zarray";
  if (!fs::exists(metadata_, ec)) throw InputError(metadata_, "is missing: the array has no metadata");
  const json z = read_json(metadata_);
  if (z.value("zarr_format", 0) != 2) throw InputError(metadata_, "is not Zarr version 2 metadata (\"zarr_format\": 2)");
  const auto shape = integers(z, metadata_, "shape"), chunks = integers(z, metadata_, "chunks");
  if (chunks.size() != shape.size()) throw InputError(metadata_, "has chunks of another rank than its shape");
  const size_t rank = shape.size();
  if (rank < 2) throw InputError(metadata_, "holds a 1D array; uniem reads images (y, x) and volumes (z, y, x)");
  for (size_t i = 0; i < rank; ++i)
    if (chunks[i] < 1) throw InputError(metadata_, "has a chunk size of 0");
  planar_ = rank == 2;
  leading_ = planar_ ? 0 : static_cast<int>(rank - 3);
  for (int i = 0; i < leading_; ++i)
    if (shape[static_cast<size_t>(i)] != 1)
      throw InputError(metadata_, "has " + std::to_string(shape[static_cast<size_t>(i)]) + " along axis " + std::to_string(i) +
                                      " (channels or time points); uniem reads one volume: save each channel as its own array");
  shape_ = planar_ ? std::array<int64_t, 3>{1, shape[0], shape[1]} : std::array<int64_t, 3>{shape[rank - 3], shape[rank - 2], shape[rank - 1]};
  chunks_ = planar_ ? std::array<int64_t, 3>{1, chunks[0], chunks[1]}
                    : std::array<int64_t, 3>{chunks[rank - 3], chunks[rank - 2], chunks[rank - 1]};
  int64_t chunk_elements = 1;
  for (const int64_t c : chunks) chunk_elements *= c;

  stored_type_ = z.contains("dtype") && z["dtype"].is_string() ? z["dtype"].get<std::string>() : "";
  const std::string& t = stored_type_;
  if (t.size() < 3 || (t[0] != '<' && t[0] != '>' && t[0] != '|') || !std::isdigit(static_cast<unsigned char>(t[2])))
    throw InputError(metadata_, "has the data type " + (t.empty() ? std::string("(none)") : "\"" + t + "\"") + ", which uniem does not read");
  item_ = static_cast<size_t>(std::stoi(t.substr(2)));
  const char kind = t[1];
  if (kind == 'u' && (item_ == 1 || item_ == 2 || item_ == 4 || item_ == 8)) dtype_ = item_ == 1 ? DType::u8 : item_ == 2 ? DType::u16 : item_ == 4 ? DType::u32 : DType::u64;
  else if (kind == 'b' && item_ == 1) dtype_ = DType::u8;
  else if (kind == 'f' && (item_ == 4 || item_ == 8)) dtype_ = DType::f32;
  else if (kind == 'i')
    throw InputError(metadata_, "holds signed integers (\"" + t + "\"); uniem reads unsigned integers and floats: save it as unsigned (uint8, uint16, uint32) or float32");
  else throw InputError(metadata_, "has the data type \"" + t + "\", which uniem does not read");
  if (z.value("order", "C") != "C") throw InputError(metadata_, "is in Fortran order (\"order\": \"F\"); uniem reads C order");
  if (z.contains("filters") && !z["filters"].is_null() && !(z["filters"].is_array() && z["filters"].empty()))
    throw InputError(metadata_, "uses filters (" + z["filters"].dump() + "), which uniem does not read");
  codec_ = "raw";
  if (z.contains("compressor") && !z["compressor"].is_null()) {
    codec_ = z["compressor"].is_object() ? z["compressor"].value("id", "") : "";
    if (codec_ != "zlib" && codec_ != "gzip")
      throw InputError(metadata_, "is compressed with \"" + codec_ + "\"; uniem reads uncompressed, zlib and gzip chunks so far: save it with one of those");
  }
  if (z.contains("fill_value") && z["fill_value"].is_number()) fill_ = z["fill_value"].get<double>();
  else if (z.contains("fill_value") && z["fill_value"].is_string() && z["fill_value"] == "NaN") fill_ = std::numeric_limits<double>::quiet_NaN();
  if (z.contains("dimension_separator") && z["dimension_separator"].is_string()) separator_ = z["dimension_separator"].get<std::string>();
  if (separator_ != "." && separator_ != "/") throw InputError(metadata_, "has the dimension separator \"" + separator_ + "\" (\".\" or \"/\")");
  chunk_bytes_ = static_cast<size_t>(chunk_elements) * item_;

  if (levels > 0) {
    kind_ = "OME-Zarr image (level 0 of " + std::to_string(levels) + ")";
    const size_t n = scale.size();
    if (n >= 2 && units.size() == n) {
      const double f = nm_per(units[n - 1]);
      if (f > 0) {
        voxel_size_ = {n >= 3 && !planar_ ? scale[n - 3] * nm_per(units[n - 3]) : 1, scale[n - 2] * nm_per(units[n - 2]), scale[n - 1] * f, true};
        if (voxel_size_.z <= 0) voxel_size_.z = voxel_size_.x;
      }
    }
  } else {
    kind_ = "Zarr array";
  }
}

std::string ZarrArray::describe() const {
  return kind_ + ", chunks " + std::to_string(chunks_[0]) + " x " + std::to_string(chunks_[1]) + " x " + std::to_string(chunks_[2]) +
         ", " + (codec_ == "raw" ? "uncompressed" : codec_);
}

Volume ZarrArray::read(int64_t z0, int64_t z1) const {
  z1 = std::min(z1, nz());
  if (z1 <= z0) return Volume();
  check_memory_budget(array_, "announces " + std::to_string(z1 - z0) + " sections of " + std::to_string(nx()) + " x " + std::to_string(ny()) + " pixels",
                      static_cast<double>(z1 - z0) * static_cast<double>(ny()) * static_cast<double>(nx()) * static_cast<double>(dtype_size(dtype_)),
                      dtype_name(dtype_), "read a smaller array (a coarser level of the pyramid)");
  Volume v = Volume::uninitialized(dtype_, z1 - z0, ny(), nx());
  v.voxel_size = voxel_size_;
  std::vector<std::array<int64_t, 3>> keys;
  for (int64_t cz = z0 / chunks_[0]; cz * chunks_[0] < z1; ++cz)
    for (int64_t cy = 0; cy * chunks_[1] < ny(); ++cy)
      for (int64_t cx = 0; cx * chunks_[2] < nx(); ++cx) keys.push_back({cz, cy, cx});
  const bool swap = stored_type_[0] == '>';
  const char kind = stored_type_[1];
  Progress progress("reading " + array_.filename().string(), static_cast<int64_t>(keys.size()));
  parallel_for(0, static_cast<int64_t>(keys.size()), 1, [&](int64_t b, int64_t e) {
    std::string inflated;
    for (int64_t k = b; k < e; ++k) {
      const auto [cz, cy, cx] = keys[static_cast<size_t>(k)];
      std::string name;
      for (int i = 0; i < leading_; ++i) name += "0" + separator_;
      if (!planar_) name += std::to_string(cz) + separator_;
      name += std::to_string(cy) + separator_ + std::to_string(cx);
      const fs::path file = array_ / name;
      const int64_t gz0 = std::max(z0, cz * chunks_[0]), gz1 = std::min(z1, (cz + 1) * chunks_[0]);
      const int64_t gy0 = cy * chunks_[1], gy1 = std::min(ny(), gy0 + chunks_[1]);
      const int64_t gx0 = cx * chunks_[2], gx1 = std::min(nx(), gx0 + chunks_[2]);
      std::error_code ec;
      if (!fs::exists(file, ec)) {  // never written: the fill value
        on_dtype(dtype_, [&](auto tag) { fill_box<decltype(tag)>(v, gz0 - z0, gz1 - z0, gy0, gy1, gx0, gx1, fill_); });
        progress.advance();
        continue;
      }
      const size_t expected = chunk_bytes_;
      std::string stored = read_bytes(file);
      const std::string* data = &stored;
      if (codec_ != "raw") {
        inflated.assign(expected, '\0');
        z_stream s{};
        if (inflateInit2(&s, 32 + MAX_WBITS) != Z_OK) throw Error("zlib could not start");
        s.next_in = reinterpret_cast<Bytef*>(stored.data());
        s.avail_in = static_cast<uInt>(stored.size());
        s.next_out = reinterpret_cast<Bytef*>(inflated.data());
        s.avail_out = static_cast<uInt>(expected);
        const int r = inflate(&s, Z_FINISH);
        const size_t got = s.total_out;
        inflateEnd(&s);
        if (r != Z_STREAM_END || got != expected)
          throw InputError(file, "is not a whole " + codec_ + " chunk of this array (" + std::to_string(got) + " of " +
                                     std::to_string(expected) + " bytes inflated): truncated or damaged");
        data = &inflated;
      } else if (stored.size() != expected) {
        throw InputError(file, "holds " + std::to_string(stored.size()) + " bytes, not the " + std::to_string(expected) +
                                   " of an uncompressed chunk of this array: truncated or damaged");
      }
      const auto* bytes = reinterpret_cast<const uint8_t*>(data->data());
      on_dtype(dtype_, [&](auto tag) {
        using T = decltype(tag);
        for (int64_t z = gz0; z < gz1; ++z)
          for (int64_t y = gy0; y < gy1; ++y) {
            const int64_t offset = ((z - cz * chunks_[0]) * chunks_[1] + (y - gy0)) * chunks_[2];
            convert<T>(bytes + static_cast<size_t>(offset) * item_, kind, item_, swap, gx1 - gx0, &v.at<T>(z - z0, y, gx0));
          }
      });
      progress.advance();
    }
  });
  return v;
}

namespace {

// One level coarser: blocks of fz x 2 x 2 voxels, their mean (rounded for integers) or, for
// labels, their most frequent value (the smallest of a tie).
Volume coarser(const Volume& v, int64_t fz, bool labels) {
  Volume out(v.dtype(), (v.nz() + fz - 1) / fz, (v.ny() + 1) / 2, (v.nx() + 1) / 2);
  on_dtype(v.dtype(), [&](auto tag) {
    using T = decltype(tag);
    parallel_for(0, out.nz(), 1, [&](int64_t b, int64_t e) {
      for (int64_t z = b; z < e; ++z)
        for (int64_t y = 0; y < out.ny(); ++y)
          for (int64_t x = 0; x < out.nx(); ++x) {
            T values[8];
            int n = 0;
            for (int64_t dz = 0; dz < fz && z * fz + dz < v.nz(); ++dz)
              for (int64_t dy = 0; dy < 2 && 2 * y + dy < v.ny(); ++dy)
                for (int64_t dx = 0; dx < 2 && 2 * x + dx < v.nx(); ++dx) values[n++] = v.at<T>(z * fz + dz, 2 * y + dy, 2 * x + dx);
            T result{};
            if (labels) {
              for (int i = 1; i < n; ++i)  // insertion sort: at most 8 values
                for (int j = i; j > 0 && values[j] < values[j - 1]; --j) std::swap(values[j], values[j - 1]);
              int best = 0;
              for (int i = 0, run = 1; i < n; ++i, ++run) {
                if (i > 0 && values[i] != values[i - 1]) run = 1;
                if (run > best) best = run, result = values[i];
              }
            } else {
              double sum = 0;
              for (int i = 0; i < n; ++i) sum += static_cast<double>(values[i]);
              const double mean = sum / n;
              result = std::is_floating_point_v<T> ? static_cast<T>(mean) : static_cast<T>(std::llround(mean));
            }
            out.at<T>(z, y, x) = result;
          }
    });
  });
  return out;
}

std::string zarr_type(DType t) {
  switch (t) {
    case DType::u8: return "|u1";
    case DType::u16: return "<u2";
    case DType::u32: return "<u4";
    case DType::u64: return "<u8";
    case DType::f32: return "<f4";
  }
  return "";
}

void write_level(const fs::path& folder, const Volume& v, Progress& progress) {
  const std::array<int64_t, 3> chunks{std::min<int64_t>(v.nz(), 32), std::min<int64_t>(v.ny(), 256), std::min<int64_t>(v.nx(), 256)};
  fs::create_directories(folder);
  const json meta = {{"zarr_format", 2},
                     {"shape", {v.nz(), v.ny(), v.nx()}},
                     {"chunks", {chunks[0], chunks[1], chunks[2]}},
                     {"dtype", zarr_type(v.dtype())},
                     {"compressor", {{"id", "zlib"}, {"level", 1}}},
                     {"fill_value", 0},
                     {"order", "C"},
                     {"filters", nullptr},
                     {"dimension_separator", "/"}};
  write_file(folder / ".zarray", meta.dump(2) + "\n");
  std::vector<std::array<int64_t, 3>> keys;
  for (int64_t cz = 0; cz * chunks[0] < v.nz(); ++cz)
    for (int64_t cy = 0; cy * chunks[1] < v.ny(); ++cy) {
      fs::create_directories(folder / std::to_string(cz) / std::to_string(cy));
      for (int64_t cx = 0; cx * chunks[2] < v.nx(); ++cx) keys.push_back({cz, cy, cx});
    }
  const size_t item = dtype_size(v.dtype());
  parallel_for(0, static_cast<int64_t>(keys.size()), 1, [&](int64_t b, int64_t e) {
    std::string raw(static_cast<size_t>(chunks[0] * chunks[1] * chunks[2]) * item, '\0'), packed;
    for (int64_t k = b; k < e; ++k) {
      const auto [cz, cy, cx] = keys[static_cast<size_t>(k)];
      std::fill(raw.begin(), raw.end(), '\0');  // edge chunks are stored whole, padded with the fill value
      const int64_t w = std::min(chunks[2], v.nx() - cx * chunks[2]);
      for (int64_t z = 0; z < chunks[0] && cz * chunks[0] + z < v.nz(); ++z)
        for (int64_t y = 0; y < chunks[1] && cy * chunks[1] + y < v.ny(); ++y) {
          const std::byte* row = v.raw_slice(cz * chunks[0] + z) + static_cast<size_t>(((cy * chunks[1] + y) * v.nx() + cx * chunks[2])) * item;
          std::memcpy(raw.data() + static_cast<size_t>((z * chunks[1] + y) * chunks[2]) * item, row, static_cast<size_t>(w) * item);
        }
      uLongf size = compressBound(static_cast<uLong>(raw.size()));
      packed.resize(size);
      if (compress2(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()), 1) != Z_OK)
        throw Error("zlib could not compress a chunk");
      packed.resize(size);
      write_file(folder / std::to_string(cz) / std::to_string(cy) / std::to_string(cx), packed);
      progress.advance();
    }
  });
}

}  // namespace

void write_ome_zarr(const fs::path& folder, const Volume& v, bool labels) {
  if (v.channels() != 1) throw InputError(folder, "OME-Zarr is written for one channel; write a colour volume as TIFF");
  std::vector<Volume> levels;
  std::vector<std::array<double, 3>> scales{{v.voxel_size.z, v.voxel_size.y, v.voxel_size.x}};
  const Volume* last = &v;
  while (levels.size() + 1 < 8 && std::max(last->ny(), last->nx()) > 256) {
    const auto& s = scales.back();
    const int64_t fz = last->nz() > 1 && s[0] <= s[2] ? 2 : 1;  // z is halved while it is not coarser than x
    levels.push_back(coarser(*last, fz, labels));
    scales.push_back({s[0] * static_cast<double>(fz), s[1] * 2, s[2] * 2});
    last = &levels.back();
  }
  int64_t chunks = 0;
  for (size_t i = 0; i <= levels.size(); ++i) {
    const Volume& l = i == 0 ? v : levels[i - 1];
    chunks += ((l.nz() + 31) / 32) * ((l.ny() + 255) / 256) * ((l.nx() + 255) / 256);
  }
  Progress progress("writing " + folder.filename().string(), chunks);
  json axes = json::array(), datasets = json::array();
  for (const char* a : {"z", "y", "x"}) {
    json axis = {{"name", a}, {"type", "space"}};
    if (v.voxel_size.known) axis["unit"] = "nanometer";
    axes.push_back(axis);
  }
  for (size_t i = 0; i <= levels.size(); ++i) {
    write_level(folder / std::to_string(i), i == 0 ? v : levels[i - 1], progress);
    datasets.push_back({{"path", std::to_string(i)},
                        {"coordinateTransformations", {{{"type", "scale"}, {"scale", {scales[i][0], scales[i][1], scales[i][2]}}}}}});
  }
  write_file(folder / ".zgroup", json{{"zarr_format", 2}}.dump() + "\n");
  const json attrs = {{"multiscales",
                       {{{"version", "0.4"},
                         {"name", folder.filename().string()},
                         {"axes", axes},
                         {"datasets", datasets},
                         {"type", labels ? "mode" : "mean"},
                         {"metadata", {{"description", labels ? "each coarser level: the most frequent id of 2 x 2 (x 2) voxels"
                                                              : "each coarser level: the mean of 2 x 2 (x 2) voxels"},
                                       {"written_by", "uniem"}}}}}}};
  write_file(folder / ".zattrs", attrs.dump(2) + "\n");
}

}  // namespace uniem
