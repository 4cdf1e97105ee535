// Surfaces of a proofreading project's segments, made when asked (the 3D annotator, the
// proofreader's 3D panel): the segment's mask (Session::segment_mask) through the pipeline of
// `uniem mesh` (io/label_meshes.h: marching cubes, Taubin smoothing), in nm, as binary PLY. Kept
// per segment until the segment changes (its version of last change), so asking again costs
// nothing and an edited segment is meshed anew. For display a surface is decimated to at most
// `display_triangles` (the full one on request); a segment whose box holds more than
// `max_voxels` is meshed at a coarser level (every 2nd, 3rd... voxel), and says so. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "web/proofreading/session.h"

namespace uniem::web {

struct SegmentMesh {
  std::string ply;          // binary PLY, nm
  nlohmann::json info;      // {"segment", "vertices", "triangles", "full_triangles", "area_nm2",
                            //  "volume_nm3", "level" (1: every voxel), "decimated", "version", "bytes"}
};

class SegmentMeshes {
 public:
  explicit SegmentMeshes(const Session& session, int64_t display_triangles = 200000, int64_t max_voxels = int64_t{128} << 20)
      : session_(session), display_triangles_(display_triangles), max_voxels_(max_voxels) {}
  // RequestError 404 for a segment that does not exist. `cached` says whether it was made before.
  std::shared_ptr<const SegmentMesh> get(uint32_t id, bool full, bool* cached = nullptr);

 private:
  const Session& session_;
  int64_t display_triangles_, max_voxels_;
  std::mutex mutex_;
  std::map<std::pair<uint32_t, bool>, std::shared_ptr<const SegmentMesh>> made_;
  int64_t made_bytes_ = 0;  // of the PLY kept (at most 256 MB: then the cache starts afresh)
};

}  // namespace uniem::web
