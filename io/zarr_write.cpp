// Writing OME-Zarr images with their pyramid, as Zarr 2 (OME-Zarr 0.4) or Zarr 3 with shards
// (OME-Zarr 0.5) (io/zarr.h).
#include <libdeflate.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/progress.h"
#include "core/threads.h"
#include "io/atomic_output.h"
#include "io/crc32c.h"
#include "io/pyramid.h"
#include "io/zarr.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem {
namespace {

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

// The box of `v` at `origin` (z, y, x) of `shape`, in C order into `raw`, zero beyond v's edges
// and beyond section `z_end`.
void extract(const Volume& v, const std::array<int64_t, 3>& origin, const std::array<int64_t, 3>& shape, std::string& raw, int64_t z_end) {
  const size_t item = dtype_size(v.dtype());
  raw.assign(static_cast<size_t>(shape[0] * shape[1] * shape[2]) * item, '\0');  // edges padded with the fill value
  const int64_t w = std::min(shape[2], v.nx() - origin[2]);
  for (int64_t z = 0; z < shape[0] && origin[0] + z < z_end; ++z)
    for (int64_t y = 0; y < shape[1] && origin[1] + y < v.ny(); ++y) {
      const std::byte* row = v.raw_slice(origin[0] + z) + static_cast<size_t>((origin[1] + y) * v.nx() + origin[2]) * item;
      std::memcpy(raw.data() + static_cast<size_t>((z * shape[1] + y) * shape[2]) * item, row, static_cast<size_t>(w) * item);
    }
}

// The boxes of `box` shape over a level's sections [z0, z1) (z0 a multiple of box[0]) of `slab`
// (y and x whole), with the folders their keys need made ("a/b/c": a/b).
std::vector<std::array<int64_t, 3>> grid(const Volume& slab, int64_t z0, int64_t z1, const std::array<int64_t, 3>& box, const fs::path& keys) {
  std::vector<std::array<int64_t, 3>> out;
  for (int64_t cz = z0 / box[0]; cz * box[0] < z1; ++cz)
    for (int64_t cy = 0; cy * box[1] < slab.ny(); ++cy) {
      fs::create_directories(keys / std::to_string(cz) / std::to_string(cy));
      for (int64_t cx = 0; cx * box[2] < slab.nx(); ++cx) out.push_back({cz, cy, cx});
    }
  return out;
}

fs::path key_file(const fs::path& keys, const std::array<int64_t, 3>& c) {
  return keys / std::to_string(c[0]) / std::to_string(c[1]) / std::to_string(c[2]);
}

using Shape = std::array<int64_t, 3>;

// Zarr 2: chunks of 32 x 256 x 256 at most, zlib level 1.
Shape chunks_v2(const Shape& n) { return {std::min<int64_t>(n[0], 32), std::min<int64_t>(n[1], 256), std::min<int64_t>(n[2], 256)}; }

// Zarr 3: shards of up to 2 x 4 x 4 inner chunks of 32 x 128 x 128 at most, each zstd level 3,
// the shard's index (offset and length per inner chunk, CRC-32C) at its end.
Shape inner_shape(const Shape& n) { return {std::min<int64_t>(n[0], 32), std::min<int64_t>(n[1], 128), std::min<int64_t>(n[2], 128)}; }
Shape shard_shape(const Shape& n) {
  const auto in = inner_shape(n);
  const Shape most{2, 4, 4};
  Shape s{};
  for (size_t i = 0; i < 3; ++i) s[i] = in[i] * std::min(most[i], (n[i] + in[i] - 1) / in[i]);
  return s;
}

void write_metadata_v2(const fs::path& folder, const Shape& n, DType t) {
  const auto chunks = chunks_v2(n);
  fs::create_directories(folder);
  const json meta = {{"zarr_format", 2},
                     {"shape", {n[0], n[1], n[2]}},
                     {"chunks", {chunks[0], chunks[1], chunks[2]}},
                     {"dtype", zarr_type(t)},
                     {"compressor", {{"id", "zlib"}, {"level", 1}}},
                     {"fill_value", 0},
                     {"order", "C"},
                     {"filters", nullptr},
                     {"dimension_separator", "/"}};
  write_file(folder / ".zarray", meta.dump(2) + "\n");
}

void write_metadata_v3(const fs::path& folder, const Shape& n, DType t) {
  const auto inner = inner_shape(n), shard = shard_shape(n);
  const json le = {{"name", "bytes"}, {"configuration", {{"endian", "little"}}}};
  const json sharding = {{"name", "sharding_indexed"},
                         {"configuration", {{"chunk_shape", {inner[0], inner[1], inner[2]}},
                                            {"codecs", json::array({le, {{"name", "zstd"}, {"configuration", {{"level", 3}, {"checksum", false}}}}})},
                                            {"index_codecs", json::array({le, {{"name", "crc32c"}}})},
                                            {"index_location", "end"}}}};
  const json meta = {{"zarr_format", 3}, {"node_type", "array"}, {"shape", {n[0], n[1], n[2]}}, {"data_type", dtype_name(t)},
                     {"chunk_grid", {{"name", "regular"}, {"configuration", {{"chunk_shape", {shard[0], shard[1], shard[2]}}}}}},
                     {"chunk_key_encoding", {{"name", "default"}, {"configuration", {{"separator", "/"}}}}},
                     {"fill_value", 0}, {"codecs", json::array({sharding})}, {"dimension_names", {"z", "y", "x"}},
                     {"attributes", json::object()}};
  fs::create_directories(folder);
  write_file(folder / "zarr.json", meta.dump(2) + "\n");
}

// The chunks of a level's sections [z0, z1) (z0 a multiple of the chunks' depth), held by `slab`
// from its section `first` on.
void write_chunks_v2(const fs::path& folder, const Shape& n, const Volume& slab, int64_t first, int64_t z0, int64_t z1, Progress& progress) {
  const auto chunks = chunks_v2(n);
  const auto keys = grid(slab, z0, z1, chunks, folder);
  parallel_for(0, static_cast<int64_t>(keys.size()), 1, [&](int64_t b, int64_t e) {
    std::string raw, packed;
    // libdeflate writes the zlib format 2-3 times faster than zlib itself at the same level.
    const std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> deflater(libdeflate_alloc_compressor(1),
                                                                                                  &libdeflate_free_compressor);
    if (!deflater) throw Error("libdeflate: out of memory");
    for (int64_t k = b; k < e; ++k) {
      const auto& c = keys[static_cast<size_t>(k)];
      extract(slab, {c[0] * chunks[0] - z0 + first, c[1] * chunks[1], c[2] * chunks[2]}, chunks, raw, z1 - z0 + first);
      packed.resize(libdeflate_zlib_compress_bound(deflater.get(), raw.size()));
      const size_t size = libdeflate_zlib_compress(deflater.get(), raw.data(), raw.size(), packed.data(), packed.size());
      if (size == 0) throw Error("libdeflate could not compress a chunk");
      packed.resize(size);
      write_file(key_file(folder, c), packed);
      progress.advance();
    }
  });
}

// The shards of a level's sections [z0, z1) (z0 a multiple of the shards' depth), held by `slab`
// from its section `first` on.
void write_shards_v3(const fs::path& folder, const Shape& n, const Volume& slab, int64_t first, int64_t z0, int64_t z1, Progress& progress) {
  const auto inner = inner_shape(n), shard = shard_shape(n);
  const auto keys = grid(slab, z0, z1, shard, folder / "c");
  parallel_for(0, static_cast<int64_t>(keys.size()), 1, [&](int64_t b, int64_t e) {
    std::string raw, packed, file, index;
    for (int64_t k = b; k < e; ++k) {
      const auto& c = keys[static_cast<size_t>(k)];
      file.clear();
      index.clear();
      const auto put = [&index](uint64_t value) {
        for (int i = 0; i < 8; ++i) index += static_cast<char>((value >> (8 * i)) & 0xff);
      };
      for (int64_t iz = 0; iz < shard[0] / inner[0]; ++iz)
        for (int64_t iy = 0; iy < shard[1] / inner[1]; ++iy)
          for (int64_t ix = 0; ix < shard[2] / inner[2]; ++ix) {
            const Shape at{c[0] * shard[0] + iz * inner[0], c[1] * shard[1] + iy * inner[1], c[2] * shard[2] + ix * inner[2]};
            if (at[0] >= n[0] || at[1] >= n[1] || at[2] >= n[2]) {  // past the edge: an empty inner chunk
              put(UINT64_MAX);
              put(UINT64_MAX);
              continue;
            }
            extract(slab, {at[0] - z0 + first, at[1], at[2]}, inner, raw, z1 - z0 + first);
            packed.resize(ZSTD_compressBound(raw.size()));
            const size_t size = ZSTD_compress(packed.data(), packed.size(), raw.data(), raw.size(), 3);
            if (ZSTD_isError(size)) throw Error(std::string("zstd could not compress a chunk: ") + ZSTD_getErrorName(size));
            put(file.size());
            put(size);
            file.append(packed.data(), size);
          }
      const uint32_t sum = crc32c(index.data(), index.size());
      for (int i = 0; i < 4; ++i) index += static_cast<char>((sum >> (8 * i)) & 0xff);
      write_file(key_file(folder / "c", c), file + index);
      progress.advance();
    }
  });
}


}  // namespace

OmeZarrWriter::OmeZarrWriter(const fs::path& folder, const Volume& like, int64_t nz, bool labels, int version)
    : folder_(folder), labels_(labels), version_(version) {
  if (like.channels() != 1) throw InputError(folder, "OME-Zarr is written for one channel; write a colour volume as TIFF");
  plan_ = pyramid_plan({nz, like.ny(), like.nx()}, like.voxel_size);
  std::vector<int64_t> depths;
  int64_t files = 0;
  for (size_t i = 0; i < plan_.size(); ++i) {
    const Shape& n = plan_[i].shape;
    const Shape box = version == 3 ? shard_shape(n) : chunks_v2(n);
    depths.push_back(box[0]);  // whole chunk (or shard) rows
    files += ((n[0] + box[0] - 1) / box[0]) * ((n[1] + box[1] - 1) / box[1]) * ((n[2] + box[2] - 1) / box[2]);
    if (version == 3) write_metadata_v3(folder / std::to_string(i), n, like.dtype());
    else write_metadata_v2(folder / std::to_string(i), n, like.dtype());
  }
  progress_ = std::make_unique<Progress>("writing " + folder.filename().string(), files);
  voxel_size_known_ = like.voxel_size.known;
  stream_ = std::make_unique<PyramidStream>(plan_, depths, labels, [this](size_t level, const Volume& held, int64_t count, int64_t z0) {
    const fs::path f = folder_ / std::to_string(level);
    if (version_ == 3) write_shards_v3(f, plan_[level].shape, held, 0, z0, z0 + count, *progress_);
    else write_chunks_v2(f, plan_[level].shape, held, 0, z0, z0 + count, *progress_);
  });
}

OmeZarrWriter::~OmeZarrWriter() = default;

void OmeZarrWriter::append(const Volume& sections) { stream_->append(sections); }

void OmeZarrWriter::finish() {
  stream_->finish();
  json axes = json::array(), datasets = json::array();
  for (const char* a : {"z", "y", "x"}) {
    json axis = {{"name", a}, {"type", "space"}};
    if (voxel_size_known_) axis["unit"] = "nanometer";
    axes.push_back(axis);
  }
  for (size_t i = 0; i < plan_.size(); ++i) {
    const auto& scale = plan_[i].scale;
    datasets.push_back({{"path", std::to_string(i)},
                        {"coordinateTransformations", {{{"type", "scale"}, {"scale", {scale[0], scale[1], scale[2]}}}}}});
  }
  // The image's name: its folder's, without the temporary suffix an atomic output writes under.
  std::string name = folder_.filename().string();
  if (const size_t tmp = name.rfind(".tmp-"); tmp != std::string::npos) name.erase(tmp);
  json multiscale = {{"name", name},
                     {"axes", axes},
                     {"datasets", datasets},
                     {"type", labels_ ? "mode" : "mean"},
                     {"metadata", {{"description", labels_ ? "each coarser level: the most frequent id of 2 x 2 (x 2) voxels"
                                                           : "each coarser level: the mean of 2 x 2 (x 2) voxels"},
                                   {"written_by", "uniem"}}}};
  if (version_ == 3) {  // OME-Zarr 0.5: the version once, for the image, in zarr.json's attributes
    const json ome = {{"version", "0.5"}, {"multiscales", json::array({multiscale})}};
    write_file(folder_ / "zarr.json", json{{"zarr_format", 3}, {"node_type", "group"}, {"attributes", {{"ome", ome}}}}.dump(2) + "\n");
    return;
  }
  multiscale["version"] = "0.4";
  write_file(folder_ / ".zgroup", json{{"zarr_format", 2}}.dump() + "\n");
  write_file(folder_ / ".zattrs", json{{"multiscales", json::array({multiscale})}}.dump(2) + "\n");
}

void write_ome_zarr(const fs::path& folder, const Volume& v, bool labels, int version) {
  OmeZarrWriter writer(folder, v, v.nz(), labels, version);
  writer.append(v);
  writer.finish();
}

}  // namespace uniem
