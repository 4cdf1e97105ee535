// Image stacks as volumes: the one place where files become a (z, y, x) Volume and back.
//
// An input is one of
//   - a folder of PNG and/or TIFF files, one section per file, in natural order of names
//     ("2.png" before "10.png"); other files (notes, thumbnails) are ignored;
//   - a multi-page TIFF file (classic or BigTIFF), one section per page;
//   - a single PNG or single-page TIFF file (a volume with nz = 1);
//   - a Zarr array or OME-Zarr image (a folder named *.zarr, or holding .zarray or .zgroup; never
//     read as a folder of images), at full resolution (io/zarr.h);
//   - an HDF5 dataset, "file.h5:volumes/raw" (io/hdf5.h);
//   - a Neuroglancer precomputed volume (a folder with an "info" file; io/precomputed.h).
// Every section must have the same width, height and voxel type; the first that differs is named
// in the error. Voxel size: from the files when they say it (TIFF resolution and ImageJ spacing;
// for a folder, its voxel-size.json, which uniem writes beside PNG stacks since PNG cannot hold
// the z spacing), replaced by ReadOptions::voxel_size. What an input announces is checked against
// the memory budget (core/memory_budget.h) before anything is allocated: each image by its
// reader, and a whole stack by read_volume (StackReader, holding a few sections at a time,
// checks each image only).
//
// An output is a folder of PNG files (0000.png, 0001.png, ... zero-padded to sort in any viewer),
// a folder of TIFF files, or one multi-page TIFF (a path ending in .tif or .tiff). Outputs are
// written under a temporary name and renamed when complete (io/atomic_output.h). PNG stores
// 8 and 16 bits only: other volumes are refused with the fix (convert with --bits, or TIFF). A path
// ending in .zarr is written as an OME-Zarr image with its multiscale pyramid (io/zarr.h); one
// naming an HDF5 file ("out.h5" or "out.h5:volumes/labels") as a dataset in it (io/hdf5.h), beside
// the datasets an existing file holds ("volumes/raw", or "volumes/labels" for label volumes, when
// none is named); one ending in .precomputed as a Neuroglancer precomputed volume with its pyramid
// (io/precomputed.h).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/image/volume.h"
#include "io/image_header.h"
#include "io/tiff.h"

namespace uniem {

struct ReadOptions {
  ColorPolicy color = ColorPolicy::grey;
  std::optional<VoxelSize> voxel_size;  // overrides what the files say
};

struct StackInfo {
  std::string kind;     // "folder of 20 PNG files", "multi-page TIFF (64 pages)", ...
  std::string format;   // the first file's, e.g. "8-bit grey PNG"; "mixed: ..." when files differ
};

Volume read_volume(const std::filesystem::path& input, const ReadOptions& options = {}, StackInfo* info = nullptr);

// The same inputs read a few sections at a time, in order, for work that need not hold a stack
// whole (uniem eval on a pair of 1024^3 volumes). The shape and type are known, and every header
// checked, when it is constructed; next() reads the next sections (fewer at the end, an empty
// volume after the last) with the errors read_volume gives; voxel_size() is what read_volume
// would give the volume.
class StackReader {
 public:
  explicit StackReader(const std::filesystem::path& input, const ReadOptions& options = {});
  ~StackReader();
  int64_t nz() const { return nz_; }
  int64_t ny() const { return ny_; }
  int64_t nx() const { return nx_; }
  int64_t channels() const { return channels_; }
  DType dtype() const { return dtype_; }
  const VoxelSize& voxel_size() const { return voxel_size_; }
  Volume next(int64_t sections);  // with voxel_size()
  // Goes to section z (0 <= z <= nz()): the next next() starts there. Cheap for a folder; a
  // multi-page TIFF skips the pages between without decoding them (from the first page when
  // going back).
  void seek(int64_t z);

 private:
  struct State;
  std::unique_ptr<State> state_;
  int64_t nz_ = 0, ny_ = 0, nx_ = 0, channels_ = 1, read_ = 0;
  DType dtype_ = DType::u8;
  VoxelSize voxel_size_;
};

enum class StackFormat { png_folder, tiff_folder, multipage_tiff, ome_zarr, ome_zarr3, hdf5, precomputed };

// Multi-page TIFF for *.tif / *.tiff, OME-Zarr for *.zarr, HDF5 for *.h5[:dataset], Neuroglancer
// precomputed for *.precomputed, else a PNG folder.
StackFormat format_for_output(const std::filesystem::path& output);
std::optional<StackFormat> parse_stack_format(const std::string& name);  // "png", "tiff", "tiff-stack", "zarr", "zarr3", "hdf5", "precomputed"

struct WriteOptions {
  StackFormat format = StackFormat::png_folder;
  bool overwrite = false;
  int png_compression = 6;  // zlib level 0-9
  TiffCompression tiff_compression = TiffCompression::none;
  bool labels = false;  // a label volume: an OME-Zarr pyramid keeps ids (the most frequent), not means
};

// Throws InputError when the output exists (without overwrite) or the format cannot hold the
// volume; nothing is left behind on failure.
void write_volume(const std::filesystem::path& output, const Volume& v, const WriteOptions& options);

// A stack written a few sections at a time (io/stack_writer.cpp), for volumes never whole in
// memory: `nz` sections, each shaped and typed like the first section of `like` (and with its
// voxel size); append() adds the next sections in order; commit() checks that all came and renames
// the output into place (destroyed before, nothing is left). Every format is written as the
// sections come: folders of PNG or TIFF files, multi-page TIFF, HDF5, and OME-Zarr and precomputed
// volumes with their pyramids, a row of chunks at a time.
class StackWriter {
 public:
  StackWriter(const std::filesystem::path& output, const WriteOptions& options, const Volume& like, int64_t nz);
  ~StackWriter();
  void append(const Volume& sections);
  void commit();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Checks, before any work is done, that write_volume(output, ...) will not be refused for an
// existing output; commands call it first so a refusal costs nothing.
void check_output_writable(const std::filesystem::path& output, const WriteOptions& options);

}  // namespace uniem
