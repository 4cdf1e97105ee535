#include "nn/ffn/prep.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/random.h"

namespace uniem::nn::ffn {

namespace {

struct Box {
  Zyx low{INT64_MAX, INT64_MAX, INT64_MAX}, high{-1, -1, -1};
  int64_t voxels = 0;
};

}  // namespace

Volume object_mask_classes(const Volume& labels, const PrepOptions& o, const std::string& where) {
  if (!dtype_is_integer(labels.dtype()) || labels.channels() != 1)
    throw InputError(where + ": ground truth must be an integer label volume, not " + std::string(dtype_name(labels.dtype())));
  const int64_t nz = labels.nz(), ny = labels.ny(), nx = labels.nx();
  const Zyx r = o.radius;
  for (int a = 0; a < 3; ++a)
    if (2 * r[a] + 1 > labels.shape()[a])
      throw InputError(where + ": the volume (" + zyx_string(labels.shape(), " x ") + ") is smaller than the object-mask box (radius " +
                       zyx_string(r) + ")");
  std::vector<uint64_t> id(static_cast<size_t>(labels.voxels()));
  for (int64_t i = 0; i < labels.voxels(); ++i) id[static_cast<size_t>(i)] = static_cast<uint64_t>(labels.value(i));
  std::map<uint64_t, Box> boxes;
  for (int64_t z = 0; z < nz; ++z)
    for (int64_t y = 0; y < ny; ++y)
      for (int64_t x = 0; x < nx; ++x) {
        const uint64_t l = id[static_cast<size_t>((z * ny + y) * nx + x)];
        if (l == 0) continue;
        Box& b = boxes[l];
        const Zyx p{z, y, x};
        for (int a = 0; a < 3; ++a) b.low[a] = std::min(b.low[a], p[a]), b.high[a] = std::max(b.high[a], p[a]);
        ++b.voxels;
      }
  for (auto it = boxes.begin(); it != boxes.end();)
    it = it->second.voxels < o.min_size ? boxes.erase(it) : std::next(it);
  if (boxes.empty())
    throw InputError(where + ": no object has at least " + std::to_string(o.min_size) + " voxels (--min-size); nothing to train on");

  Volume classes(DType::u8, nz, ny, nx);
  uint8_t* c = classes.data<uint8_t>();
  std::fill(c, c + classes.voxels(), uint8_t{255});
  for (int64_t z = r[0]; z < nz - r[0]; ++z)
    for (int64_t y = r[1]; y < ny - r[1]; ++y)
      for (int64_t x = r[2]; x < nx - r[2]; ++x) c[(z * ny + y) * nx + x] = 0;
  const double box_volume = static_cast<double>((2 * r[0] + 1) * (2 * r[1] + 1) * (2 * r[2] + 1));
  const auto n_thresholds = static_cast<uint8_t>(o.thresholds.size());
  // Per object: a summed-volume table over its bounding box grown by the radius.
  std::vector<int64_t> table;
  for (const auto& [label, b] : boxes) {
    Zyx lo, hi, size;
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::max<int64_t>(b.low[a] - r[a], 0);
      hi[a] = std::min<int64_t>(b.high[a] + r[a], labels.shape()[a] - 1);
      size[a] = hi[a] - lo[a] + 2;  // one leading zero plane per axis
    }
    table.assign(static_cast<size_t>(size[0] * size[1] * size[2]), 0);
    const auto t = [&](int64_t z, int64_t y, int64_t x) -> int64_t& {
      return table[static_cast<size_t>((z * size[1] + y) * size[2] + x)];
    };
    for (int64_t z = 1; z < size[0]; ++z)
      for (int64_t y = 1; y < size[1]; ++y)
        for (int64_t x = 1; x < size[2]; ++x) {
          const int64_t inside = id[static_cast<size_t>(((lo[0] + z - 1) * ny + lo[1] + y - 1) * nx + lo[2] + x - 1)] == label;
          t(z, y, x) = inside + t(z - 1, y, x) + t(z, y - 1, x) + t(z, y, x - 1) - t(z - 1, y - 1, x) - t(z - 1, y, x - 1) -
                       t(z, y - 1, x - 1) + t(z - 1, y - 1, x - 1);
        }
    // Box sums clamp at the table's edges, which only hold zeros of this object beyond them.
    const auto sum = [&](Zyx a, Zyx e) {  // inclusive volume coordinates
      for (int k = 0; k < 3; ++k) a[k] = std::max(a[k], lo[k]) - lo[k], e[k] = std::min(e[k], hi[k]) - lo[k] + 1;
      return t(e[0], e[1], e[2]) - t(a[0], e[1], e[2]) - t(e[0], a[1], e[2]) - t(e[0], e[1], a[2]) + t(a[0], a[1], e[2]) +
             t(a[0], e[1], a[2]) + t(e[0], a[1], a[2]) - t(a[0], a[1], a[2]);
    };
    for (int64_t z = std::max(b.low[0], r[0]); z <= std::min(b.high[0], nz - 1 - r[0]); ++z)
      for (int64_t y = std::max(b.low[1], r[1]); y <= std::min(b.high[1], ny - 1 - r[1]); ++y)
        for (int64_t x = std::max(b.low[2], r[2]); x <= std::min(b.high[2], nx - 1 - r[2]); ++x) {
          const int64_t i = (z * ny + y) * nx + x;
          if (id[static_cast<size_t>(i)] != label) continue;
          const double fraction = static_cast<double>(sum({z - r[0], y - r[1], x - r[2]}, {z + r[0], y + r[1], x + r[2]})) / box_volume;
          uint8_t k = n_thresholds + 1;
          for (uint8_t j = 0; j < n_thresholds; ++j)
            if (fraction < o.thresholds[j]) {
              k = j + 1;
              break;
            }
          c[i] = k;
        }
  }
  return classes;
}

Coordinates sample_coordinates(const std::vector<Volume>& classes, const PrepOptions& o) {
  Coordinates out;
  const size_t n_classes = o.thresholds.size() + 2;
  out.class_voxels.assign(n_classes, 0);
  std::vector<std::vector<Coordinate>> by_class(n_classes);
  for (size_t v = 0; v < classes.size(); ++v) {
    const Volume& c = classes[v];
    const Zyx m = o.margin;
    for (int64_t z = m[0]; z < c.nz() - m[0]; ++z)
      for (int64_t y = m[1]; y < c.ny() - m[1]; ++y)
        for (int64_t x = m[2]; x < c.nx() - m[2]; ++x) {
          const uint8_t k = c.at<uint8_t>(z, y, x);
          if (k == 255 || k >= n_classes) continue;
          ++out.class_voxels[k];
          by_class[k].push_back({static_cast<int32_t>(v), static_cast<int32_t>(z), static_cast<int32_t>(y), static_cast<int32_t>(x)});
        }
  }
  size_t used = 0, largest = 0;
  for (const auto& list : by_class)
    if (!list.empty()) ++used, largest = std::max(largest, list.size());
  if (used == 0) return out;
  const size_t per_class = std::min(largest, std::max<size_t>(1, static_cast<size_t>(o.max_coordinates) / used));
  Random g(o.seed);
  for (auto& list : by_class) {
    if (list.empty()) continue;
    for (size_t i = list.size(); i > 1; --i) std::swap(list[i - 1], list[static_cast<size_t>(g.integer(0, static_cast<int64_t>(i) - 1))]);
    for (size_t i = 0; i < per_class; ++i) out.coordinates.push_back(list[i % list.size()]);
  }
  auto& all = out.coordinates;
  for (size_t i = all.size(); i > 1; --i) std::swap(all[i - 1], all[static_cast<size_t>(g.integer(0, static_cast<int64_t>(i) - 1))]);
  return out;
}

}  // namespace uniem::nn::ffn
