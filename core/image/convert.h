// Changing a volume's voxel type without silent damage, and renumbering labels.
//
// convert_dtype: values that the target holds exactly are copied; anything else is refused
// (InputError, saying what does not fit and which policy would do) unless the policy says how:
//   scale - linear map of [min, max] onto the target's full range (integers) or left as is
//           (float), rounded to nearest;
//   clip  - values below 0 or above the target's maximum saturate; fractions round to nearest.
// Floats to integers always need scale or clip unless every value is already an integer.
// relabel_consecutive: ids 1..N in increasing order of the old ids, 0 stays 0 (background); the
// result has the smallest unsigned type that holds N.
#pragma once

#include <cstdint>

#include "core/image/volume.h"

namespace uniem {

enum class DepthPolicy { exact, scale, clip };

Volume convert_dtype(const Volume& v, DType target, DepthPolicy policy);

Volume relabel_consecutive(const Volume& labels, int64_t* count = nullptr);

// Every voxel of a one-channel volume as float32 (the nearest float for integers past 2^24), with
// the voxel size: what the filters that compute in float start from.
Volume as_float32(const Volume& v);

// An integer volume in the smallest unsigned type that holds its largest value (ids unchanged).
Volume shrink_to_fit(const Volume& labels);

}  // namespace uniem
