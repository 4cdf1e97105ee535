#include "io/zarr.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/progress.h"
#include "core/threads.h"
#include "io/crc32c.h"
#include "io/zarr_codecs.h"

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

// `length` bytes of `file` from `offset`; all of it for length -1.
std::string read_bytes(const fs::path& file, uint64_t offset = 0, int64_t length = -1) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) throw InputError(file, "cannot be opened");
  const auto size = static_cast<uint64_t>(std::max<std::streamoff>(0, in.tellg()));
  const uint64_t n = length < 0 ? size : static_cast<uint64_t>(length);
  if (offset > size || n > size - offset) throw InputError(file, "is shorter than its index says (truncated)");
  std::string bytes(static_cast<size_t>(n), '\0');
  in.seekg(static_cast<std::streamoff>(offset));
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

// The shape of a chunk of rank >= 2 as (z, y, x) and the product of the axes before.
ZarrArray::Encoding shaped(const std::vector<int64_t>& dims) {
  ZarrArray::Encoding e;
  const size_t n = dims.size();
  e.shape = n == 2 ? std::array<int64_t, 3>{1, dims[0], dims[1]} : std::array<int64_t, 3>{dims[n - 3], dims[n - 2], dims[n - 1]};
  for (size_t i = 0; i + 3 < n; ++i) e.leading *= dims[i];
  return e;
}

int64_t elements(const ZarrArray::Encoding& e) { return e.shape[0] * e.shape[1] * e.shape[2] * e.leading; }

// A version 3 codec list made into an Encoding of `dims`: identity transposes, then "bytes" (or,
// with `sharding` given, "sharding_indexed", whose configuration it returns there), then byte
// codecs (at most one compression; crc32c).
ZarrArray::Encoding pipeline(const json& codecs, const std::vector<int64_t>& dims, const fs::path& file, json* sharding) {
  if (!codecs.is_array() || codecs.empty()) throw InputError(file, "has no \"codecs\" list");
  ZarrArray::Encoding e = shaped(dims);
  bool bytes = false;
  int compressions = 0;
  for (const auto& c : codecs) {
    const std::string name = c.is_object() && c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : "";
    const json config = c.is_object() ? c.value("configuration", json::object()) : json::object();
    if (!bytes && name == "transpose") {
      const json order = config.value("order", json::array());
      for (size_t i = 0; i < order.size(); ++i)
        if (!order[i].is_number_integer() || order[i].get<size_t>() != i)
          throw InputError(file, "transposes its chunks (" + order.dump() + "); uniem reads C order: save it without transpose");
    } else if (!bytes && name == "bytes") {
      bytes = true;
      e.swap = config.value("endian", "little") == "big";
    } else if (!bytes && name == "sharding_indexed" && sharding) {
      bytes = true;
      *sharding = config;
    } else if (bytes && (zarr_codec_known(name) || name == "crc32c")) {
      if (name != "crc32c" && ++compressions > 1) throw InputError(file, "compresses its chunks twice, which uniem does not read");
      e.codecs.push_back(name);
    } else {
      throw InputError(file, "uses the codec \"" + name + "\"" + (name == "sharding_indexed" ? " inside a shard" : "") +
                                 ", which uniem does not read (it reads bytes, gzip, zstd, blosc, crc32c and sharding)");
    }
  }
  if (!bytes) throw InputError(file, "has no \"bytes\" codec: its chunks' layout is unknown");
  return e;
}

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : ", ") + p;
  return s;
}

std::string shape_text(const std::array<int64_t, 3>& s) {
  return std::to_string(s[0]) + " x " + std::to_string(s[1]) + " x " + std::to_string(s[2]);
}

}  // namespace

bool is_zarr(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return false;
  const std::string name = (path.filename().empty() ? path.parent_path() : path).filename().string();
  return name.ends_with(".zarr") || name.ends_with(".n5") || fs::exists(path / ".zarray", ec) || fs::exists(path / ".zgroup", ec) ||
         fs::exists(path / "zarr.json", ec) || fs::exists(path / "attributes.json", ec);
}

bool is_n5_container(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path / "attributes.json", ec) || fs::exists(path / ".zarray", ec) || fs::exists(path / "zarr.json", ec)) return false;
  std::ifstream in(path / "attributes.json");
  const json a = json::parse(in, nullptr, false);
  return a.is_object() && !a.contains("dimensions");
}

ZarrArray::ZarrArray(const fs::path& path) : array_(path) {
  std::error_code ec;
  // An OME-Zarr image leads to its first dataset: 0.4 (Zarr 2) says so in .zattrs, 0.5 (Zarr 3)
  // in zarr.json's attributes, under "ome".
  json ome;
  fs::path ome_file;
  if (fs::exists(path / "attributes.json", ec) && !fs::exists(path / ".zarray", ec) && !fs::exists(path / "zarr.json", ec)) {
    read_n5(path / "attributes.json");
    codec_text_ = chunk_.codecs.empty() ? "uncompressed" : join(chunk_.codecs);
    kind_text_ = "N5 dataset";
    return;
  }
  if (fs::exists(path / "zarr.json", ec) && !fs::exists(path / ".zarray", ec)) {
    const json j = read_json(path / "zarr.json");
    if (j.value("node_type", "") == "group") {
      const json attrs = j.value("attributes", json::object());
      ome = attrs.contains("ome") ? attrs["ome"] : attrs;
      ome_file = path / "zarr.json";
    }
  } else if (!fs::exists(path / ".zarray", ec)) {
    if (!fs::exists(path / ".zgroup", ec) && !fs::exists(path / ".zattrs", ec))
      throw InputError(path, "is not a Zarr array or OME-Zarr image (it has no .zarray, .zgroup, .zattrs or zarr.json)");
    ome_file = path / ".zattrs";
    ome = fs::exists(ome_file, ec) ? read_json(ome_file) : json::object();
  }
  int levels = 0;
  std::vector<double> scale;
  std::vector<std::string> units;
  if (!ome_file.empty()) {
    if (!ome.is_object() || !ome.contains("multiscales") || !ome["multiscales"].is_array() || ome["multiscales"].empty() ||
        !ome["multiscales"][0].is_object())
      throw InputError(path, "is a Zarr group, not an OME-Zarr image (no \"multiscales\" in " + ome_file.filename().string() +
                                 "): give the path of an array in it");
    const json& m = ome["multiscales"][0];
    if (!m.contains("datasets") || !m["datasets"].is_array() || m["datasets"].empty() || !m["datasets"][0].is_object() ||
        !m["datasets"][0].contains("path") || !m["datasets"][0]["path"].is_string())
      throw InputError(ome_file, "has no datasets with a path in its multiscales");
    levels = static_cast<int>(m["datasets"].size());
    array_ = path / m["datasets"][0]["path"].get<std::string>();
    for (const json* t : {&m["datasets"][0], &m})
      if (t->contains("coordinateTransformations") && (*t)["coordinateTransformations"].is_array())
        for (const auto& c : (*t)["coordinateTransformations"])
          if (c.is_object() && c.value("type", "") == "scale" && c.contains("scale") && c["scale"].is_array()) {
            std::vector<double> s;
            for (const auto& x : c["scale"]) s.push_back(x.is_number() ? x.get<double>() : 1.0);
            if (scale.empty()) scale = s;
            else if (s.size() == scale.size())
              for (size_t i = 0; i < s.size(); ++i) scale[i] *= s[i];
          }
    if (m.contains("axes") && m["axes"].is_array())
      for (const auto& a : m["axes"])
        units.push_back(a.is_object() && a.contains("unit") && a["unit"].is_string() ? a["unit"].get<std::string>() : "");
  }
  if (fs::exists(array_ / ".zarray", ec)) read_v2(array_ / ".zarray");
  else if (fs::exists(array_ / "zarr.json", ec)) read_v3(array_ / "zarr.json");
  else throw InputError(array_, "has no .zarray or zarr.json: the array has no metadata");

  codec_text_ = chunk_.codecs.empty() ? "uncompressed" : join(chunk_.codecs);
  if (sharded_) codec_text_ = "inner chunks " + shape_text(inner_.shape) + ", " + (inner_.codecs.empty() ? "uncompressed" : join(inner_.codecs));
  kind_text_ = levels > 0 ? "OME-Zarr image (level 0 of " + std::to_string(levels) + ")" : "Zarr array";
  const size_t n = scale.size();
  if (levels > 0 && n >= 2 && units.size() == n && nm_per(units[n - 1]) > 0) {
    voxel_size_ = {n >= 3 && !planar_ ? scale[n - 3] * nm_per(units[n - 3]) : 1, scale[n - 2] * nm_per(units[n - 2]),
                   scale[n - 1] * nm_per(units[n - 1]), true};
    if (voxel_size_.z <= 0) voxel_size_.z = voxel_size_.x;
  }
}

// The parts both versions share: the shape, checked (rank, leading axes of one).
static std::array<int64_t, 3> volume_shape(const std::vector<int64_t>& shape, const fs::path& file, int& leading, bool& planar) {
  const size_t rank = shape.size();
  if (rank < 2) throw InputError(file, "holds a 1D array; uniem reads images (y, x) and volumes (z, y, x)");
  planar = rank == 2;
  leading = planar ? 0 : static_cast<int>(rank - 3);
  for (int i = 0; i < leading; ++i)
    if (shape[static_cast<size_t>(i)] != 1)
      throw InputError(file, "has " + std::to_string(shape[static_cast<size_t>(i)]) + " along axis " + std::to_string(i) +
                                 " (channels or time points); uniem reads one volume: save each channel as its own array");
  return planar ? std::array<int64_t, 3>{1, shape[0], shape[1]} : std::array<int64_t, 3>{shape[rank - 3], shape[rank - 2], shape[rank - 1]};
}

void ZarrArray::read_v2(const fs::path& file) {
  metadata_ = file;
  version_ = 2;
  const json z = read_json(file);
  if (z.value("zarr_format", 0) != 2) throw InputError(file, "is not Zarr version 2 metadata (\"zarr_format\": 2)");
  const auto shape = integers(z, file, "shape"), chunks = integers(z, file, "chunks");
  if (chunks.size() != shape.size()) throw InputError(file, "has chunks of another rank than its shape");
  for (const int64_t c : chunks)
    if (c < 1) throw InputError(file, "has a chunk size of 0");
  shape_ = volume_shape(shape, file, leading_, planar_);
  chunk_ = shaped(chunks);

  const std::string t = z.contains("dtype") && z["dtype"].is_string() ? z["dtype"].get<std::string>() : "";
  if (t.size() < 3 || (t[0] != '<' && t[0] != '>' && t[0] != '|') || !std::isdigit(static_cast<unsigned char>(t[2])))
    throw InputError(file, "has the data type " + (t.empty() ? std::string("(none)") : "\"" + t + "\"") + ", which uniem does not read");
  kind_ = t[1];
  item_ = static_cast<size_t>(std::stoi(t.substr(2)));
  chunk_.swap = t[0] == '>' && item_ > 1;
  if (kind_ == 'u' && (item_ == 1 || item_ == 2 || item_ == 4 || item_ == 8))
    dtype_ = item_ == 1 ? DType::u8 : item_ == 2 ? DType::u16 : item_ == 4 ? DType::u32 : DType::u64;
  else if (kind_ == 'b' && item_ == 1) dtype_ = DType::u8;
  else if (kind_ == 'f' && (item_ == 4 || item_ == 8)) dtype_ = DType::f32;
  else if (kind_ == 'i')
    throw InputError(file, "holds signed integers (\"" + t + "\"); uniem reads unsigned integers and floats: save it as unsigned (uint8, uint16, uint32) or float32");
  else throw InputError(file, "has the data type \"" + t + "\", which uniem does not read");
  if (z.value("order", "C") != "C") throw InputError(file, "is in Fortran order (\"order\": \"F\"); uniem reads C order");
  if (z.contains("filters") && !z["filters"].is_null() && !(z["filters"].is_array() && z["filters"].empty()))
    throw InputError(file, "uses filters (" + z["filters"].dump() + "), which uniem does not read");
  if (z.contains("compressor") && !z["compressor"].is_null()) {
    const json& c = z["compressor"];
    const std::string id = c.is_object() && c.contains("id") && c["id"].is_string() ? c["id"].get<std::string>() : "";
    if (!zarr_codec_known(id))
      throw InputError(file, "is compressed with \"" + id + "\"; uniem reads uncompressed, zlib, gzip, blosc, zstd and lz4 chunks: save it with one of those");
    chunk_.codecs = {id};
  }
  if (z.contains("fill_value") && z["fill_value"].is_number()) fill_ = z["fill_value"].get<double>();
  else if (z.contains("fill_value") && z["fill_value"] == "NaN") fill_ = std::numeric_limits<double>::quiet_NaN();
  else if (z.contains("fill_value") && z["fill_value"].is_boolean()) fill_ = z["fill_value"].get<bool>() ? 1 : 0;
  if (z.contains("dimension_separator") && z["dimension_separator"].is_string()) separator_ = z["dimension_separator"].get<std::string>();
  if (separator_ != "." && separator_ != "/") throw InputError(file, "has the dimension separator \"" + separator_ + "\" (\".\" or \"/\")");
}

void ZarrArray::read_v3(const fs::path& file) {
  metadata_ = file;
  version_ = 3;
  const json z = read_json(file);
  if (z.value("zarr_format", 0) != 3 || z.value("node_type", "") != "array")
    throw InputError(file, "is not the metadata of a Zarr version 3 array (\"zarr_format\": 3, \"node_type\": \"array\")");
  const auto shape = integers(z, file, "shape");
  shape_ = volume_shape(shape, file, leading_, planar_);
  const json grid = z.value("chunk_grid", json::object());
  if (grid.value("name", "") != "regular" || !grid.contains("configuration"))
    throw InputError(file, "has a chunk grid that is not \"regular\", which uniem does not read");
  const auto chunks = integers(grid["configuration"], file, "chunk_shape");
  if (chunks.size() != shape.size()) throw InputError(file, "has chunks of another rank than its shape");
  for (const int64_t c : chunks)
    if (c < 1) throw InputError(file, "has a chunk size of 0");

  static const std::map<std::string, std::pair<char, size_t>> types = {
      {"uint8", {'u', 1}}, {"uint16", {'u', 2}}, {"uint32", {'u', 4}}, {"uint64", {'u', 8}},
      {"float32", {'f', 4}}, {"float64", {'f', 8}}, {"bool", {'b', 1}}};
  const std::string t = z.contains("data_type") && z["data_type"].is_string() ? z["data_type"].get<std::string>() : "";
  const auto it = types.find(t);
  if (t.starts_with("int"))
    throw InputError(file, "holds signed integers (" + t + "); uniem reads unsigned integers and floats: save it as uint8, uint16, uint32 or float32");
  if (it == types.end()) throw InputError(file, "has the data type \"" + t + "\", which uniem does not read");
  kind_ = it->second.first;
  item_ = it->second.second;
  dtype_ = kind_ == 'f' ? DType::f32 : item_ == 1 ? DType::u8 : item_ == 2 ? DType::u16 : item_ == 4 ? DType::u32 : DType::u64;

  const json keys = z.value("chunk_key_encoding", json{{"name", "default"}});
  const std::string encoding = keys.value("name", "default");
  if (encoding != "default" && encoding != "v2") throw InputError(file, "has the chunk key encoding \"" + encoding + "\", which uniem does not read");
  key_prefix_ = encoding == "default" ? "c" : "";
  separator_ = keys.value("configuration", json::object()).value("separator", encoding == "default" ? "/" : ".");
  if (separator_ != "." && separator_ != "/") throw InputError(file, "has the chunk key separator \"" + separator_ + "\" (\".\" or \"/\")");
  const json fill = z.value("fill_value", json(0));
  fill_ = fill.is_number() ? fill.get<double>() : fill.is_boolean() ? (fill.get<bool>() ? 1 : 0)
        : fill == "NaN" ? std::numeric_limits<double>::quiet_NaN() : 0;
  if (z.contains("storage_transformers") && z["storage_transformers"].is_array() && !z["storage_transformers"].empty())
    throw InputError(file, "uses storage transformers, which uniem does not read");

  json sharding;
  chunk_ = pipeline(z.value("codecs", json()), chunks, file, &sharding);
  sharded_ = sharding.is_object();
  if (sharded_) {
    const auto inner = integers(sharding, file, "chunk_shape");
    if (inner.size() != chunks.size()) throw InputError(file, "has inner chunks of another rank than its shards");
    for (size_t i = 0; i < inner.size(); ++i)
      if (inner[i] < 1 || chunks[i] % inner[i] != 0) throw InputError(file, "has shards that its inner chunks do not tile");
    inner_ = pipeline(sharding.value("codecs", json()), inner, file, nullptr);
    std::vector<int64_t> index_dims;
    for (size_t i = 0; i < inner.size(); ++i) index_dims.push_back(chunks[i] / inner[i]);
    index_dims.push_back(2);
    index_ = pipeline(sharding.value("index_codecs", json()), index_dims, file, nullptr);
    index_at_end_ = sharding.value("index_location", "end") != "start";
  }
}

void ZarrArray::read_n5(const fs::path& file) {
  metadata_ = file;
  version_ = 0;
  const json a = read_json(file);
  if (!a.contains("dimensions")) {
    std::string datasets;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(file.parent_path(), ec))
      if (e.is_directory(ec) && fs::exists(e.path() / "attributes.json", ec)) datasets += (datasets.empty() ? "" : ", ") + e.path().filename().string();
    throw InputError(file.parent_path(), "is an N5 container, not a dataset: give the dataset in it" +
                                             (datasets.empty() ? std::string() : " (" + datasets + ")"));
  }
  // N5 lists axes fastest first (x, y, z): reversed, they are the C order of the volume.
  auto shape = integers(a, file, "dimensions"), blocks = integers(a, file, "blockSize");
  if (blocks.size() != shape.size()) throw InputError(file, "has blocks of another rank than its dimensions");
  for (const int64_t b : blocks)
    if (b < 1) throw InputError(file, "has a block size of 0");
  std::reverse(shape.begin(), shape.end());
  std::reverse(blocks.begin(), blocks.end());
  shape_ = volume_shape(shape, file, leading_, planar_);
  chunk_ = shaped(blocks);
  static const std::map<std::string, std::pair<char, size_t>> types = {
      {"uint8", {'u', 1}}, {"uint16", {'u', 2}}, {"uint32", {'u', 4}}, {"uint64", {'u', 8}}, {"float32", {'f', 4}}, {"float64", {'f', 8}}};
  const std::string t = a.contains("dataType") && a["dataType"].is_string() ? a["dataType"].get<std::string>() : "";
  if (t.starts_with("int"))
    throw InputError(file, "holds signed integers (" + t + "); uniem reads unsigned integers and floats: save it as uint8, uint16, uint32 or float32");
  const auto it = types.find(t);
  if (it == types.end()) throw InputError(file, "has the data type \"" + t + "\", which uniem does not read");
  kind_ = it->second.first;
  item_ = it->second.second;
  dtype_ = kind_ == 'f' ? DType::f32 : item_ == 1 ? DType::u8 : item_ == 2 ? DType::u16 : item_ == 4 ? DType::u32 : DType::u64;
  chunk_.swap = item_ > 1;  // N5 blocks are big-endian
  const json c = a.value("compression", json{{"type", "raw"}});
  const std::string type = c.is_object() ? c.value("type", "raw") : "";
  if (type == "gzip") chunk_.codecs = {c.value("useZlib", false) ? "zlib" : "gzip"};
  else if (type == "blosc" || type == "zstd") chunk_.codecs = {type};
  else if (type != "raw")
    throw InputError(file, "is compressed with \"" + type + "\"; uniem reads raw, gzip, zlib, blosc and zstd N5 blocks: save it with one of those");
  separator_ = "/";
}

void ZarrArray::read_n5_block(Volume& v, int64_t z0, const std::array<int64_t, 3>& block) const {
  const std::array<int64_t, 3> origin{block[0] * chunk_.shape[0], block[1] * chunk_.shape[1], block[2] * chunk_.shape[2]};
  std::string name = std::to_string(block[2]) + "/" + std::to_string(block[1]);  // fastest axis first
  if (!planar_) name += "/" + std::to_string(block[0]);
  for (int i = 0; i < leading_; ++i) name += "/0";
  const fs::path file = array_ / name;
  std::error_code ec;
  if (!fs::exists(file, ec)) return fill(v, z0, origin, chunk_.shape);  // never written: zero
  std::string bytes = read_bytes(file);
  const auto u16 = [&](size_t at) { return static_cast<uint32_t>(static_cast<uint8_t>(bytes[at]) << 8 | static_cast<uint8_t>(bytes[at + 1])); };
  const auto u32 = [&](size_t at) { return u16(at) << 16 | u16(at + 2); };
  const size_t rank = static_cast<size_t>(leading_) + (planar_ ? 2 : 3);
  if (bytes.size() < 4 || u16(2) != rank || bytes.size() < 4 + 4 * rank + (u16(0) == 1 ? 4 : 0))
    throw InputError(file, "does not start with an N5 block header of " + std::to_string(rank) + " dimensions: truncated or damaged");
  // The block's own size (an edge block may be smaller than blockSize), fastest axis first.
  std::vector<int64_t> dims;
  for (size_t i = 0; i < rank; ++i) dims.push_back(u32(4 + 4 * i));
  std::reverse(dims.begin(), dims.end());
  Encoding e = shaped(dims);
  e.codecs = chunk_.codecs;
  e.swap = chunk_.swap;
  const size_t header = 4 + 4 * rank + (u16(0) == 1 ? 4 : 0);
  place(v, z0, decoded(e, bytes.substr(header), file, static_cast<size_t>(elements(e)) * item_), e, origin);
}

std::string ZarrArray::describe() const {
  return kind_text_ + (version_ ? ", Zarr " + std::to_string(version_) : std::string()) + ", " +
         (sharded_ ? "shards " : version_ ? "chunks " : "blocks ") + shape_text(chunk_.shape) +
         ", " + codec_text_;
}

std::string ZarrArray::key(const std::array<int64_t, 3>& chunk) const {
  std::string name = key_prefix_;
  const auto add = [&](int64_t i) { name += (name.empty() ? "" : separator_) + std::to_string(i); };
  for (int i = 0; i < leading_; ++i) add(0);
  if (!planar_) add(chunk[0]);
  add(chunk[1]);
  add(chunk[2]);
  return name;
}

std::string ZarrArray::decoded(const Encoding& e, std::string stored, const fs::path& file, size_t expected) const {
  std::string out;
  for (auto c = e.codecs.rbegin(); c != e.codecs.rend(); ++c) {
    if (*c == "crc32c") {
      if (stored.size() < 4) throw InputError(file, "is too short for its CRC-32C checksum: truncated");
      uint32_t sum = 0;
      for (int i = 0; i < 4; ++i) sum |= static_cast<uint32_t>(static_cast<uint8_t>(stored[stored.size() - 4 + i])) << (8 * i);
      stored.resize(stored.size() - 4);
      if (crc32c(stored.data(), stored.size()) != sum) throw InputError(file, "fails its CRC-32C checksum: damaged");
    } else {
      zarr_decode(*c, stored, expected, out, file);
      stored.swap(out);
    }
  }
  if (stored.size() != expected)
    throw InputError(file, "holds " + std::to_string(stored.size()) + " bytes, not the " + std::to_string(expected) +
                               " of a chunk of this array: truncated or damaged");
  return stored;
}

void ZarrArray::place(Volume& v, int64_t z0, const std::string& bytes, const Encoding& e, const std::array<int64_t, 3>& origin) const {
  const int64_t za = std::max(z0, origin[0]), zb = std::min(z0 + v.nz(), origin[0] + e.shape[0]);
  const int64_t yb = std::min(ny(), origin[1] + e.shape[1]), xb = std::min(nx(), origin[2] + e.shape[2]);
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  visit_dtype(dtype_, [&](auto tag) {
    using T = decltype(tag);
    for (int64_t z = za; z < zb; ++z)
      for (int64_t y = origin[1]; y < yb; ++y) {
        const int64_t offset = ((z - origin[0]) * e.shape[1] + (y - origin[1])) * e.shape[2];
        convert<T>(data + static_cast<size_t>(offset) * item_, kind_, item_, e.swap, xb - origin[2], &v.at<T>(z - z0, y, origin[2]));
      }
  });
}

void ZarrArray::fill(Volume& v, int64_t z0, const std::array<int64_t, 3>& origin, const std::array<int64_t, 3>& shape) const {
  const int64_t za = std::max(z0, origin[0]), zb = std::min(z0 + v.nz(), origin[0] + shape[0]);
  const int64_t yb = std::min(ny(), origin[1] + shape[1]), xb = std::min(nx(), origin[2] + shape[2]);
  if (za >= zb || origin[1] >= yb || origin[2] >= xb) return;
  visit_dtype(dtype_, [&](auto tag) { fill_box<decltype(tag)>(v, za - z0, zb - z0, origin[1], yb, origin[2], xb, fill_); });
}

void ZarrArray::read_shard(Volume& v, int64_t z0, int64_t z1, const std::array<int64_t, 3>& shard) const {
  const std::array<int64_t, 3> origin{shard[0] * chunk_.shape[0], shard[1] * chunk_.shape[1], shard[2] * chunk_.shape[2]};
  const fs::path file = array_ / key(shard);
  std::error_code ec;
  if (!fs::exists(file, ec)) return fill(v, z0, origin, chunk_.shape);
  const std::array<int64_t, 3> n{chunk_.shape[0] / inner_.shape[0], chunk_.shape[1] / inner_.shape[1], chunk_.shape[2] / inner_.shape[2]};
  const size_t entries = static_cast<size_t>(elements(index_));  // (offset, length) per inner chunk
  size_t index_bytes = entries * 8;
  for (const auto& c : index_.codecs) index_bytes += c == "crc32c" ? 4 : 0;
  const uint64_t size = fs::file_size(file, ec);
  if (ec || size < index_bytes) throw InputError(file, "is shorter than its shard index (" + std::to_string(index_bytes) + " bytes): truncated");
  const std::string index = decoded(index_, read_bytes(file, index_at_end_ ? size - index_bytes : 0, static_cast<int64_t>(index_bytes)), file, entries * 8);
  const auto* entry = reinterpret_cast<const uint8_t*>(index.data());
  const size_t inner_bytes = static_cast<size_t>(elements(inner_)) * item_;
  for (int64_t iz = 0; iz < n[0]; ++iz) {
    const int64_t oz = origin[0] + iz * inner_.shape[0];
    if (oz >= z1 || oz + inner_.shape[0] <= z0 || oz >= nz()) continue;
    for (int64_t iy = 0; iy < n[1] && origin[1] + iy * inner_.shape[1] < ny(); ++iy)
      for (int64_t ix = 0; ix < n[2] && origin[2] + ix * inner_.shape[2] < nx(); ++ix) {
        const std::array<int64_t, 3> at{oz, origin[1] + iy * inner_.shape[1], origin[2] + ix * inner_.shape[2]};
        const size_t i = static_cast<size_t>((iz * n[1] + iy) * n[2] + ix);
        const uint64_t offset = load<uint64_t>(entry + 16 * i, index_.swap), length = load<uint64_t>(entry + 16 * i + 8, index_.swap);
        if (offset == UINT64_MAX && length == UINT64_MAX) {  // never written: the fill value
          fill(v, z0, at, inner_.shape);
          continue;
        }
        if (offset > size || length > size - offset)
          throw InputError(file, "has an index that points outside the shard (inner chunk " + std::to_string(i) + " at bytes " +
                                     std::to_string(offset) + " + " + std::to_string(length) + ", the file has " + std::to_string(size) + ")");
        place(v, z0, decoded(inner_, read_bytes(file, offset, static_cast<int64_t>(length)), file, inner_bytes), inner_, at);
      }
  }
}

Volume ZarrArray::read(int64_t z0, int64_t z1) const {
  z1 = std::min(z1, nz());
  if (z1 <= z0) return Volume();
  check_sections_budget(array_, z1 - z0, "read a smaller array (a coarser level of the pyramid)");
  Volume v = Volume::uninitialized(dtype_, z1 - z0, ny(), nx());
  v.voxel_size = voxel_size_;
  std::vector<std::array<int64_t, 3>> keys;
  for (int64_t cz = z0 / chunk_.shape[0]; cz * chunk_.shape[0] < z1; ++cz)
    for (int64_t cy = 0; cy * chunk_.shape[1] < ny(); ++cy)
      for (int64_t cx = 0; cx * chunk_.shape[2] < nx(); ++cx) keys.push_back({cz, cy, cx});
  const size_t chunk_bytes = static_cast<size_t>(elements(chunk_)) * item_;
  Progress progress("reading " + array_.filename().string(), static_cast<int64_t>(keys.size()));
  parallel_for(0, static_cast<int64_t>(keys.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const auto& c = keys[static_cast<size_t>(k)];
      if (sharded_) {
        read_shard(v, z0, z1, c);
      } else if (version_ == 0) {
        read_n5_block(v, z0, c);
      } else {
        const std::array<int64_t, 3> origin{c[0] * chunk_.shape[0], c[1] * chunk_.shape[1], c[2] * chunk_.shape[2]};
        const fs::path file = array_ / key(c);
        std::error_code ec;
        if (!fs::exists(file, ec)) fill(v, z0, origin, chunk_.shape);  // never written: the fill value
        else place(v, z0, decoded(chunk_, read_bytes(file), file, chunk_bytes), chunk_, origin);
      }
      progress.advance();
    }
  });
  return v;
}

}  // namespace uniem
