#include "web/proofreading/segment_meshes.h"

#include <algorithm>
#include <cmath>

#include "core/image/mesh_decimate.h"
#include "core/image/mesh_smooth.h"
#include "core/image/mesh_surfaces.h"
#include "io/mesh_files.h"

namespace uniem::web {
namespace {
constexpr int64_t max_cached_bytes = int64_t{256} << 20;
}  // namespace

std::shared_ptr<const SegmentMesh> SegmentMeshes::get(uint32_t id, bool full, bool* cached) {
  const auto [voxels, changed] = session_.segment_state(id);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = made_.find({id, full});
    if (it != made_.end() && it->second->info["version"] == changed) {
      if (cached) *cached = true;
      return it->second;
    }
  }
  if (cached) *cached = false;
  // The box's size decides the level, before any mask is made.
  std::array<int64_t, 6> box = session_.segment_bounds(id);
  const double box_voxels = static_cast<double>(box[3] - box[0]) * static_cast<double>(box[4] - box[1]) * static_cast<double>(box[5] - box[2]);
  const int64_t step = box_voxels > static_cast<double>(max_voxels_)
                           ? static_cast<int64_t>(std::ceil(std::cbrt(box_voxels / static_cast<double>(max_voxels_))))
                           : 1;
  int64_t version = 0;
  Volume mask = session_.segment_mask(id, step, box, version);
  auto meshes = label_surfaces(mask);
  auto made = std::make_shared<SegmentMesh>();
  Mesh m = meshes.empty() ? Mesh() : std::move(meshes.front().mesh);
  const VoxelSize& vs = session_.project().info().voxel_size;
  const double offset[3] = {static_cast<double>(box[2]) * vs.x, static_cast<double>(box[1]) * vs.y, static_cast<double>(box[0]) * vs.z};
  for (auto& v : m.vertices)
    for (int a = 0; a < 3; ++a) v[static_cast<size_t>(a)] += static_cast<float>(offset[a]);
  if (!m.empty()) smooth(m);  // as uniem mesh does by default
  const int64_t full_triangles = static_cast<int64_t>(m.triangles.size());
  const MeshMeasures measures = measure(m);  // of the full surface, as measurements.csv gives it
  bool decimated = false;
  if (!full && full_triangles > display_triangles_) {
    decimate(m, {.ratio = 1.0, .triangles = display_triangles_});
    decimated = true;
  }
  made->ply = m.empty() ? std::string() : encode_mesh(m, MeshFormat::ply);
  made->info = {{"segment", id},
                {"voxels", voxels},
                {"vertices", m.vertices.size()},
                {"triangles", m.triangles.size()},
                {"full_triangles", full_triangles},
                {"area_nm2", measures.area},
                {"volume_nm3", measures.volume},
                {"level", step},
                {"decimated", decimated},
                {"version", version},
                {"bytes", made->ply.size()}};
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto old = made_.find({id, full}); old != made_.end()) made_bytes_ -= static_cast<int64_t>(old->second->ply.size());
  made_bytes_ += static_cast<int64_t>(made->ply.size());
  if (made_bytes_ > max_cached_bytes) {  // kept within bounds: start afresh rather than grow
    made_.clear();
    made_bytes_ = static_cast<int64_t>(made->ply.size());
  }
  made_[{id, full}] = made;
  return made;
}

}  // namespace uniem::web
