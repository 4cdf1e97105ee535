// HDF5 datasets as volumes, through Debian's libhdf5 (the C library, thread-safe build).
//
// A dataset is named by path after the file: "cremi.h5:volumes/raw", "groundtruth.h5:stack",
// "ilastik.h5:exported_data". A file named without a dataset is read when it holds exactly one
// dataset of two or more axes; otherwise the message lists the datasets to choose from. The file is
// recognised by its extension (.h5, .hdf5, .hdf, .he5) and then its signature, never by guessing.
//
// Reading: datasets of rank 2 (y, x) or 3 (z, y, x), with axes of size one before them (t, c) or
// after them (ilastik's (z, y, x, c) with one channel); unsigned and signed integers of 8-64 bits
// (signed ones must hold no negative value), 32- and 64-bit floats (as 32-bit) and h5py's booleans;
// any layout and the filters libhdf5 has (gzip, shuffle, szip decoding, Fletcher-32) plus LZF
// (h5py's filter 32000, decoded by io/hdf5_lzf.cpp). Only the sections asked for are read (a
// hyperslab). The voxel size comes from the dataset's "resolution" attribute (z, y, x in nm, as
// CREMI files have it) or "element_size_um" (z, y, x in micrometres, as ilastik and Fiji write it).
//
// Writing (Hdf5Writer): a (z, y, x) dataset, or (z, y, x, 3) for colour, in chunks of up
// to 32 x 256 x 256 compressed with gzip level 1 (byte shuffle first for wider types), with a
// "resolution" attribute when the voxel size is known; groups on its path are made. The file is a
// temporary copy that io/stack.cpp renames into place, so adding a dataset to an existing file
// leaves the file whole if anything fails.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/volume_source.h"

namespace uniem {

struct Hdf5Path {
  std::filesystem::path file;
  std::string dataset;  // "" when none was named
};

// "a/b.h5:volumes/raw" -> {"a/b.h5", "volumes/raw"}; "a/b.h5" -> {"a/b.h5", ""}; nullopt when the
// path names no HDF5 file (by its extension).
std::optional<Hdf5Path> parse_hdf5_path(const std::filesystem::path& path);

// The file `path` names on disk: the HDF5 file of "file.h5:dataset", else `path` itself.
std::filesystem::path file_on_disk(const std::filesystem::path& path);

// The datasets of two or more axes in `file` (full paths without the leading "/"), in the order
// of the file's groups: what can be read as volumes.
std::vector<std::string> hdf5_volumes(const std::filesystem::path& file);
bool hdf5_has_dataset(const std::filesystem::path& file, const std::string& dataset);

class Hdf5Dataset : public VolumeSource {
 public:
  explicit Hdf5Dataset(const std::filesystem::path& path);  // "file.h5:dataset" or "file.h5"
  ~Hdf5Dataset() override;
  Hdf5Dataset(const Hdf5Dataset&) = delete;
  Hdf5Dataset& operator=(const Hdf5Dataset&) = delete;
  std::string describe() const override;
  Volume read(int64_t z0, int64_t z1) const override;
  const std::string& dataset() const { return dataset_; }

 private:
  std::filesystem::path file_;
  std::string dataset_, describe_;
  int64_t file_id_ = -1, dataset_id_ = -1;
  std::vector<unsigned long long> dims_;  // as stored
  int z_axis_ = -1;                       // -1 for a (y, x) dataset
  int64_t memory_type_ = -1;              // what H5Dread converts to
  bool is_signed_ = false;
};

// Writes a (z, y, x[, c]) dataset a few sections at a time: `dataset` in `file` (created, or
// opened for writing when `existing`, replacing a dataset of that name), `nz` sections shaped and
// typed like `like` (whose voxel size becomes the "resolution" attribute); write() adds the next
// sections; close() checks that all came and flushes the file.
class Hdf5Writer {
 public:
  Hdf5Writer(const std::filesystem::path& file, const std::string& dataset, bool existing, int64_t nz, const Volume& like);
  ~Hdf5Writer();
  void write(const Volume& sections);
  void close();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace uniem
