// Surfaces of every object of a label volume, all objects in the same sweeps of the volume
// (marching cubes, Lorensen and Cline 1987, with a case table derived from one face rule so that
// it needs no hand-written table and never leaves holes).
//
// Each object's surface passes through the midpoints of the grid edges that join one of its
// voxels to a voxel of any other value, background or another object: two touching objects get
// two closed surfaces that share those points but no triangles. The volume is treated as if
// surrounded by background, so objects that touch its border are closed there. On every cube face
// where two diagonal corners belong to the object and the other two do not, the corners are kept
// apart (the object is 6-connected, the rest 26-connected), and the same face rule decides both
// cubes that share the face: each edge ends up in exactly two triangles, vertices are shared,
// triangles face outwards. A voxelised sphere gives a sphere (Euler characteristic 2).
//
// Positions are physical: voxel (z, y, x) sits at (x * sx, y * sy, z * sz) nm, with the volume's
// voxel size. With downsample f > 1 the volume is first reduced to blocks of f^3 voxels, each
// taking the most frequent value of its block (ties to the smaller label), and block centres sit
// where their voxels' centre was. Runs on the uniem thread pool, in runs of sections, two passes
// (count, then write once into meshes allocated at their final size); the result does not depend
// on the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "core/image/mesh.h"
#include "core/image/volume.h"

namespace uniem {

struct SurfaceOptions {
  std::vector<uint64_t> labels;  // only these objects; empty: every nonzero label
  int downsample = 1;            // block size f >= 1
};

// Throws InputError for a volume that is not a one-channel integer label volume. Meshes are
// sorted by label; a requested label that does not occur gets no mesh.
std::vector<LabelMesh> label_surfaces(const Volume& labels, const SurfaceOptions& options = {});

// The mode of each f x f x f block (ties to the smaller value); partial blocks at the far
// borders count only their voxels. The voxel size is multiplied by f.
Volume downsample_labels(const Volume& labels, int factor);

}  // namespace uniem
