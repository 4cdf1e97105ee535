// Meshing a label volume into a folder: `uniem mesh`, `uniem demo`, and the pages that show meshes.
//
// The folder gets one file per object (label_N.ply, or .obj/.stl), or one file with all
// (meshes.ply), or a Neuroglancer precomputed mesh source, and always measurements.csv: per object
// the voxel count and voxel volume, the enclosed volume and surface area of its mesh, the bounding
// box and centroid (voxels and nm), and the mesh size.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/image/mesh_decimate.h"
#include "core/image/mesh_smooth.h"
#include "core/image/mesh_surfaces.h"
#include "io/mesh_files.h"

namespace uniem {

struct MeshJob {
  SurfaceOptions surfaces;
  bool smooth = true;
  SmoothOptions smoothing;
  DecimateOptions decimation;
  std::string format = "ply";  // ply, obj, stl or precomputed
  bool single_file = false;
  bool allow_noisy_labels = false;  // skip the check that the volume is labels, not an image
};

struct MeshSummary {
  int64_t objects = 0, triangles = 0, vertices = 0;
  bool all_closed = true;
};

// `folder` must exist. `source` names the volume in error messages. Throws InputError for a
// requested label that does not occur.
MeshSummary write_label_meshes(const Volume& labels, const std::string& source, const std::filesystem::path& folder,
                               const MeshJob& job);

}  // namespace uniem
