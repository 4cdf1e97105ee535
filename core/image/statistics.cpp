#include "core/image/statistics.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "core/threads.h"
#include <vector>

namespace uniem {
namespace {

template <class T>
void moments(const T* d, int64_t n, VolumeStatistics& s) {
  double sum = 0, sum2 = 0;
  T lo = d[0], hi = d[0];
  int64_t zeros = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T v = d[i];
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += static_cast<double>(v);
    sum2 += static_cast<double>(v) * static_cast<double>(v);
    zeros += v == T{0};
  }
  s.min = static_cast<double>(lo);
  s.max = static_cast<double>(hi);
  s.mean = sum / static_cast<double>(n);
  s.std = std::sqrt(std::max(0.0, sum2 / static_cast<double>(n) - s.mean * s.mean));
  s.zeros = zeros;
}

int bin_of(double v, const VolumeStatistics& s) {
  if (s.max <= s.min) return 0;
  return std::clamp(static_cast<int>((v - s.min) / (s.max - s.min) * 16), 0, 15);
}

int64_t rank(double q, int64_t n) { return std::clamp(static_cast<int64_t>(std::ceil(q * static_cast<double>(n))) - 1, int64_t{0}, n - 1); }

template <class T>
void small_integer(const T* d, int64_t n, VolumeStatistics& s) {
  std::vector<int64_t> counts(size_t{1} << (8 * sizeof(T)), 0);
  for (int64_t i = 0; i < n; ++i) ++counts[d[i]];
  int64_t seen = 0;
  const std::array<double, 3> qs{0.01, 0.5, 0.99};
  std::array<double*, 3> out{&s.p1, &s.p50, &s.p99};
  size_t next_q = 0;
  for (size_t v = 0; v < counts.size(); ++v) {
    if (!counts[v]) continue;
    ++s.distinct;
    s.histogram[static_cast<size_t>(bin_of(static_cast<double>(v), s))] += counts[v];
    seen += counts[v];
    while (next_q < qs.size() && seen > rank(qs[next_q], n)) *out[next_q++] = static_cast<double>(v);
  }
}

template <class T>
void by_sorting(const T* d, int64_t n, VolumeStatistics& s) {
  std::vector<T> sorted(d, d + n);
  std::sort(sorted.begin(), sorted.end());
  s.p1 = static_cast<double>(sorted[static_cast<size_t>(rank(0.01, n))]);
  s.p50 = static_cast<double>(sorted[static_cast<size_t>(rank(0.5, n))]);
  s.p99 = static_cast<double>(sorted[static_cast<size_t>(rank(0.99, n))]);
  for (int64_t i = 0; i < n; ++i) {
    if (i == 0 || sorted[static_cast<size_t>(i)] != sorted[static_cast<size_t>(i - 1)]) ++s.distinct;
    s.histogram[static_cast<size_t>(bin_of(static_cast<double>(sorted[static_cast<size_t>(i)]), s))]++;
  }
}

}  // namespace

ValueRange value_range(const Volume& v) {
  if (v.empty()) return {};
  return visit_dtype(v.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* d = v.data<T>();
    std::mutex merge;
    T lo = d[0], hi = d[0];
    parallel_for(0, v.elements(), 1 << 18, [&](int64_t b, int64_t e) {
      const auto [l, h] = std::minmax_element(d + b, d + e);
      std::lock_guard lock(merge);
      lo = std::min(lo, *l);
      hi = std::max(hi, *h);
    });
    return ValueRange{static_cast<double>(lo), static_cast<double>(hi)};
  });
}

bool is_mask(const Volume& v) {
  return visit_dtype(v.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* d = v.data<T>();
    T on = 0;
    for (int64_t i = 0; i < v.elements(); ++i) {
      if (d[i] == T{0}) continue;
      if (on == T{0}) on = d[i];
      else if (d[i] != on) return false;
    }
    return true;
  });
}

VolumeStatistics compute_statistics(const Volume& v) {
  VolumeStatistics s;
  if (v.empty()) return s;
  visit_dtype(v.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* d = v.data<T>();
    moments(d, v.elements(), s);
    if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, uint16_t>) small_integer(d, v.elements(), s);
    else by_sorting(d, v.elements(), s);
  });
  return s;
}

}  // namespace uniem
