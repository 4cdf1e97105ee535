// Median of windows of at most 128 values (3x3 to 11x11, 3x3x3, 5x5x5, ...) by a selection network,
// many neighbouring voxels at a time, so the compare-exchanges are vector min/max instructions.
//
// The network: Batcher's odd-even merge sort of the power of two of inputs that holds the window
// (Batcher, "Sorting networks and their applications", AFIPS 1968), the window's values padded with
// the lowest and highest values so the median lands on a fixed output; then pruned: a
// compare-exchange whose inputs include a padding value is a fixed move (done by renaming, not at
// run time), and one that no path leads from to the median's output is dropped (5x5: about 150 of
// 191 left, many needing only the min or only the max). Borders mirror as every other filter
// (core/image/border.h). Exact: the same as a sort. One thread, 2048^2 uint8 / 64x256^2 uint8
// (Mvox/s, network vs the sliding histogram it replaced): 5x5 208 vs 130, 7x7 81 vs 19, 11x11 20
// vs 17, 3^3 127 vs 17, 5^3 20 vs 10.
#pragma once

#include <cstdint>

#include "core/image/volume.h"

namespace uniem {

// Whether a box of these radii fits a network (at most 128 values).
bool median_network_fits(int64_t rz, int64_t ry, int64_t rx);

// uint8, uint16 or float32, one channel; returns the same type.
Volume median_network(const Volume& v, int64_t rz, int64_t ry, int64_t rx);

}  // namespace uniem
