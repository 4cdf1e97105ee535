#include "core/image/watershed.h"

#include <algorithm>
#include <array>
#include <deque>
#include <queue>
#include <vector>

#include "core/image/filters.h"

namespace uniem {
namespace {

struct Offset {
  int dz, dy, dx;
};

std::vector<Offset> neighbourhood(Connectivity c) {
  std::vector<Offset> out;
  const bool three_d = !connectivity_is_2d(c);
  for (int dz = -1; dz <= 1; ++dz)
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        const int order = std::abs(dz) + std::abs(dy) + std::abs(dx);
        if (order == 0 || (!three_d && dz != 0)) continue;
        const int limit = c == Connectivity::c4 || c == Connectivity::c6 ? 1 : c == Connectivity::c18 ? 2 : 3;
        if (order <= limit) out.push_back({dz, dy, dx});
      }
  return out;
}

struct Item {
  double value;
  uint64_t age;
  int64_t index;
  bool operator>(const Item& o) const { return value != o.value ? value > o.value : age > o.age; }
};

// The queue: buckets of FIFOs for small integer landscapes, a heap otherwise. Both pop the lowest
// value first and, among equal values, the earliest pushed.
class FloodQueue {
 public:
  explicit FloodQueue(size_t buckets) : buckets_(buckets) {}
  void push(double value, int64_t index) {
    if (!buckets_.empty()) {
      const auto b = static_cast<size_t>(value);
      buckets_[b].push_back(index);
      lowest_ = std::min(lowest_, b);
      ++size_;
    } else {
      heap_.push({value, age_++, index});
    }
  }
  bool empty() const { return buckets_.empty() ? heap_.empty() : size_ == 0; }
  int64_t pop() {
    if (buckets_.empty()) {
      const int64_t i = heap_.top().index;
      heap_.pop();
      return i;
    }
    while (buckets_[lowest_].empty()) ++lowest_;
    const int64_t i = buckets_[lowest_].front();
    buckets_[lowest_].pop_front();
    --size_;
    return i;
  }

 private:
  std::vector<std::deque<int64_t>> buckets_;
  size_t lowest_ = ~size_t{0}, size_ = 0;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap_;
  uint64_t age_ = 0;
};

}  // namespace

Volume watershed(const Volume& landscape, const Volume& markers, const Volume* mask, const WatershedOptions& options) {
  if (landscape.shape() != markers.shape() || (mask && mask->shape() != landscape.shape()))
    throw InputError("the landscape, markers and mask must have the same shape");
  if (landscape.channels() != 1) throw InputError("the watershed landscape must be a one-channel image");
  if (!dtype_is_integer(markers.dtype())) throw InputError("markers must be integer labels");
  const int64_t nz = landscape.nz(), ny = landscape.ny(), nx = landscape.nx();
  Volume out(DType::u32, nz, ny, nx);
  out.voxel_size = landscape.voxel_size;
  uint32_t* label = out.data<uint32_t>();
  const size_t buckets = landscape.dtype() == DType::u8 ? 256 : landscape.dtype() == DType::u16 ? 65536 : 0;
  FloodQueue queue(buckets);
  const auto allowed = [&](int64_t i) { return !mask || mask->value(i) != 0; };
  // State: 0 untouched, 1 queued, 2 a line (reached by two labels), 3 done (flooded from).
  std::vector<uint8_t> state(static_cast<size_t>(out.elements()), 0);
  for (int64_t i = 0; i < out.elements(); ++i) {
    const double m = markers.value(i);
    if (m != 0 && allowed(i)) {
      if (m > 4294967295.0) throw InputError("marker ids must fit in 32 bits; relabel them first");
      label[i] = static_cast<uint32_t>(m);
      state[static_cast<size_t>(i)] = 1;
      queue.push(landscape.value(i), i);
    }
  }
  const auto offsets = neighbourhood(options.connectivity);
  while (!queue.empty()) {
    const int64_t i = queue.pop();
    if (state[static_cast<size_t>(i)] == 2) continue;
    state[static_cast<size_t>(i)] = 3;
    const int64_t z = i / (ny * nx), y = (i / nx) % ny, x = i % nx;
    for (const auto& o : offsets) {
      const int64_t qz = z + o.dz, qy = y + o.dy, qx = x + o.dx;
      if (qz < 0 || qy < 0 || qx < 0 || qz >= nz || qy >= ny || qx >= nx) continue;
      const int64_t q = (qz * ny + qy) * nx + qx;
      if (!allowed(q)) continue;
      auto& s = state[static_cast<size_t>(q)];
      if (s == 0) {
        s = 1;
        label[q] = label[i];
        queue.push(landscape.value(q), q);
      } else if (options.lines && s == 1 && label[q] != label[i] && markers.value(q) == 0) {
        s = 2;  // two floods meet here: a watershed line
        label[q] = 0;
      }
    }
  }
  return out;
}

Volume local_maxima_markers(const Volume& values, Extent min_distance, double threshold, Connectivity connectivity) {
  Volume as_float(DType::f32, values.nz(), values.ny(), values.nx());
  for (int64_t i = 0; i < values.elements(); ++i) as_float.data<float>()[i] = static_cast<float>(values.value(i));
  const Volume biggest = box_filter(as_float, BoxStatistic::maximum, min_distance);
  Volume peaks(DType::u8, values.nz(), values.ny(), values.nx());
  for (int64_t i = 0; i < values.elements(); ++i) {
    const float v = as_float.data<float>()[i];
    peaks.data<uint8_t>()[i] = v > threshold && v >= biggest.data<float>()[i];
  }
  Volume markers = label_components(peaks, connectivity, false).labels;
  markers.voxel_size = values.voxel_size;
  return markers;
}

}  // namespace uniem
