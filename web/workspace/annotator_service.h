// The 3D annotator's routes (its page: web/assets/annotator.html at /annotator/): the mesh
// folders of the workspace (web/workspace/mesh_folder.h), their object tables a page at a time,
// their surfaces, and the names, colours and markers people add, every change on disk before it
// is acknowledged. Paths as the data service takes them (workspace_paths.h: 403 outside).
//
//   GET  /api/meshes?path=F[&sort=id|name|voxels|volume|area][&order=asc|desc][&q=TEXT]
//                   [&offset=N][&limit=N]       {"folder", "total", "offset", "objects": [{"id",
//                                               "name", "colour", "voxels", "volume_nm3",
//                                               "area_nm2", "centroid_nm" [z, y, x], "vertices",
//                                               "triangles", "file"}], "version"}
//   GET  /api/meshes/surface?path=F&id=N        the object's surface file (PLY, OBJ or STL, in nm;
//                                               a precomputed fragment is sent as PLY)
//   GET  /api/meshes/annotations?path=F         {"version", "objects": {...}, "markers": [...]}
//   POST /api/meshes/change {"path", "op", ...} one change (mesh_folder.h) -> the annotations
//   POST /api/meshes/import {"path", "csv"}     markers from CSV, all or none -> {"imported", ...}
//   GET  /api/meshes/objects.csv?path=F, /api/meshes/markers.csv?path=F   the tables, as files
// An unknown folder or object answers 404 with a JSON message.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "web/http.h"
#include "web/workspace/mesh_folder.h"
#include "web/workspace/workspace_paths.h"

namespace uniem::web {

class AnnotatorService {
 public:
  AnnotatorService(HttpServer& http, const WorkspacePaths& paths);

 private:
  // Opened once, again when measurements.csv changes; shared, so that a request still working on
  // the one replaced keeps it alive.
  std::shared_ptr<MeshFolder> folder(const std::string& path);
  const WorkspacePaths& paths_;
  std::mutex mutex_;
  struct Open {
    std::filesystem::file_time_type written;
    std::shared_ptr<MeshFolder> folder;
  };
  std::map<std::filesystem::path, Open> open_;
};

}  // namespace uniem::web
