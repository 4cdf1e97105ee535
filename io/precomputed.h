// Neuroglancer precomputed volumes (the format Neuroglancer, CloudVolume, TensorStore and
// webKnossos read; its specification is Neuroglancer's volume.md, sharded.md and the
// compressed segmentation README).
//
// A precomputed volume is a folder with an "info" file (JSON: "type" image or segmentation,
// "data_type", "num_channels" and "scales", each with a "key" folder, a "size" and "resolution"
// listed x, y, z, a "voxel_offset", "chunk_sizes" and an "encoding"). A folder is read as one when
// it holds an "info" file holding a JSON object (never guessed from chunk files).
//
// Reading: the first scale (full resolution), one channel, uint8/16/32/64 or float32, encoded
// "raw" (little-endian, x fastest) or "compressed_segmentation" (blocks with their lookup tables,
// uint32 or uint64); chunk files plain, or gzip-compressed (as CloudVolume leaves them on disk,
// "name.gz" or gzip bytes under the plain name); unsharded ("x0-x1_y0-y1_z0-z1" files) or sharded
// (neuroglancer_uint64_sharded_v1: chunks found by their compressed Morton code through the shard
// index and minishard index, identity or murmurhash3_x86_128 hash, raw or gzip indices and data).
// A missing chunk is read as zeros (as Neuroglancer shows it); a chunk of the wrong size, an index
// that points outside its shard, an "info" that does not parse, and encodings uniem does not decode
// (jpeg, png, compresso) are refused naming the file.
//
// Writing (a path ending in .precomputed, or --format precomputed): unsharded, chunks of up to
// 64 x 64 x 64 voxels, a pyramid as OME-Zarr has it (io/pyramid.h), written a row of chunks at a
// time; images "raw" in their own
// type, label volumes "compressed_segmentation" (8 x 8 x 8 blocks) as uint32, or uint64 for ids
// above 2^32, with "type": "segmentation" so Neuroglancer colours the segments.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/progress.h"
#include "io/pyramid.h"
#include "io/volume_source.h"

namespace uniem {

bool is_precomputed(const std::filesystem::path& path);

class PrecomputedVolume : public VolumeSource {
 public:
  explicit PrecomputedVolume(const std::filesystem::path& folder);
  std::string describe() const override;
  Volume read(int64_t z0, int64_t z1) const override;

 private:
  // The bytes of the chunk at grid position (x, y, z), decoded from gzip when stored so; empty
  // when the chunk was never written.
  std::string chunk_bytes(const std::array<int64_t, 3>& grid, std::filesystem::path& file) const;
  std::string sharded_bytes(const std::array<int64_t, 3>& grid, std::filesystem::path& file) const;

  std::filesystem::path folder_, scale_;
  std::string key_, encoding_, type_, describe_;
  std::array<int64_t, 3> size_{}, offset_{}, chunk_{}, block_{};  // x, y, z
  std::array<int64_t, 3> grid_{};
  size_t item_ = 1;
  bool sharded_ = false, murmur_ = false, index_gzip_ = false, data_gzip_ = false;
  int preshift_ = 0, minishard_bits_ = 0, shard_bits_ = 0;
};

// Writes `v` (one channel) as a precomputed volume into the new folder `folder`.
void write_precomputed_volume(const std::filesystem::path& folder, const Volume& v, bool labels);

// The same a few sections at a time (io/pyramid.h PyramidStream): `nz` sections shaped and typed
// like `like`; append() takes the next sections, each level writing its whole rows of chunks as
// they fill; finish() writes the rest and the info. The files are those write_precomputed_volume
// writes.
class PrecomputedWriter {
 public:
  PrecomputedWriter(const std::filesystem::path& folder, const Volume& like, int64_t nz, bool labels);
  ~PrecomputedWriter();
  void append(const Volume& sections);
  void finish();

 private:
  void write_chunks(size_t level, const Volume& held, int64_t count, int64_t z0);
  std::filesystem::path folder_;
  bool labels_ = false;
  DType stored_ = DType::u8;
  std::vector<PyramidLevel> plan_;
  std::vector<std::string> keys_;
  std::unique_ptr<Progress> progress_;
  std::unique_ptr<PyramidStream> stream_;
};

// When `mesh_folder` (a precomputed mesh folder, io/mesh_files.h) lies in a precomputed
// segmentation's folder, names it as the segmentation's "mesh" in its info (rewritten whole), so
// that Neuroglancer shows each segment's surface; returns whether it did.
bool attach_precomputed_meshes(const std::filesystem::path& mesh_folder);

// Neuroglancer's chunk identifier of grid cell `g` in a grid of `grid` cells (x, y, z): the
// compressed Morton code (bits that are zero in every cell skipped).
uint64_t compressed_morton_code(const std::array<int64_t, 3>& g, const std::array<int64_t, 3>& grid);

// MurmurHash3_x86_128 (Austin Appleby's public-domain hash) of the 8 little-endian bytes of `key`
// with seed 0, its low 64 bits: the "murmurhash3_x86_128" of the sharded format.
uint64_t murmurhash3_x86_128_low(uint64_t key);

}  // namespace uniem
