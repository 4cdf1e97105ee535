// Summary statistics of a volume's values, for `uniem info` and for checks in tests.
//
// Exact for every type: uint8/uint16 through a full histogram (one pass); uint32, uint64 and
// float32 through a sorted copy (O(n log n), n = all elements, all channels together).
// Percentiles are the nearest-rank values. The 16-bin histogram spans [min, max].
#pragma once

#include <array>
#include <cstdint>

#include "core/image/volume.h"

namespace uniem {

struct VolumeStatistics {
  double min = 0, max = 0, mean = 0, std = 0;
  double p1 = 0, p50 = 0, p99 = 0;  // 1st, 50th and 99th percentiles
  int64_t distinct = 0;             // number of different values
  int64_t zeros = 0;
  std::array<int64_t, 16> histogram{};
};

VolumeStatistics compute_statistics(const Volume& v);

// Only the smallest and largest value: one parallel pass, no sorting. For the many callers
// that need a range (depth conversion, Otsu, id widths), where compute_statistics would sort a
// copy of a 32-bit or float volume.
struct ValueRange {
  double min = 0, max = 0;
};
ValueRange value_range(const Volume& v);

// True when the volume holds at most one nonzero value (a mask); stops at the second one.
bool is_mask(const Volume& v);

}  // namespace uniem
