// Median of small windows (at most 32 values: 3x3, 5x5, 3x3x3, 1x3, ...) by a selection network,
// 32 neighbouring voxels at a time, so the compare-exchanges are vector min/max instructions.
//
// The network: Batcher's odd-even merge sort of 32 inputs (Batcher, "Sorting networks and their
// applications", AFIPS 1968), the window's values padded with the lowest and highest values so
// the median lands on a fixed output; then pruned: a compare-exchange whose inputs include a
// padding value is a fixed move (done by renaming, not at run time), and one that no path leads
// from to the median's output is dropped. 5x5 leaves about 150 of the 191 compare-exchanges, many
// of them needing only the min or only the max. Borders mirror as every other filter
// (core/image/border.h). Exact: the same as median_histogram and nth_element.
#pragma once

#include <cstdint>

#include "core/image/volume.h"

namespace uniem {

// Whether a box of these radii fits the network (at most 32 values).
bool median_network_fits(int64_t rz, int64_t ry, int64_t rx);

// uint8, uint16 or float32, one channel; returns the same type.
Volume median_network(const Volume& v, int64_t rz, int64_t ry, int64_t rx);

}  // namespace uniem
