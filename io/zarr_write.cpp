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

// The box of `v` at `origin` (z, y, x) of `shape`, in C order into `raw`, zero beyond v's edges.
void extract(const Volume& v, const std::array<int64_t, 3>& origin, const std::array<int64_t, 3>& shape, std::string& raw) {
  const size_t item = dtype_size(v.dtype());
  raw.assign(static_cast<size_t>(shape[0] * shape[1] * shape[2]) * item, '\0');  // edges padded with the fill value
  const int64_t w = std::min(shape[2], v.nx() - origin[2]);
  for (int64_t z = 0; z < shape[0] && origin[0] + z < v.nz(); ++z)
    for (int64_t y = 0; y < shape[1] && origin[1] + y < v.ny(); ++y) {
      const std::byte* row = v.raw_slice(origin[0] + z) + static_cast<size_t>((origin[1] + y) * v.nx() + origin[2]) * item;
      std::memcpy(raw.data() + static_cast<size_t>((z * shape[1] + y) * shape[2]) * item, row, static_cast<size_t>(w) * item);
    }
}

// The grid of boxes of `shape` over `v`, with the folders their keys need made ("a/b/c": a/b).
std::vector<std::array<int64_t, 3>> grid(const Volume& v, const std::array<int64_t, 3>& shape, const fs::path& keys) {
  std::vector<std::array<int64_t, 3>> out;
  for (int64_t cz = 0; cz * shape[0] < v.nz(); ++cz)
    for (int64_t cy = 0; cy * shape[1] < v.ny(); ++cy) {
      fs::create_directories(keys / std::to_string(cz) / std::to_string(cy));
      for (int64_t cx = 0; cx * shape[2] < v.nx(); ++cx) out.push_back({cz, cy, cx});
    }
  return out;
}

fs::path key_file(const fs::path& keys, const std::array<int64_t, 3>& c) {
  return keys / std::to_string(c[0]) / std::to_string(c[1]) / std::to_string(c[2]);
}

// Zarr 2: chunks of 32 x 256 x 256 at most, zlib level 1.
void write_level_v2(const fs::path& folder, const Volume& v, Progress& progress) {
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
  const auto keys = grid(v, chunks, folder);
  parallel_for(0, static_cast<int64_t>(keys.size()), 1, [&](int64_t b, int64_t e) {
    std::string raw, packed;
    // libdeflate writes the zlib format 2-3 times faster than zlib itself at the same level.
    const std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> deflater(libdeflate_alloc_compressor(1),
                                                                                                  &libdeflate_free_compressor);
    if (!deflater) throw Error("libdeflate: out of memory");
    for (int64_t k = b; k < e; ++k) {
      const auto& c = keys[static_cast<size_t>(k)];
      extract(v, {c[0] * chunks[0], c[1] * chunks[1], c[2] * chunks[2]}, chunks, raw);
      packed.resize(libdeflate_zlib_compress_bound(deflater.get(), raw.size()));
      const size_t size = libdeflate_zlib_compress(deflater.get(), raw.data(), raw.size(), packed.data(), packed.size());
      if (size == 0) throw Error("libdeflate could not compress a chunk");
      packed.resize(size);
      write_file(key_file(folder, c), packed);
      progress.advance();
    }
  });
}

// Zarr 3: shards of up to 2 x 4 x 4 inner chunks of 32 x 128 x 128 at most, each zstd level 3,
// the shard's index (offset and length per inner chunk, CRC-32C) at its end.
std::array<int64_t, 3> inner_shape(const Volume& v) {
  return {std::min<int64_t>(v.nz(), 32), std::min<int64_t>(v.ny(), 128), std::min<int64_t>(v.nx(), 128)};
}
std::array<int64_t, 3> shard_shape(const Volume& v) {
  const auto in = inner_shape(v);
  const std::array<int64_t, 3> n{v.nz(), v.ny(), v.nx()}, most{2, 4, 4};
  std::array<int64_t, 3> s{};
  for (int i = 0; i < 3; ++i) s[static_cast<size_t>(i)] = in[static_cast<size_t>(i)] *
      std::min(most[static_cast<size_t>(i)], (n[static_cast<size_t>(i)] + in[static_cast<size_t>(i)] - 1) / in[static_cast<size_t>(i)]);
  return s;
}

void write_level_v3(const fs::path& folder, const Volume& v, Progress& progress) {
  const auto inner = inner_shape(v), shard = shard_shape(v);
  const json le = {{"name", "bytes"}, {"configuration", {{"endian", "little"}}}};
  const json sharding = {{"name", "sharding_indexed"},
                         {"configuration", {{"chunk_shape", {inner[0], inner[1], inner[2]}},
                                            {"codecs", json::array({le, {{"name", "zstd"}, {"configuration", {{"level", 3}, {"checksum", false}}}}})},
                                            {"index_codecs", json::array({le, {{"name", "crc32c"}}})},
                                            {"index_location", "end"}}}};
  std::string type = dtype_name(v.dtype());
  const json meta = {{"zarr_format", 3}, {"node_type", "array"}, {"shape", {v.nz(), v.ny(), v.nx()}}, {"data_type", type},
                     {"chunk_grid", {{"name", "regular"}, {"configuration", {{"chunk_shape", {shard[0], shard[1], shard[2]}}}}}},
                     {"chunk_key_encoding", {{"name", "default"}, {"configuration", {{"separator", "/"}}}}},
                     {"fill_value", 0}, {"codecs", json::array({sharding})}, {"dimension_names", {"z", "y", "x"}},
                     {"attributes", json::object()}};
  fs::create_directories(folder);
  write_file(folder / "zarr.json", meta.dump(2) + "\n");
  const auto keys = grid(v, shard, folder / "c");
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
            const std::array<int64_t, 3> at{c[0] * shard[0] + iz * inner[0], c[1] * shard[1] + iy * inner[1], c[2] * shard[2] + ix * inner[2]};
            if (at[0] >= v.nz() || at[1] >= v.ny() || at[2] >= v.nx()) {  // past the edge: an empty inner chunk
              put(UINT64_MAX);
              put(UINT64_MAX);
              continue;
            }
            extract(v, at, inner, raw);
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

void write_ome_zarr(const fs::path& folder, const Volume& v, bool labels, int version) {
  if (v.channels() != 1) throw InputError(folder, "OME-Zarr is written for one channel; write a colour volume as TIFF");
  const Pyramid pyramid = make_pyramid(v, labels);
  const std::vector<Volume>& levels = pyramid.levels;
  const auto& scales = pyramid.scales;
  int64_t files = 0;
  for (size_t i = 0; i <= levels.size(); ++i) {
    const Volume& l = i == 0 ? v : levels[i - 1];
    const std::array<int64_t, 3> s = version == 3 ? shard_shape(l) : std::array<int64_t, 3>{32, 256, 256};
    files += ((l.nz() + s[0] - 1) / s[0]) * ((l.ny() + s[1] - 1) / s[1]) * ((l.nx() + s[2] - 1) / s[2]);
  }
  Progress progress("writing " + folder.filename().string(), files);
  json axes = json::array(), datasets = json::array();
  for (const char* a : {"z", "y", "x"}) {
    json axis = {{"name", a}, {"type", "space"}};
    if (v.voxel_size.known) axis["unit"] = "nanometer";
    axes.push_back(axis);
  }
  for (size_t i = 0; i <= levels.size(); ++i) {
    if (version == 3) write_level_v3(folder / std::to_string(i), i == 0 ? v : levels[i - 1], progress);
    else write_level_v2(folder / std::to_string(i), i == 0 ? v : levels[i - 1], progress);
    datasets.push_back({{"path", std::to_string(i)},
                        {"coordinateTransformations", {{{"type", "scale"}, {"scale", {scales[i][0], scales[i][1], scales[i][2]}}}}}});
  }
  json multiscale = {{"name", folder.filename().string()},
                     {"axes", axes},
                     {"datasets", datasets},
                     {"type", labels ? "mode" : "mean"},
                     {"metadata", {{"description", labels ? "each coarser level: the most frequent id of 2 x 2 (x 2) voxels"
                                                          : "each coarser level: the mean of 2 x 2 (x 2) voxels"},
                                   {"written_by", "uniem"}}}};
  if (version == 3) {  // OME-Zarr 0.5: the version once, for the image, in zarr.json's attributes
    const json ome = {{"version", "0.5"}, {"multiscales", json::array({multiscale})}};
    write_file(folder / "zarr.json", json{{"zarr_format", 3}, {"node_type", "group"}, {"attributes", {{"ome", ome}}}}.dump(2) + "\n");
    return;
  }
  multiscale["version"] = "0.4";
  write_file(folder / ".zgroup", json{{"zarr_format", 2}}.dump() + "\n");
  write_file(folder / ".zattrs", json{{"multiscales", json::array({multiscale})}}.dump(2) + "\n");
}

}  // namespace uniem
