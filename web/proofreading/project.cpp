#include "web/proofreading/project.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "core/error.h"
#include "core/image/convert.h"
#include "core/image/statistics.h"
#include "core/progress.h"
#include "core/threads.h"
#include "io/atomic_output.h"
#include "io/png.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::web {
namespace {

constexpr int format_version = 1;
constexpr size_t png_cache_entries = 512;
// Decoded tiles kept for the cuts across the sections: a cut of a 100 x 1024 x 1024 stack meets
// 200 tiles of 512 x 512, read in 130-230 ms (two busy cores); kept, the next cut through the
// same tiles is served in 1-9 ms.
constexpr int64_t tile_cache_bytes = int64_t{256} << 20;

std::array<int64_t, 2> halved(std::array<int64_t, 2> s, int level) {
  for (int l = 0; l < level; ++l) s = {(s[0] + 1) / 2, (s[1] + 1) / 2};
  return s;
}

// Mean of 2 x 2 blocks (edge pixels of odd sizes stand alone).
template <class T>
Volume downsample(const Volume& src) {
  const int64_t ny = (src.ny() + 1) / 2, nx = (src.nx() + 1) / 2;
  Volume dst(src.dtype(), 1, ny, nx);
  for (int64_t y = 0; y < ny; ++y)
    for (int64_t x = 0; x < nx; ++x) {
      double sum = 0;
      int n = 0;
      for (int64_t dy = 0; dy < 2; ++dy)
        for (int64_t dx = 0; dx < 2; ++dx)
          if (2 * y + dy < src.ny() && 2 * x + dx < src.nx()) {
            sum += src.at<T>(0, 2 * y + dy, 2 * x + dx);
            ++n;
          }
      dst.at<T>(0, y, x) = static_cast<T>(std::lround(sum / n));
    }
  return dst;
}

void copy_box(const Volume& src, std::array<int64_t, 3> src_origin, Volume& dst, std::array<int64_t, 3> dst_origin,
              std::array<int64_t, 3> size) {
  const size_t e = dtype_size(src.dtype());
  for (int64_t z = 0; z < size[0]; ++z)
    for (int64_t y = 0; y < size[1]; ++y)
      std::memcpy(dst.raw() + static_cast<size_t>(((dst_origin[0] + z) * dst.ny() + dst_origin[1] + y) * dst.nx() + dst_origin[2]) * e,
                  src.raw() + static_cast<size_t>(((src_origin[0] + z) * src.ny() + src_origin[1] + y) * src.nx() + src_origin[2]) * e,
                  static_cast<size_t>(size[2]) * e);
}

std::array<int64_t, 3> read_triple(const json& j, const char* key) {
  return j.at(key).get<std::array<int64_t, 3>>();
}

}  // namespace

json ProjectInfo::to_json() const {
  return json{{"format", "uniem-project"},
              {"version", format_version},
              {"shape", shape},
              {"voxel_size", {voxel_size.z, voxel_size.y, voxel_size.x}},
              {"voxel_size_known", voxel_size.known},
              {"image_type", dtype_name(image_dtype)},
              {"window", window},
              {"levels", levels},
              {"label_chunk", label_chunk},
              {"image_tile", image_tile}};
}

namespace {

// Nearest-rank percentile of a histogram of n values (core/image/statistics.h's definition).
double percentile(const std::vector<int64_t>& counts, int64_t n, double q) {
  const int64_t rank = std::clamp(static_cast<int64_t>(std::ceil(q * static_cast<double>(n))) - 1, int64_t{0}, n - 1);
  int64_t seen = 0;
  for (size_t v = 0; v < counts.size(); ++v) {
    seen += counts[v];
    if (seen > rank) return static_cast<double>(v);
  }
  return static_cast<double>(counts.size() - 1);
}

// Reads `count` sections from a source, checking that they come as announced.
Volume take(const ImportSource& source, int64_t count) {
  Volume v = source.next(count);
  UNIEM_CHECK(v.nz() == count && v.ny() == source.shape[1] && v.nx() == source.shape[2] && v.dtype() == source.dtype,
              "create_project: a source gave other sections than it announced");
  return v;
}

}  // namespace

ImportSource import_source(const Volume& v, const std::string& name) {
  auto next_z = std::make_shared<int64_t>(0);
  return ImportSource{name, v.dtype(), v.channels(), v.shape(), [&v, next_z](int64_t count) {
                        Volume slab = crop(v, {*next_z, 0, 0}, {count, v.ny(), v.nx()});
                        *next_z += count;
                        return slab;
                      }};
}

void create_project(const fs::path& folder, const ImportSource& image, const ImportSource* labels, const VoxelSize& voxel_size) {
  if (image.shape[0] < 1 || image.shape[1] < 1 || image.shape[2] < 1) throw InputError(image.name, "is empty");
  if ((image.dtype != DType::u8 && image.dtype != DType::u16) || image.channels != 1)
    throw InputError(image.name, std::string("is ") + dtype_name(image.dtype) + (image.channels > 1 ? " colour" : "") +
                                     "; the proofreader shows 8 or 16-bit grey EM (convert it with 'uniem convert --bits 8|16')");
  if (labels) {
    if (labels->shape != image.shape)
      throw InputError(labels->name, "has shape " + std::to_string(labels->shape[0]) + " x " + std::to_string(labels->shape[1]) +
                                         " x " + std::to_string(labels->shape[2]) + " but the images " + image.name + " are " +
                                         std::to_string(image.shape[0]) + " x " + std::to_string(image.shape[1]) + " x " +
                                         std::to_string(image.shape[2]));
    if (!dtype_is_integer(labels->dtype) || labels->channels != 1)
      throw InputError(labels->name, std::string("holds ") + dtype_name(labels->dtype) + " values; labels must be integers");
  }
  AtomicOutput out(folder, AtomicOutput::Kind::folder, false);
  const fs::path tmp = out.temporary();

  ProjectInfo info;
  info.shape = image.shape;
  info.voxel_size = voxel_size;
  info.image_dtype = image.dtype;
  while (std::max(halved({info.shape[1], info.shape[2]}, info.levels - 1)[0],
                  halved({info.shape[1], info.shape[2]}, info.levels - 1)[1]) > 512)
    ++info.levels;
  std::vector<ChunkStore> levels;
  for (int l = 0; l < info.levels; ++l) {
    fs::create_directories(tmp / "image" / std::to_string(l));
    const auto s = halved({info.shape[1], info.shape[2]}, l);
    levels.emplace_back(tmp / "image" / std::to_string(l), image.dtype, std::array<int64_t, 3>{info.shape[0], s[0], s[1]},
                        info.image_tile);
  }
  fs::create_directories(tmp / "labels");
  const ChunkStore label_store(tmp / "labels", DType::u32, info.shape, info.label_chunk);

  // One slab of label chunks at a time: the image pyramid section by section, the labels as uint32
  // chunks (all-zero ones left out: a missing chunk reads as zeros), the segment table, and for
  // 16-bit EM the histogram that gives the display window.
  std::map<uint32_t, std::pair<int64_t, std::set<int64_t>>> segments;
  uint32_t max_id = 0;
  std::vector<int64_t> histogram(image.dtype == DType::u16 ? 65536 : 0);
  const int64_t slab = info.label_chunk[0];
  Progress progress("importing", info.shape[0]);
  for (int64_t z0 = 0; z0 < info.shape[0]; z0 += slab) {
    const int64_t depth = std::min(slab, info.shape[0] - z0);
    const Volume picture = take(image, depth);
    for (int64_t z = 0; z < depth; ++z) {
      Volume section = crop(picture, {z, 0, 0}, {1, picture.ny(), picture.nx()});
      if (image.dtype == DType::u16)
        for (int64_t i = 0; i < section.voxels(); ++i) ++histogram[section.data<uint16_t>()[i]];
      for (int l = 0; l < info.levels; ++l) {
        if (l > 0) section = image.dtype == DType::u8 ? downsample<uint8_t>(section) : downsample<uint16_t>(section);
        const ChunkStore& store = levels[static_cast<size_t>(l)];
        for (int64_t cy = 0; cy < store.grid()[1]; ++cy)
          for (int64_t cx = 0; cx < store.grid()[2]; ++cx) {
            const int64_t i = store.index_of(z0 + z, cy, cx);
            const auto o = store.origin(i), e = store.extent(i);
            Volume tile(image.dtype, 1, e[1], e[2]);
            copy_box(section, {0, o[1], o[2]}, tile, {0, 0, 0}, e);
            store.write(i, tile, 1, false);
          }
      }
    }
    if (labels) {
      const Volume ids = take(*labels, depth);
      if (value_range(ids).max > 4294967295.0)
        throw InputError(labels->name, "has ids above 4294967295; renumber them with 'uniem convert --relabel'");
      const Volume l32 = convert_dtype(ids, DType::u32, DepthPolicy::exact);
      for (int64_t cy = 0; cy < label_store.grid()[1]; ++cy)
        for (int64_t cx = 0; cx < label_store.grid()[2]; ++cx) {
          const int64_t i = label_store.index_of(z0 / slab, cy, cx);
          const auto o = label_store.origin(i), e = label_store.extent(i);
          Volume chunk(DType::u32, e[0], e[1], e[2]);
          copy_box(l32, {0, o[1], o[2]}, chunk, {0, 0, 0}, e);
          bool any = false;
          const uint32_t* d = chunk.data<uint32_t>();
          for (int64_t k = 0; k < chunk.voxels(); ++k)
            if (d[k]) {
              any = true;
              auto& seg = segments[d[k]];
              ++seg.first;
              seg.second.insert(i);
              max_id = std::max(max_id, d[k]);
            }
          if (any) label_store.write(i, chunk, 1, false);
        }
    }
    progress.advance(depth);
  }
  if (image.dtype == DType::u16) {
    const int64_t n = info.shape[0] * info.shape[1] * info.shape[2];
    const double p1 = percentile(histogram, n, 0.01), p99 = percentile(histogram, n, 0.99);
    info.window = {p1, std::max(p99, p1 + 1)};
  }

  if (max_id == UINT32_MAX)
    throw InputError(labels->name, "holds the id 4294967295, the largest a label can have, which leaves no id for new "
                                   "segments; renumber the labels 1..N first with 'uniem convert LABELS OUT --relabel'");

  json seg = json::array();
  for (const auto& [id, s] : segments) seg.push_back({id, s.first, std::vector<int64_t>(s.second.begin(), s.second.end())});
  const json state{{"applied_seq", 0}, {"next_id", static_cast<int64_t>(max_id) + 1}, {"segments", seg},
                   {"values", json::object()}};
  fs::create_directories(tmp / "exports");
  write_file_durably(tmp / "state.json", state.dump());
  write_file_durably(tmp / "project.json", info.to_json().dump(2) + "\n");
  sync_all_written(tmp);  // a project that appears after a crash is whole
  out.commit();
  sync_folder(out.target().has_parent_path() ? out.target().parent_path() : fs::path("."));  // "p/" is "p"
}

void create_project(const fs::path& folder, const Volume& image, const Volume* labels, const std::string& image_name,
                    const std::string& labels_name) {
  const ImportSource image_source = import_source(image, image_name);
  if (!labels) return create_project(folder, image_source, nullptr, image.voxel_size);
  const ImportSource label_source = import_source(*labels, labels_name);
  create_project(folder, image_source, &label_source, image.voxel_size);
}

Project::Project(const fs::path& folder) : folder_(folder) {
  const fs::path file = folder / "project.json";
  std::ifstream in(file);
  if (!in) throw InputError(folder, "is not a uniem project (no project.json); make one with 'uniem serve --images STACK --project DIR'");
  try {
    const json j = json::parse(in);
    if (j.at("format") != "uniem-project") throw InputError(file, "is not a uniem project file");
    if (j.at("version").get<int>() != format_version)
      throw InputError(file, "is project format version " + std::to_string(j.at("version").get<int>()) +
                                 "; this uniem reads version " + std::to_string(format_version));
    info_.shape = read_triple(j, "shape");
    const auto vs = j.at("voxel_size").get<std::array<double, 3>>();
    info_.voxel_size = {vs[0], vs[1], vs[2], j.at("voxel_size_known").get<bool>()};
    const std::string type = j.at("image_type");
    if (type != "uint8" && type != "uint16") throw InputError(file, "has an image type other than uint8 or uint16");
    info_.image_dtype = type == "uint8" ? DType::u8 : DType::u16;
    info_.window = j.at("window").get<std::array<double, 2>>();
    info_.levels = j.at("levels").get<int>();
    info_.label_chunk = read_triple(j, "label_chunk");
    info_.image_tile = read_triple(j, "image_tile");
    for (int a = 0; a < 3; ++a)
      if (info_.shape[a] <= 0 || info_.label_chunk[a] <= 0 || info_.image_tile[a] <= 0)
        throw InputError(file, "has an empty shape or chunk");
    if (info_.levels < 1 || info_.levels > 20) throw InputError(file, "has an impossible number of pyramid levels");
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, std::string("is damaged: ") + e.what());
  }
  for (int l = 0; l < info_.levels; ++l) {
    const auto s = level_size(l);
    levels_.emplace_back(folder / "image" / std::to_string(l), info_.image_dtype,
                         std::array<int64_t, 3>{info_.shape[0], s[0], s[1]}, info_.image_tile);
  }
  labels_ = ChunkStore(folder / "labels", DType::u32, info_.shape, info_.label_chunk);
}

std::array<int64_t, 2> Project::level_size(int level) const { return halved({info_.shape[1], info_.shape[2]}, level); }

Volume Project::image_section(int64_t z, int level) const {
  UNIEM_CHECK(z >= 0 && z < info_.shape[0] && level >= 0 && level < info_.levels, "Project::image_section: out of range");
  const ChunkStore& store = levels_[static_cast<size_t>(level)];
  const auto s = level_size(level);
  Volume section(info_.image_dtype, 1, s[0], s[1]);
  section.voxel_size = info_.voxel_size;
  for (int64_t cy = 0; cy < store.grid()[1]; ++cy)
    for (int64_t cx = 0; cx < store.grid()[2]; ++cx) {
      const int64_t i = store.index_of(z / info_.image_tile[0], cy, cx);
      const auto o = store.origin(i), e = store.extent(i);
      const Volume tile = store.read(i);
      copy_box(tile, {z - o[0], 0, 0}, section, {0, o[1], o[2]}, {1, e[1], e[2]});
    }
  return section;
}

Volume Project::image_plane(const std::string& plane, int64_t at) const {
  const bool xz = plane == "xz";
  UNIEM_CHECK((xz || plane == "yz") && at >= 0 && at < info_.shape[xz ? 1 : 2], "Project::image_plane: out of range");
  const ChunkStore& store = levels_[0];
  const auto tile = info_.image_tile;
  const int64_t nz = info_.shape[0], n = info_.shape[xz ? 2 : 1], along = xz ? 2 : 1;
  Volume out(info_.image_dtype, 1, nz, n);
  out.voxel_size = info_.voxel_size;
  // One row (xz) or column (yz) of a tile per section; the tiles of different sections in parallel.
  const auto copy = [&](auto zero) {
    using T = decltype(zero);
    parallel_for(0, nz, 1, [&](int64_t z0, int64_t z1) {
      for (int64_t z = z0; z < z1; ++z)
        for (int64_t c = 0; c < store.grid()[along]; ++c) {
          const int64_t i = xz ? store.index_of(z / tile[0], at / tile[1], c) : store.index_of(z / tile[0], c, at / tile[2]);
          const auto o = store.origin(i), e = store.extent(i);
          const std::shared_ptr<const Volume> kept = image_tile(i);  // held while read: others may drop it
          const Volume& t = *kept;
          T* row = out.data<T>() + z * n + o[along];
          for (int64_t k = 0; k < e[along]; ++k)
            row[k] = xz ? t.at<T>(z - o[0], at - o[1], k) : t.at<T>(z - o[0], k, at - o[2]);
        }
    });
  };
  if (info_.image_dtype == DType::u8) copy(uint8_t{0});
  else copy(uint16_t{0});
  return out;
}

std::shared_ptr<const Volume> Project::image_tile(int64_t index) const {
  {
    std::lock_guard<std::mutex> lock(tiles_mutex_);
    const auto it = tile_at_.find(index);
    if (it != tile_at_.end()) {
      tiles_.splice(tiles_.begin(), tiles_, it->second);
      return it->second->second;
    }
  }
  auto tile = std::make_shared<const Volume>(levels_[0].read(index));
  std::lock_guard<std::mutex> lock(tiles_mutex_);
  if (tile_at_.count(index)) return tile;  // read by another thread meanwhile
  tiles_.emplace_front(index, tile);
  tile_at_[index] = tiles_.begin();
  tile_bytes_ += static_cast<int64_t>(tile->bytes());
  while (tile_bytes_ > tile_cache_bytes && tiles_.size() > 1) {
    tile_bytes_ -= static_cast<int64_t>(tiles_.back().second->bytes());
    tile_at_.erase(tiles_.back().first);
    tiles_.pop_back();
  }
  return tile;
}

std::string Project::image_png(int64_t z, int level, double lo, double hi) const {
  return windowed_png(std::to_string(z) + "/" + std::to_string(level), lo, hi, [&] { return image_section(z, level); });
}

std::string Project::image_plane_png(const std::string& plane, int64_t at, double lo, double hi) const {
  return windowed_png(plane + "/" + std::to_string(at), lo, hi, [&] { return image_plane(plane, at); });
}

std::string Project::windowed_png(const std::string& what, double lo, double hi, const std::function<Volume()>& read) const {
  const std::string key = what + "/" + std::to_string(lo) + "/" + std::to_string(hi);
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    for (auto it = cache_.begin(); it != cache_.end(); ++it)
      if (it->first == key) {
        cache_.splice(cache_.begin(), cache_, it);
        return it->second;
      }
  }
  const Volume section = read();
  Volume grey(DType::u8, 1, section.ny(), section.nx());
  const double scale = 255.0 / std::max(hi - lo, 1e-9);
  uint8_t lut[65536];
  const int64_t n = info_.image_dtype == DType::u8 ? 256 : 65536;
  for (int64_t v = 0; v < n; ++v)
    lut[v] = static_cast<uint8_t>(std::clamp(std::lround((static_cast<double>(v) - lo) * scale), 0L, 255L));
  uint8_t* d = grey.data<uint8_t>();
  if (info_.image_dtype == DType::u8) {
    const uint8_t* s = section.data<uint8_t>();
    for (int64_t i = 0; i < grey.voxels(); ++i) d[i] = lut[s[i]];
  } else {
    const uint16_t* s = section.data<uint16_t>();
    for (int64_t i = 0; i < grey.voxels(); ++i) d[i] = lut[s[i]];
  }
  std::string png = encode_png_for_display(grey, 0);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  cache_.emplace_front(key, png);
  if (cache_.size() > png_cache_entries) cache_.pop_back();
  return png;
}

}  // namespace uniem::web
