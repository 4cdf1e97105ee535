// Affinity volumes: the nearest-neighbour affinity graph of a 3D image stored as a volume, the one
// convention of every affinity tool in uniem (affinity_watershed.h, agglomeration.h, uniem
// agglomerate, uniem affinities).
//
// An affinity volume has the image's shape (z, y, x) and 3 channels. Channel c of voxel (z, y, x)
// is the affinity between that voxel and the previous one along an axis:
//
//     c = 0 (red):   (z, y, x) -- (z, y, x-1)      offset (0, 0, -1)
//     c = 1 (green): (z, y, x) -- (z, y-1, x)      offset (0, -1, 0)
//     c = 2 (blue):  (z, y, x) -- (z-1, y, x)      offset (-1, 0, 0)
//
// so each edge of the 6-connected grid is stored once, on the later voxel of its pair; on the
// first plane along an axis (x = 0 for c = 0, ...) there is no previous voxel and the value is
// ignored (written 0). An affinity is the probability that both voxels belong to the same object:
// uint8 values mean value / 255, uint16 value / 65535, float32 the value itself, clamped to [0, 1]
// (NaN counts as 0). io/ keeps the 3 channels of 8- and 16-bit RGB TIFF and PNG stacks (read with
// ColorPolicy::channels); it does not read 3-channel float32 TIFFs yet.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "core/image/volume.h"

namespace uniem {

// Throws InputError unless `affinities` has 3 channels and is uint8, uint16 or float32 (the
// message says what it has and what is expected; callers add the file's name).
void check_affinities(const Volume& affinities);

// What one step of the stored type means: 1/255, 1/65535, or 1 for float32.
double affinity_unit(DType type);

// An affinity in [0, 1] from a stored value.
template <class T>
inline float affinity_value(T v, float unit) {
  if constexpr (std::is_floating_point_v<T>) {
    return v > 0 ? (v < 1 ? static_cast<float>(v) : 1.0f) : 0.0f;  // NaN fails v > 0
  } else {
    return static_cast<float>(v) * unit;
  }
}

// The bin of an affinity in the 256-bin histograms of agglomeration.h: floor(a * 256), 255 for 1.
// A uint8 value k falls in bin k exactly.
inline int affinity_bin(float a) {
  const int bin = static_cast<int>(a * 256.0f);
  return bin < 0 ? 0 : (bin > 255 ? 255 : bin);
}

// The affinities of a label volume: 1 where both voxels of a pair have the same nonzero label,
// else 0 (across a label change, on label 0, and on the first plane of each axis). `type` is
// uint8 (0 and 255) or float32 (0 and 1). Throws InputError for a float or multi-channel `labels`.
// The agglomeration of these affinities gives back the labels' objects, each connected part of
// one label as its own object (agglomeration.h; tests/image/test_agglomeration.cpp).
Volume affinities_from_labels(const Volume& labels, DType type = DType::u8);

}  // namespace uniem
