// The steps of `uniem filter` (and of the workbench's filter preview), one at a time: a step is a
// name and its value as written ("gaussian", "1.5" or "30nm"; "canny", "50,150"; "threshold",
// "otsu"). parse_filter_step reads the value once, before any data: every mistake in it is a
// UsageError naming the step as the command line does (--gaussian must not be negative, ...);
// apply_filter_step runs it (core/image/filters.h says what each does and which type it gives).
// Sizes R and sigmas S are in voxels of the x/y plane, or in nm with a suffix (30nm); in 3D the z
// extent follows the voxel size, so neighbourhoods are round in nm.
#pragma once

#include <string>
#include <vector>

#include "core/image/volume.h"

namespace uniem {

struct FilterStep {
  std::string name, value;  // value empty for steps without one
};

// A size as written: "2" (voxels of the x/y plane) or "30nm".
struct FilterSize {
  double value = 0;
  bool nm = false;
};

struct ParsedFilterStep {
  std::string name;
  FilterSize size;              // the neighbourhood steps, bilateral's spatial sigma
  std::vector<double> numbers;  // the other values, in the order written
  bool otsu = false, l1 = false;
};

ParsedFilterStep parse_filter_step(const FilterStep& step, bool three_d);
Volume apply_filter_step(const ParsedFilterStep& step, const Volume& v, bool three_d);

// How many sections before and after a section the step reads to compute it, for a volume of
// voxel size `vs` whose values are floats (`is_float`) or integers, so that a slab of sections with
// that many more on each side gives exactly the sections the whole volume gives (io/blockwise_filter.h):
// 0 for steps on each section (and every step without --3d), the kernel's or ball's reach in z for
// the neighbourhood steps (twice the ball for open and close); -1 for steps that need the whole
// volume (otsu, normalise, distance, fill-holes, remove-small, invert of floats). Sets `is_float`
// to what the step gives.
int64_t filter_step_z_reach(const ParsedFilterStep& step, const VoxelSize& vs, bool three_d, bool& is_float);

}  // namespace uniem
