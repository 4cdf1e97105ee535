// What a single image file holds, learned from its header without decoding the pixels, and how
// colour is turned into the voxels uniem works with. Shared by the PNG and TIFF readers.
#pragma once

#include <cstdint>
#include <string>

#include "core/image/volume.h"

namespace uniem {

// How colour images are read:
//   grey     - one channel: R = G = B is kept exactly; other colours become luminance
//              (0.299 R + 0.587 G + 0.114 B, as ITU-R BT.601 and ImageJ/Pillow). Alpha is ignored.
//              Palette images give the palette's grey value when the palette is grey, else the
//              palette index (a coloured palette in EM data is a label map).
//   channels - three channels (R, G, B); grey images are repeated into all three.
enum class ColorPolicy { grey, channels };

struct ImageHeader {
  int64_t width = 0, height = 0, pages = 1;
  DType dtype = DType::u8;  // the voxel type the reader will produce
  int64_t channels = 1;     // under the ColorPolicy it was probed with
  std::string format;       // for messages and `uniem info`: "8-bit grey PNG", "1-bit grey TIFF", ...
  VoxelSize voxel_size;     // x and y from the file's resolution, z from an ImageJ description
};

// Luminance of an RGB triple, rounded, in the same integer range.
template <class T>
T luminance(T r, T g, T b) {
  if (r == g && g == b) return r;
  return static_cast<T>(0.299 * r + 0.587 * g + 0.114 * b + 0.5);
}

}  // namespace uniem
