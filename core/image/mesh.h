// Triangle meshes of segmented objects, and what can be measured on them.
//
// A Mesh holds indexed triangles: vertices in physical units (nm) in (x, y, z) order, the order
// mesh files and viewers use (volumes are (z, y, x)); each triangle lists three vertex indices
// counter-clockwise seen from outside, so right-hand normals point out of the object. The meshes
// that mesh_surfaces.h makes are closed (every edge in exactly two triangles) and stay so through
// mesh_smooth.h and mesh_decimate.h; the checks below say whether a mesh is.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

namespace uniem {

using Vec3 = std::array<float, 3>;
using Triangle = std::array<uint32_t, 3>;

// Storage of mesh arrays: resize() leaves new elements unwritten, since whoever grows a mesh
// array writes every element (the surface extraction fills 120 MB for a 256^3 blob field, and a
// zeroing pass first cost as much as a third of the extraction), and large arrays are anonymous
// mappings with transparent huge pages, as volumes are (volume.h), which cuts page faults 512-fold.
std::byte* allocate_mesh_storage(size_t bytes);
void free_mesh_storage(std::byte* p, size_t bytes);
template <class T>
struct MeshAllocator {
  using value_type = T;
  MeshAllocator() = default;
  template <class U>
  MeshAllocator(const MeshAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return reinterpret_cast<T*>(allocate_mesh_storage(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { free_mesh_storage(reinterpret_cast<std::byte*>(p), n * sizeof(T)); }
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;  // default-initialised: left as it is for Vec3 and Triangle
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <class U>
  bool operator==(const MeshAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const MeshAllocator<U>&) const noexcept { return false; }
};
using Vec3Array = std::vector<Vec3, MeshAllocator<Vec3>>;
using TriangleArray = std::vector<Triangle, MeshAllocator<Triangle>>;

struct Mesh {
  Vec3Array vertices;       // (x, y, z), nm
  TriangleArray triangles;  // vertex indices, outward counter-clockwise
  bool empty() const { return triangles.empty(); }
};

// The surface of one object of a label volume.
struct LabelMesh {
  uint64_t label = 0;
  Mesh mesh;
};

struct MeshMeasures {
  double area = 0;    // nm^2
  double volume = 0;  // enclosed volume, nm^3 (signed: positive for an outward-facing closed mesh)
  Vec3 min{}, max{};  // bounding box of the vertices, (x, y, z) nm
  Vec3 centroid{};    // centroid of the enclosed solid, (x, y, z) nm
};
MeshMeasures measure(const Mesh& mesh);

// Area-weighted vertex normals, unit length (zero for a vertex of degenerate triangles only).
std::vector<Vec3> vertex_normals(const Mesh& mesh);

struct MeshTopology {
  int64_t vertices = 0, edges = 0, faces = 0;
  int64_t boundary_edges = 0;     // edges in one triangle
  int64_t nonmanifold_edges = 0;  // edges in three or more
  int64_t misoriented_edges = 0;  // edges its two triangles walk in the same direction
  int64_t degenerate_triangles = 0;  // repeated vertex or zero area
  int64_t unused_vertices = 0;
  int64_t euler_characteristic() const { return vertices - edges + faces; }
  // Every edge in exactly two triangles that walk it in opposite directions, no degenerate
  // triangle: a closed, consistently oriented surface.
  bool closed() const {
    return boundary_edges == 0 && nonmanifold_edges == 0 && misoriented_edges == 0 && degenerate_triangles == 0;
  }
};
MeshTopology topology(const Mesh& mesh);

}  // namespace uniem
