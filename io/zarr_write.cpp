// Writing OME-Zarr images with their pyramid (io/zarr.h).
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/progress.h"
#include "core/threads.h"
#include "io/atomic_output.h"
#include "io/zarr.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem {
namespace {

// One level coarser: blocks of fz x 2 x 2 voxels, their mean (rounded for integers) or, for
// labels, their most frequent value (the smallest of a tie).
Volume coarser(const Volume& v, int64_t fz, bool labels) {
  Volume out(v.dtype(), (v.nz() + fz - 1) / fz, (v.ny() + 1) / 2, (v.nx() + 1) / 2);
  visit_dtype(v.dtype(), [&](auto tag) {
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
