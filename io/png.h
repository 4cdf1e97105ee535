// PNG images, one z-section per file, through lodepng with zlib doing the (de)compression.
//
// Reads every PNG colour type and bit depth: 1/2/4/8/16-bit grey (low depths scaled to 0..255, as
// the PNG specification says), grey+alpha, RGB, RGBA and palette, converted by ColorPolicy
// (io/image_header.h). 16-bit files give uint16 voxels. The pHYs chunk, when in metres, gives the
// x/y pixel size; pixels over 10 um are a print resolution (72 dpi ...) and are ignored.
// Writes 8/16-bit grey or RGB with a pHYs chunk when the voxel size is known, zlib level 6 and the
// adaptive (minimum sum) row filters, as libpng and Pillow do by default.
// Errors (missing, truncated, corrupt, unsupported) throw InputError naming the file; so does a
// header announcing more than the memory budget (core/memory_budget.h), before any pixel is
// inflated, and pixel data that inflates to more than its header announces.
#pragma once

#include <filesystem>
#include <string>

#include "core/image/volume.h"
#include "io/image_header.h"

namespace uniem {

ImageHeader probe_png(const std::filesystem::path& path, ColorPolicy policy);

// Decodes the file into section z of `dst`, whose dtype, x/y size and channels must match the
// file's probe_png() header (the caller checked them). Returns the x/y pixel size from the pHYs
// chunk (known = false without one).
VoxelSize read_png_into(const std::filesystem::path& path, ColorPolicy policy, Volume& dst, int64_t z);

// Section z of a uint8/uint16 volume with 1 or 3 channels as the bytes of a PNG file.
std::string encode_png(const Volume& v, int64_t z, int compression_level = 6);
// Section z of a uint8 grey volume as a PNG for the screen, several times faster than
// encode_png and as small on EM: the Paeth filter on every row, Huffman-only deflate
// (io/deflate.h), no pHYs chunk.
std::string encode_png_for_display(const Volume& v, int64_t z);
// Writes section z of a uint8/uint16 volume with 1 or 3 channels.
void write_png(const std::filesystem::path& path, const Volume& v, int64_t z, int compression_level = 6);

}  // namespace uniem
