#include "core/image/median_network.h"

#include <algorithm>
#include <vector>

#include "core/image/border.h"
#include "core/threads.h"

namespace uniem {
namespace {

constexpr int widest = 128;  // the widest network: windows of up to 128 values
// Voxels filtered at once: four 32-byte vectors of any type, so that each compare-exchange's
// bookkeeping is spread over several vector instructions.
template <class T>
constexpr int lanes = 128 / static_cast<int>(sizeof(T));

// A compare-exchange on two slots of the window: a = min, b = max (or only one of them).
struct Exchange {
  int a, b;
  enum Kind : uint8_t { both, min_only, max_only } kind;
};

// The pruned network for a window of `w` values: the exchanges, and the slot that ends up holding
// the median.
struct Network {
  std::vector<Exchange> exchanges;
  int median_slot;
};

Network build_network(int w) {
  int inputs = 2;  // the network's width: the power of two that holds the window
  while (inputs < w) inputs *= 2;
  // Batcher's odd-even merge sort on that many wires, as (lower wire, upper wire) comparators.
  std::vector<std::pair<int, int>> comparators;
  for (int p = 1; p < inputs; p <<= 1)
    for (int k = p; k >= 1; k >>= 1)
      for (int j = k % p; j + k < inputs; j += 2 * k)
        for (int i = 0; i < std::min(k, inputs - j - k); ++i)
          if ((i + j) / (2 * p) == (i + j + k) / (2 * p)) comparators.emplace_back(i + j, i + j + k);
  // Wires 0..low-1 carry the lowest value, then the window's w values, then the highest.
  const int low = (inputs - w) / 2, median_wire = low + (w - 1) / 2;
  enum : int { lowest = -1, highest = -2 };
  std::vector<int> wire(inputs);  // what a wire carries: a slot of the window, or a padding value
  for (int i = 0; i < inputs; ++i) wire[i] = i < low ? lowest : i < low + w ? i - low : highest;
  std::vector<Exchange> emitted;
  for (const auto& [a, b] : comparators) {
    if (wire[a] == lowest || wire[b] == highest) continue;  // already in order
    if (wire[a] == highest || wire[b] == lowest) {          // always swapped
      std::swap(wire[a], wire[b]);
      continue;
    }
    emitted.push_back({wire[a], wire[b], Exchange::both});  // both slots keep their place
  }
  Network net;
  net.median_slot = wire[median_wire];
  std::vector<bool> needed(static_cast<size_t>(w), false);
  needed[static_cast<size_t>(net.median_slot)] = true;
  for (auto it = emitted.rbegin(); it != emitted.rend(); ++it) {
    const bool a = needed[static_cast<size_t>(it->a)], b = needed[static_cast<size_t>(it->b)];
    if (!a && !b) continue;
    Exchange e = *it;
    e.kind = a && b ? Exchange::both : a ? Exchange::min_only : Exchange::max_only;
    net.exchanges.push_back(e);
    needed[static_cast<size_t>(e.a)] = needed[static_cast<size_t>(e.b)] = true;
  }
  std::reverse(net.exchanges.begin(), net.exchanges.end());
  return net;
}

// One compare-exchange across the lanes; the slots never overlap, which __restrict tells the
// compiler so that each loop is a few vector min/max instructions.
template <class T>
inline void exchange(T* __restrict a, T* __restrict c, Exchange::Kind kind) {
  constexpr int lanes = uniem::lanes<T>;
  if (kind == Exchange::both) {
    for (int l = 0; l < lanes; ++l) {
      const T p = a[l], q = c[l];
      a[l] = p < q ? p : q;
      c[l] = p < q ? q : p;
    }
  } else if (kind == Exchange::min_only) {
    for (int l = 0; l < lanes; ++l) a[l] = c[l] < a[l] ? c[l] : a[l];
  } else {
    for (int l = 0; l < lanes; ++l) c[l] = a[l] < c[l] ? c[l] : a[l];
  }
}

template <class T>
void run(const Volume& v, Volume& out, int64_t rz, int64_t ry, int64_t rx) {
  const int64_t nz = v.nz(), ny = v.ny(), nx = v.nx();
  const int64_t rows_per_window = (2 * rz + 1) * (2 * ry + 1), width = 2 * rx + 1;
  const int w = static_cast<int>(rows_per_window * width);
  const Network net = build_network(w);
  const T* in = v.data<T>();
  T* o = out.data<T>();
  constexpr int lanes = uniem::lanes<T>;
  const int64_t padded = nx + 2 * rx + lanes;  // mirrored borders, and room for the last block
  parallel_for(0, nz * ny, 4, [&](int64_t b, int64_t e) {
    std::vector<T> rows(static_cast<size_t>(rows_per_window * padded));
    std::vector<T> slots(static_cast<size_t>(w * lanes));  // 16 KiB at most: stays in L1
    const auto slot = [&](int i) { return slots.data() + static_cast<size_t>(i) * lanes; };
    for (int64_t r = b; r < e; ++r) {
      const int64_t z = r / ny, y = r % ny;
      // The window's input rows, each mirrored at both ends.
      int64_t k = 0;
      for (int64_t dz = -rz; dz <= rz; ++dz)
        for (int64_t dy = -ry; dy <= ry; ++dy, ++k) {
          const T* src = in + (reflect(z + dz, nz) * ny + reflect(y + dy, ny)) * nx;
          T* dst = rows.data() + k * padded;
          std::copy(src, src + nx, dst + rx);  // the mirror index only at the ends
          for (int64_t x = -rx; x < 0; ++x) dst[x + rx] = src[reflect(x, nx)];
          for (int64_t x = nx; x < nx + rx; ++x) dst[x + rx] = src[reflect(x, nx)];
          std::fill(dst + nx + 2 * rx, dst + padded, T{});
        }
      for (int64_t x0 = 0; x0 < nx; x0 += lanes) {
        int s = 0;
        for (int64_t row = 0; row < rows_per_window; ++row)
          for (int64_t dx = 0; dx < width; ++dx, ++s) {
            const T* src = rows.data() + row * padded + x0 + dx;
            std::copy(src, src + lanes, slot(s));
          }
        for (const Exchange& ex : net.exchanges) exchange(slot(ex.a), slot(ex.b), ex.kind);
        const int64_t count = std::min<int64_t>(lanes, nx - x0);
        std::copy(slot(net.median_slot), slot(net.median_slot) + count, o + r * nx + x0);
      }
    }
  });
}

}  // namespace

bool median_network_fits(int64_t rz, int64_t ry, int64_t rx) { return (2 * rz + 1) * (2 * ry + 1) * (2 * rx + 1) <= widest; }

Volume median_network(const Volume& v, int64_t rz, int64_t ry, int64_t rx) {
  UNIEM_CHECK(median_network_fits(rz, ry, rx) && v.channels() == 1, "median_network: a window of at most 128 values");
  Volume out(v.dtype(), v.nz(), v.ny(), v.nx());
  out.voxel_size = v.voxel_size;
  switch (v.dtype()) {
    case DType::u8: run<uint8_t>(v, out, rz, ry, rx); break;
    case DType::u16: run<uint16_t>(v, out, rz, ry, rx); break;
    case DType::f32: run<float>(v, out, rz, ry, rx); break;
    default: UNIEM_CHECK(false, "median_network: uint8, uint16 or float32");
  }
  return out;
}

}  // namespace uniem
