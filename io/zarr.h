// Zarr arrays and OME-Zarr images as volumes (Zarr storage specifications 2 and 3; OME-NGFF 0.4
// and 0.5), and N5 datasets.
//
// Reading: a folder is Zarr when its name ends in .zarr or it holds .zarray, .zgroup or zarr.json
// (never read as a folder of images). An array is read as it is; an OME-Zarr image (a group with
// "multiscales": in .zattrs for 0.4, in zarr.json's attributes "ome" for 0.5) at its first
// dataset, the full resolution, with the voxel size of its scale transformation (in nm: micrometer
// and the other length units converted). Arrays of rank 2 (y, x) or 3 (z, y, x), or with leading
// axes of size 1 (t, c); unsigned 8-64-bit integers, 32-bit floats and booleans, 64-bit floats as
// 32-bit; either byte order; C order. Chunks uncompressed or with the zlib, gzip, blosc (its lz4,
// zstd, zlib and blosclz, byte or bit shuffle), zstd or lz4 codec (io/zarr_codecs.h); version 3
// also with crc32c checksums and sharding (sharding_indexed: inner chunks found through the
// shard's index, at its end or start, read without reading the rest of the shard). A missing
// chunk, or an inner chunk the index marks empty, is read as the fill value (as the
// specifications say); other codecs, filters and transposes are refused with their name; a chunk
// that does not decode to its size, or an index that points outside its shard or fails its
// checksum, names its file. What an array announces is checked against the memory budget before
// anything is allocated.
// N5 (a folder with attributes.json, or named *.n5): a dataset's dimensions and blocks (listed x
// first), big-endian blocks with their header (edge blocks whole or cut), raw, gzip, zlib, blosc
// or zstd; a container is refused with the names of its datasets.
//
// Writing (a path ending in .zarr): an OME-Zarr 0.4 image: .zgroup, .zattrs (multiscales: axes z,
// y, x in nanometers, one scale per level), level 0 at full resolution and coarser levels, each
// halving y and x (and z, when z is not already coarser than x), down to 256 pixels or 8 levels:
// the mean of each block for images, the most frequent value for label volumes
// (WriteOptions::labels). Chunks of 32 x 256 x 256 voxels at most, zlib level 1, "/" separated
// keys. With --format zarr3 an OME-Zarr 0.5 image: Zarr 3 arrays in shards of up to 2 x 4 x 4
// inner chunks of 32 x 128 x 128 voxels, each zstd-compressed, the shard's index (with its CRC-32C)
// at its end (io/zarr_write.cpp).
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/image/volume.h"
#include "core/progress.h"
#include "io/pyramid.h"
#include "io/volume_source.h"

namespace uniem {

bool is_zarr(const std::filesystem::path& path);
// An N5 container (attributes.json without "dimensions"): its datasets are the folders in it.
bool is_n5_container(const std::filesystem::path& path);

class ZarrArray : public VolumeSource {
 public:
  // Reads the metadata (InputError naming the file and what is wrong).
  explicit ZarrArray(const std::filesystem::path& path);
  std::string describe() const override;  // "OME-Zarr image (level 0 of 4), Zarr 2, chunks 32 x 256 x 256, zlib"
  // Sections [z0, z1), every chunk that holds part of them decoded once.
  Volume read(int64_t z0, int64_t z1) const override;

  // How a chunk's bytes are stored: its shape (z, y, x; leading axes of one before), the byte
  // codecs to undo, last first, and the byte order of its values.
  struct Encoding {
    std::array<int64_t, 3> shape{1, 1, 1};
    int64_t leading = 1;               // the product of the chunk's leading axes
    std::vector<std::string> codecs;   // "gzip", "crc32c", ... as written
    bool swap = false;                 // stored in the other byte order
  };

 private:
  void read_v2(const std::filesystem::path& metadata);
  void read_v3(const std::filesystem::path& metadata);
  void read_n5(const std::filesystem::path& attributes);
  void read_n5_block(Volume& v, int64_t z0, const std::array<int64_t, 3>& block) const;
  std::string key(const std::array<int64_t, 3>& chunk) const;
  // `stored`, read from `file`, with e's codecs undone: `expected` bytes, or InputError.
  std::string decoded(const Encoding& e, std::string stored, const std::filesystem::path& file, size_t expected) const;
  void place(Volume& v, int64_t z0, const std::string& bytes, const Encoding& e, const std::array<int64_t, 3>& origin) const;
  void fill(Volume& v, int64_t z0, const std::array<int64_t, 3>& origin, const std::array<int64_t, 3>& shape) const;
  void read_shard(Volume& v, int64_t z0, int64_t z1, const std::array<int64_t, 3>& shard) const;

  std::filesystem::path array_, metadata_;
  int version_ = 2;  // 0 for N5
  int leading_ = 0;       // axes of size 1 before z (or y)
  bool planar_ = false;   // rank 2: no z axis in the keys
  char kind_ = 'u';       // 'u', 'f' or 'b', as stored
  size_t item_ = 1;       // bytes per stored element
  double fill_ = 0;
  Encoding chunk_;        // the chunks of the grid (shards, when sharded)
  bool sharded_ = false;
  Encoding inner_, index_;  // a shard's inner chunks and its index
  bool index_at_end_ = true;
  std::string key_prefix_, separator_ = ".", codec_text_, kind_text_;
};

// Writes `v` (one channel) as an OME-Zarr image at `folder` (a new folder), its pyramid made by
// the mean (images) or the most frequent value (`labels`); `version` 2 (OME-Zarr 0.4) or 3
// (OME-Zarr 0.5, sharded).
void write_ome_zarr(const std::filesystem::path& folder, const Volume& v, bool labels, int version = 2);

// The same a few sections at a time, for volumes never whole in memory: `nz` sections shaped and
// typed like `like` (with its voxel size); append() takes the next sections; each level writes its
// whole chunk (or shard) rows as they fill and hands them, made coarser, to the next level, so
// that memory holds about one chunk row per level; finish() writes the rest and the metadata. The
// files are those write_ome_zarr writes, byte for byte.
class OmeZarrWriter {
 public:
  OmeZarrWriter(const std::filesystem::path& folder, const Volume& like, int64_t nz, bool labels, int version);
  ~OmeZarrWriter();
  void append(const Volume& sections);
  void finish();

 private:
  std::filesystem::path folder_;
  bool labels_ = false, voxel_size_known_ = false;
  int version_ = 2;
  std::vector<PyramidLevel> plan_;
  std::unique_ptr<Progress> progress_;
  std::unique_ptr<PyramidStream> stream_;
};

}  // namespace uniem
