// Meshing a label volume into a folder (see label_meshes.h).
#include "io/label_meshes.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/image/objects.h"
#include "core/progress.h"
#include "core/threads.h"
#include "io/atomic_output.h"

namespace fs = std::filesystem;

namespace uniem {
namespace {

std::string measurements_csv(const std::vector<LabelMesh>& meshes, const std::vector<MeshMeasures>& measures,
                             const std::vector<ObjectStatistics>& objects, const VoxelSize& size) {
  std::ostringstream csv;
  csv.precision(10);
  csv << "label,voxels,voxel_volume_nm3,mesh_volume_nm3,surface_area_nm2,z_min,y_min,x_min,z_max,y_max,x_max,"
         "centroid_z_nm,centroid_y_nm,centroid_x_nm,vertices,triangles\n";
  const double voxel_volume = size.z * size.y * size.x;
  size_t j = 0;
  for (size_t i = 0; i < meshes.size(); ++i) {
    const LabelMesh& m = meshes[i];
    while (j < objects.size() && objects[j].id < m.label) ++j;
    UNIEM_CHECK(j < objects.size() && objects[j].id == m.label, "a mesh for a label without voxels");
    const ObjectStatistics& o = objects[j];
    const MeshMeasures& mm = measures[i];
    csv << m.label << "," << o.voxels << "," << static_cast<double>(o.voxels) * voxel_volume << "," << mm.volume << ","
        << mm.area;
    for (auto v : o.min) csv << "," << v;
    for (auto v : o.max) csv << "," << v;
    csv << "," << o.centroid[0] * size.z << "," << o.centroid[1] * size.y << "," << o.centroid[2] * size.x << ","
        << m.mesh.vertices.size() << "," << m.mesh.triangles.size() << "\n";
  }
  return csv.str();
}

std::string label_list(const std::vector<ObjectStatistics>& objects) {
  std::string s;
  for (size_t i = 0; i < objects.size() && i < 12; ++i) s += (i ? ", " : "") + std::to_string(objects[i].id);
  if (objects.size() > 12) s += ", ... (" + std::to_string(objects.size()) + " labels)";
  return s.empty() ? "none" : s;
}

}  // namespace

MeshSummary write_label_meshes(const Volume& labels, const std::string& source, const fs::path& folder,
                               const MeshJob& job) {
  if (!dtype_is_integer(labels.dtype()) || labels.channels() != 1)
    throw InputError(source, std::string("meshes need a label volume (8-64 bit integers, one channel), this is ") +
                                 dtype_name(labels.dtype()) + (labels.channels() > 1 ? " colour" : "") +
                                 "; label it first ('uniem label') or convert it ('uniem convert --bits')");
  if (!job.allow_noisy_labels) {
    // An EM image given by mistake is an integer volume too; in a label volume most voxels share
    // their value with the next one along x, in an image (noise) few do.
    int64_t pairs = 0, equal = 0;
    visit_dtype(labels.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* v = labels.data<T>();
      const int64_t step = std::max<int64_t>(1, labels.voxels() / 4'000'000);
      for (int64_t i = 0; i + 1 < labels.voxels(); i += step) {
        if ((i + 1) % labels.nx() == 0) continue;
        ++pairs;
        equal += v[i] == v[i + 1];
      }
    });
    if (pairs > 1000 && equal < pairs * 3 / 10)
      throw InputError(source, "looks like an image, not labels: only " + std::to_string(100 * equal / pairs) +
                                   "% of neighbouring voxels share a value; segment it first ('uniem watershed', "
                                   "'uniem label') or, if these are labels, pass --noisy-labels");
  }
  const auto objects = object_statistics(labels);
  std::vector<ObjectStatistics> present;
  for (const auto& o : objects)
    if (o.id != 0) present.push_back(o);
  for (uint64_t wanted : job.surfaces.labels)
    if (!std::any_of(present.begin(), present.end(), [&](const ObjectStatistics& o) { return o.id == wanted; }))
      throw InputError(source, "label " + std::to_string(wanted) + " does not occur; labels present: " + label_list(present));

  std::vector<LabelMesh> meshes = label_surfaces(labels, job.surfaces);
  {
    Progress progress("smoothing and decimating meshes", static_cast<int64_t>(meshes.size()));
    parallel_for(0, static_cast<int64_t>(meshes.size()), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        Mesh& m = meshes[static_cast<size_t>(i)].mesh;
        if (job.smooth) smooth(m, job.smoothing);
        decimate(m, job.decimation);
        progress.advance();
      }
    });
  }
  MeshSummary summary;
  summary.objects = static_cast<int64_t>(meshes.size());
  for (const auto& m : meshes) {
    summary.triangles += static_cast<int64_t>(m.mesh.triangles.size());
    summary.vertices += static_cast<int64_t>(m.mesh.vertices.size());
  }

  std::vector<MeshMeasures> measures;
  for (const auto& m : meshes) measures.push_back(measure(m.mesh));
  if (job.format == "precomputed") {
    std::vector<SegmentProperty> props = {{"voxels", {}}, {"volume_nm3", {}}, {"surface_area_nm2", {}}};
    size_t j = 0;
    for (size_t i = 0; i < meshes.size(); ++i) {
      while (present[j].id < meshes[i].label) ++j;
      props[0].values.push_back(static_cast<double>(present[j].voxels));
      props[1].values.push_back(measures[i].volume);
      props[2].values.push_back(measures[i].area);
    }
    write_precomputed(folder, meshes, props);
  } else {
    MeshFormat format = MeshFormat::ply;
    if (job.format == "obj") format = MeshFormat::obj;
    else if (job.format == "stl") format = MeshFormat::stl;
    else UNIEM_CHECK(job.format == "ply", "unknown mesh format " + job.format);
    if (job.single_file) {
      if (!meshes.empty())
        write_file_atomically(folder / (std::string("meshes") + mesh_format_extension(format)), encode_meshes(meshes, format),
                              false);
    } else {
      Progress progress("writing meshes", static_cast<int64_t>(meshes.size()));
      for (const auto& m : meshes) {
        write_file_atomically(folder / ("label_" + std::to_string(m.label) + mesh_format_extension(format)),
                              encode_mesh(m.mesh, format), false, false);  // one of many: no listing of the folder
        progress.advance();
      }
    }
  }
  write_file_atomically(folder / "measurements.csv", measurements_csv(meshes, measures, present, labels.voxel_size), false);
  return summary;
}

}  // namespace uniem
