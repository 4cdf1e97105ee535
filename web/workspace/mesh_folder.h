// A mesh folder written by `uniem mesh` (io/label_meshes.h), as the 3D annotator reads it: the
// objects of measurements.csv, each with its surface file (label_N.ply, .obj or .stl, or the
// fragment N.frag of Neuroglancer's precomputed format, in nm); and
// what people add to it, kept in the folder's annotations.json:
//   {"version": V, "objects": {"ID": {"name", "colour": "#rrggbb"}}, "markers": [{"id", "name",
//    "type", "note", "x", "y", "z" (nm), "segment"}], "next_marker": N}
// Every change is on disk (written aside, fsync'ed, renamed: io/atomic_output.h) before it is
// acknowledged, and adds one to the version. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace uniem::web {

struct MeshObject {
  int64_t id = 0, voxels = 0, vertices = 0, triangles = 0;
  double volume_nm3 = 0, area_nm2 = 0;
  std::array<double, 3> centroid_nm{};   // z, y, x
  std::array<int64_t, 6> box{};          // z, y, x min, then max, in voxels
  std::string file;                      // its surface file's name in the folder ("" when none)
};

class MeshFolder {
 public:
  // InputError naming the file when `folder` holds no measurements.csv, or it cannot be read.
  explicit MeshFolder(std::filesystem::path folder);

  const std::filesystem::path& folder() const { return folder_; }
  const std::vector<MeshObject>& objects() const { return objects_; }
  const MeshObject* find(int64_t id) const;

  // A page of the object table, with the names and colours given: {"total", "offset", "objects"},
  // sorted by `sort` (id, name, voxels, volume, area; descending with `descending`), filtered by
  // `search` (in the id or the name). RequestError 400 for an unknown sort.
  nlohmann::json page(const std::string& sort, bool descending, const std::string& search, int64_t offset, int64_t limit);
  nlohmann::json annotations();
  // One change: {"op": "add", "marker": {...}} (its id given by the folder), "move" {"id", "x",
  // "y", "z", "segment"?}, "edit" {"id", "name"?, "type"?, "note"?}, "delete" {"id"}, "restore"
  // {"marker"} (a deleted one, with its id: undo), "object" {"object", "name"?, "colour"?}.
  // Returns the annotations after it; RequestError 400 naming the field that is wrong, 404 for an
  // unknown marker or object.
  nlohmann::json change(const nlohmann::json& op);
  // Markers from CSV (id,name,type,x,y,z,segment[,note]; a header line first): all are added, or
  // none (RequestError 400 naming the line and what is wrong in it). Ids are given anew.
  nlohmann::json import_markers(const std::string& csv);
  std::string objects_csv();
  std::string markers_csv();

 private:
  void save();  // under the lock
  std::filesystem::path folder_;
  std::vector<MeshObject> objects_;
  std::mutex mutex_;
  nlohmann::json notes_;  // annotations.json
};

}  // namespace uniem::web
