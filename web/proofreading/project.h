// A proofreading project: one folder that holds an EM stack, its labels and every edit made to
// them, so that a 2048 x 2048 x 500 volume opens at once and survives any crash.
//
//   PROJECT/project.json   what the project is (format "uniem-project", version 1): shape (z, y, x),
//                          voxel size, image type (8 or 16-bit, kept as it is: never squashed),
//                          display window, pyramid levels and chunk shapes
//   PROJECT/image/L/       the image pyramid, level L halving y and x (mean of 2 x 2), in tiles of
//                          1 x 512 x 512 (io/chunk_store.h), down to a level that fits in 512 x 512
//   PROJECT/labels/        uint32 labels in chunks of 8 x 128 x 128; absent chunks are 0
//   PROJECT/state.json     what the label chunks hold: the journal seq they include, the next new
//                          id, every segment (voxel count, chunks it occupies) and the key/value
//                          state (names, locks, markers); rewritten durably after each flush
//   PROJECT/journal.bin    the edits since (web/proofreading/journal.h)
//   PROJECT/exports/       stacks exported from the page
// create_project imports stacks into a new folder (written aside and renamed: a failed import
// leaves nothing). Project reads the image side; the labels are the session's (web/proofreading/session.h).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/image/volume.h"
#include "io/chunk_store.h"

namespace uniem::web {

struct ProjectInfo {
  std::array<int64_t, 3> shape{};
  VoxelSize voxel_size;
  DType image_dtype = DType::u8;
  std::array<double, 2> window{0, 255};  // image values shown as black and white
  int levels = 1;
  std::array<int64_t, 3> label_chunk{8, 128, 128}, image_tile{1, 512, 512};
  nlohmann::json to_json() const;
};

// A stack to import, read a few sections at a time and in order (io/stack.h StackReader, or a
// volume in memory), so that an import never holds a whole stack.
struct ImportSource {
  std::string name;  // for messages: the file or folder
  DType dtype = DType::u8;
  int64_t channels = 1;
  std::array<int64_t, 3> shape{};                // z, y, x
  std::function<Volume(int64_t count)> next;     // the next `count` sections
};
ImportSource import_source(const Volume& v, const std::string& name);  // v must outlive the source

// Imports `image` (8 or 16-bit grey) and optional `labels` (any integer type, values up to
// 2^32 - 1, same shape) into a new project folder, one slab of label chunks at a time, with
// progress. Throws InputError (naming the source) for unusable input and when the folder exists
// and is not empty; a failed import leaves nothing.
void create_project(const std::filesystem::path& folder, const ImportSource& image, const ImportSource* labels,
                    const VoxelSize& voxel_size);
void create_project(const std::filesystem::path& folder, const Volume& image, const Volume* labels,
                    const std::string& image_name, const std::string& labels_name);

class Project {
 public:
  explicit Project(const std::filesystem::path& folder);  // throws InputError naming what is wrong

  const ProjectInfo& info() const { return info_; }
  const std::filesystem::path& folder() const { return folder_; }
  std::array<int64_t, 2> level_size(int level) const;  // y, x

  // Section z of pyramid level `level` in the image's own type.
  Volume image_section(int64_t z, int level) const;
  // The same as an 8-bit PNG, values lo..hi mapped to 0..255; cached (the image never changes).
  std::string image_png(int64_t z, int level, double lo, double hi) const;
  // The cut across the sections at full resolution: "xz" through y = at (rows z, columns x) or
  // "yz" through x = at (rows z, columns y), in the image's own type; and as a PNG, as above.
  Volume image_plane(const std::string& plane, int64_t at) const;
  std::string image_plane_png(const std::string& plane, int64_t at, double lo, double hi) const;

  const ChunkStore& labels() const { return labels_; }

 private:
  std::filesystem::path folder_;
  ProjectInfo info_;
  std::vector<ChunkStore> levels_;
  ChunkStore labels_;
  // What read() gives, windowed lo..hi as an 8-bit PNG, cached under `what` and the window.
  std::string windowed_png(const std::string& what, double lo, double hi, const std::function<Volume()>& read) const;
  // Tile `index` of the full-resolution image, decoded; the cuts across the sections read a row
  // of a tile of every section, and the next cut nearby reads the same tiles again.
  std::shared_ptr<const Volume> image_tile(int64_t index) const;
  mutable std::mutex tiles_mutex_;
  mutable std::list<std::pair<int64_t, std::shared_ptr<const Volume>>> tiles_;  // most recent first
  mutable std::map<int64_t, decltype(tiles_)::iterator> tile_at_;
  mutable int64_t tile_bytes_ = 0;
  mutable std::mutex cache_mutex_;
  mutable std::list<std::pair<std::string, std::string>> cache_;  // most recent first
};

}  // namespace uniem::web
