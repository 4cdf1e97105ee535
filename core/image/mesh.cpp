// Mesh measurements (divergence theorem for volume and centroid) and topology checks.
#include "core/image/mesh.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/image/volume.h"

namespace uniem {
namespace {

using D3 = std::array<double, 3>;

D3 as_double(const Vec3& v) { return {v[0], v[1], v[2]}; }
D3 sub(const D3& a, const D3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
D3 cross(const D3& a, const D3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const D3& a, const D3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
double norm(const D3& a) { return std::sqrt(dot(a, a)); }

}  // namespace

std::byte* allocate_mesh_storage(size_t bytes) { return allocate_storage(bytes); }
void free_mesh_storage(std::byte* p, size_t bytes) { StorageDeleter{bytes}(p); }

MeshMeasures measure(const Mesh& mesh) {
  MeshMeasures m;
  if (mesh.vertices.empty()) return m;
  m.min = m.max = mesh.vertices[0];
  for (const auto& v : mesh.vertices)
    for (int a = 0; a < 3; ++a) {
      m.min[a] = std::min(m.min[a], v[a]);
      m.max[a] = std::max(m.max[a], v[a]);
    }
  // Coordinates relative to the bounding-box centre keep the sums well conditioned far from 0.
  D3 origin;
  for (int a = 0; a < 3; ++a) origin[a] = 0.5 * (double(m.min[a]) + double(m.max[a]));
  double area = 0, volume6 = 0;
  D3 moment{};  // sum over tetrahedra (origin, a, b, c) of 6 * volume * (a + b + c)
  for (const auto& t : mesh.triangles) {
    const D3 a = sub(as_double(mesh.vertices[t[0]]), origin);
    const D3 b = sub(as_double(mesh.vertices[t[1]]), origin);
    const D3 c = sub(as_double(mesh.vertices[t[2]]), origin);
    const D3 n = cross(sub(b, a), sub(c, a));
    area += 0.5 * norm(n);
    const double v6 = dot(a, cross(b, c));
    volume6 += v6;
    for (int k = 0; k < 3; ++k) moment[k] += v6 * (a[k] + b[k] + c[k]);
  }
  m.area = area;
  m.volume = volume6 / 6;
  for (int k = 0; k < 3; ++k)
    m.centroid[k] = static_cast<float>(volume6 != 0 ? origin[k] + moment[k] / (4 * volume6) : origin[k]);
  return m;
}

std::vector<Vec3> vertex_normals(const Mesh& mesh) {
  std::vector<D3> sum(mesh.vertices.size(), D3{});
  for (const auto& t : mesh.triangles) {
    const D3 a = as_double(mesh.vertices[t[0]]);
    const D3 n = cross(sub(as_double(mesh.vertices[t[1]]), a), sub(as_double(mesh.vertices[t[2]]), a));
    for (auto i : t)
      for (int k = 0; k < 3; ++k) sum[i][k] += n[k];
  }
  std::vector<Vec3> normals(mesh.vertices.size(), Vec3{});
  for (size_t i = 0; i < sum.size(); ++i) {
    const double length = norm(sum[i]);
    if (length > 0)
      for (int k = 0; k < 3; ++k) normals[i][k] = static_cast<float>(sum[i][k] / length);
  }
  return normals;
}

MeshTopology topology(const Mesh& mesh) {
  MeshTopology t;
  t.vertices = static_cast<int64_t>(mesh.vertices.size());
  t.faces = static_cast<int64_t>(mesh.triangles.size());
  // Each directed half-edge as (min, max, direction); sorting groups the uses of an edge.
  struct HalfEdge {
    uint32_t lo, hi;
    bool forward;
    bool operator<(const HalfEdge& o) const { return lo != o.lo ? lo < o.lo : hi < o.hi; }
  };
  std::vector<HalfEdge> half;
  half.reserve(mesh.triangles.size() * 3);
  std::vector<char> used(mesh.vertices.size(), 0);
  for (const auto& tri : mesh.triangles) {
    const D3 a = as_double(mesh.vertices[tri[0]]);
    const double twice_area =
        norm(cross(sub(as_double(mesh.vertices[tri[1]]), a), sub(as_double(mesh.vertices[tri[2]]), a)));
    if (tri[0] == tri[1] || tri[1] == tri[2] || tri[0] == tri[2] || !(twice_area > 0)) ++t.degenerate_triangles;
    for (int k = 0; k < 3; ++k) {
      const uint32_t p = tri[k], q = tri[(k + 1) % 3];
      used[p] = 1;
      half.push_back({std::min(p, q), std::max(p, q), p < q});
    }
  }
  std::sort(half.begin(), half.end());
  for (size_t i = 0; i < half.size();) {
    size_t j = i;
    while (j < half.size() && half[j].lo == half[i].lo && half[j].hi == half[i].hi) ++j;
    ++t.edges;
    const size_t uses = j - i;
    if (uses == 1) ++t.boundary_edges;
    else if (uses > 2) ++t.nonmanifold_edges;
    else if (half[i].forward == half[i + 1].forward) ++t.misoriented_edges;
    i = j;
  }
  t.unused_vertices = static_cast<int64_t>(std::count(used.begin(), used.end(), 0));
  return t;
}

}  // namespace uniem
