// Connected-component labeling of 2D and 3D volumes.
//
// Algorithm: run-based two-pass labeling (He, Chao, Suzuki, "A run-based two-scan labeling
// algorithm", IEEE Trans. Image Processing 17(5), 2008), extended to 3D. Pass 1 collects the runs
// of each row (maximal stretches of foreground along x), in parallel. Pass 2 joins runs of
// neighbouring rows that touch under the connectivity, with union-find over runs. Pass 3 numbers
// the components 1..N in raster order (z, then y, then x) of their first voxel, which is also
// scipy.ndimage.label's order, and fills the output, in parallel. Cost O(voxels + runs), memory
// O(runs); a volume of long runs (EM masks and label volumes) needs few union operations.
//
// Which rows are neighbours, and how far runs may miss each other in x (0: must overlap, 1: may
// touch diagonally):
//
//     2D  4: (y-1) exact          3D  6: (y-1) exact, (z-1, y) exact
//     2D  8: (y-1) diagonal          18: (y-1) diagonal, (z-1, y) diagonal, (z-1, y+-1) exact
//                                    26: all of (y-1), (z-1, y-1..y+1) diagonal
//
// 2D connectivities label each section on its own; ids still count up through the volume.
// Binary mode: every nonzero voxel is foreground. Label mode (label-preserving): voxels join only
// when their values are equal, so touching regions of different labels stay apart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/image/volume.h"

namespace uniem {

enum class Connectivity { c4 = 4, c8 = 8, c6 = 6, c18 = 18, c26 = 26 };

std::optional<Connectivity> connectivity_from(int neighbours);  // 4, 8, 6, 18 or 26
bool connectivity_is_2d(Connectivity c);

struct LabelResult {
  Volume labels;      // uint32, 0 background, components 1..count
  int64_t count = 0;
};

// Throws InputError for a float volume in label mode (labels must be integers).
LabelResult label_components(const Volume& input, Connectivity connectivity, bool preserve_labels);

}  // namespace uniem
