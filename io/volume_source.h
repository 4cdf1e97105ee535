// Volumes kept in chunked files, read a range of sections at a time: Zarr and N5 (io/zarr.h),
// HDF5 (io/hdf5.h) and Neuroglancer precomputed (io/precomputed.h).
//
// A VolumeSource knows the shape, voxel type and voxel size once it is made (its metadata read and
// checked, InputError naming the file otherwise); read(z0, z1) decodes only what holds sections
// [z0, z1), after checking them against the memory budget. open_volume_source() is the one place
// where a path is recognised as one of these formats, by its name and metadata files, never by
// guessing from contents: io/stack.h reads every stack through it first.
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <string>

#include "core/image/volume.h"

namespace uniem {

class VolumeSource {
 public:
  virtual ~VolumeSource() = default;
  int64_t nz() const { return shape_[0]; }
  int64_t ny() const { return shape_[1]; }
  int64_t nx() const { return shape_[2]; }
  DType dtype() const { return dtype_; }
  const VoxelSize& voxel_size() const { return voxel_size_; }
  // What a person is told it is: "HDF5 dataset volumes/raw, chunks 32 x 256 x 256, gzip".
  virtual std::string describe() const = 0;
  // Sections [z0, z1) (z1 clipped to nz()), with the voxel size.
  virtual Volume read(int64_t z0, int64_t z1) const = 0;

 protected:
  // Throws InputError naming `source` when `sections` sections exceed the memory budget
  // (core/memory_budget.h); `remedy` says what to do instead.
  void check_sections_budget(const std::filesystem::path& source, int64_t sections, const std::string& remedy) const;
  std::array<int64_t, 3> shape_{1, 1, 1};
  DType dtype_ = DType::u8;
  VoxelSize voxel_size_;
};

// The chunked volume `input` names (a Zarr or N5 folder, an HDF5 file or "file.h5:dataset", a
// folder with a precomputed "info"), or nullptr when it is none of these.
std::unique_ptr<VolumeSource> open_volume_source(const std::filesystem::path& input);

}  // namespace uniem
