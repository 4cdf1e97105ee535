// Zarr v2 arrays and OME-Zarr 0.4 images as volumes (Zarr storage specification 2; OME-NGFF 0.4).
//
// Reading: a folder is Zarr when its name ends in .zarr or it holds .zarray or .zgroup (never read
// as a folder of images). A Zarr array (.zarray) is read as it is; an OME-Zarr image (a group whose
// .zattrs has "multiscales") at its first dataset, the full resolution, with the voxel size of its
// scale transformation (in nm: micrometer and the other length units converted). Arrays of rank 2
// (y, x) or 3 (z, y, x), or with leading axes of size 1 (t, c); unsigned 8-64-bit integers, 32-bit
// floats and booleans, 64-bit floats as 32-bit; either byte order; C order. Chunks uncompressed or
// with the zlib or gzip codec, a missing chunk read as the fill value (as the specification says);
// other codecs (blosc, zstd, lz4) and filters are refused with their name. A chunk that does not
// inflate to its size names its file. What an array announces is checked against the memory
// budget before anything is allocated.
//
// Writing (a path ending in .zarr): an OME-Zarr 0.4 image: .zgroup, .zattrs (multiscales: axes z,
// y, x in nanometers, one scale per level), level 0 at full resolution and coarser levels, each
// halving y and x (and z, when z is not already coarser than x), down to 256 pixels or 8 levels:
// the mean of each block for images, the most frequent value for label volumes
// (WriteOptions::labels). Chunks of 32 x 256 x 256 voxels at most, zlib level 1, "/" separated keys.
#pragma once

#include <array>
#include <filesystem>
#include <string>

#include "core/image/volume.h"

namespace uniem {

bool is_zarr(const std::filesystem::path& path);

class ZarrArray {
 public:
  // Reads the metadata (InputError naming the file and what is wrong).
  explicit ZarrArray(const std::filesystem::path& path);
  int64_t nz() const { return shape_[0]; }
  int64_t ny() const { return shape_[1]; }
  int64_t nx() const { return shape_[2]; }
  DType dtype() const { return dtype_; }
  const VoxelSize& voxel_size() const { return voxel_size_; }
  std::string describe() const;  // "OME-Zarr image (level 0 of 4), chunks 32 x 256 x 256, zlib"
  // Sections [z0, z1), every chunk that holds part of them decoded once.
  Volume read(int64_t z0, int64_t z1) const;

 private:
  std::filesystem::path array_, metadata_;
  std::array<int64_t, 3> shape_{1, 1, 1}, chunks_{1, 1, 1};
  int leading_ = 0;            // axes of size 1 before z (or y)
  bool planar_ = false;        // rank 2: no z axis in the keys
  std::string stored_type_;    // "<u2", "|u1", "<f8", ...
  size_t item_ = 1;            // bytes per stored element
  size_t chunk_bytes_ = 0;     // bytes of a chunk, inflated
  DType dtype_ = DType::u8;
  double fill_ = 0;
  std::string codec_, separator_ = ".", kind_;
  VoxelSize voxel_size_;
};

// Writes `v` (one channel) as an OME-Zarr image at `folder` (a new folder), its pyramid made by
// the mean (images) or the most frequent value (`labels`).
void write_ome_zarr(const std::filesystem::path& folder, const Volume& v, bool labels);

}  // namespace uniem
