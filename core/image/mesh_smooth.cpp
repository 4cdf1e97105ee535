// Taubin smoothing with the uniform ("umbrella") Laplacian over each vertex's edge neighbours.
#include "core/image/mesh_smooth.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/threads.h"

namespace uniem {
namespace {

// Neighbours of every vertex, compressed rows: neighbours of v are index[start[v] .. start[v+1]).
struct Adjacency {
  std::vector<uint32_t> start, index;
};

Adjacency adjacency(const Mesh& mesh) {
  const size_t n = mesh.vertices.size();
  std::vector<std::pair<uint32_t, uint32_t>> edges;
  edges.reserve(mesh.triangles.size() * 6);
  for (const auto& t : mesh.triangles)
    for (int k = 0; k < 3; ++k) {
      edges.emplace_back(t[k], t[(k + 1) % 3]);
      edges.emplace_back(t[(k + 1) % 3], t[k]);
    }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  Adjacency a;
  a.start.assign(n + 1, 0);
  for (const auto& e : edges) ++a.start[e.first + 1];
  for (size_t i = 0; i < n; ++i) a.start[i + 1] += a.start[i];
  a.index.resize(edges.size());
  for (size_t i = 0; i < edges.size(); ++i) a.index[i] = edges[i].second;
  return a;
}

void step(const Adjacency& a, const std::vector<Vec3>& from, std::vector<Vec3>& to, float factor) {
  parallel_for(0, static_cast<int64_t>(from.size()), 4096, [&](int64_t begin, int64_t end) {
    for (int64_t v = begin; v < end; ++v) {
      const uint32_t s = a.start[static_cast<size_t>(v)], e = a.start[static_cast<size_t>(v) + 1];
      const Vec3& p = from[static_cast<size_t>(v)];
      if (s == e) {
        to[static_cast<size_t>(v)] = p;
        continue;
      }
      float mean[3] = {0, 0, 0};
      for (uint32_t i = s; i < e; ++i)
        for (int k = 0; k < 3; ++k) mean[k] += from[a.index[i]][k];
      const float inv = 1.0f / static_cast<float>(e - s);
      for (int k = 0; k < 3; ++k) to[static_cast<size_t>(v)][k] = p[k] + factor * (mean[k] * inv - p[k]);
    }
  });
}

}  // namespace

void smooth(Mesh& mesh, const SmoothOptions& o) {
  if (o.iterations < 0) throw InputError("smoothing iterations must be 0 or more, not " + std::to_string(o.iterations));
  if (!(o.lambda > 0 && o.lambda < 1)) throw InputError("the smoothing lambda must lie between 0 and 1");
  if (!(o.pass_band > 0 && o.pass_band < 1 / o.lambda))
    throw InputError("the smoothing pass band must lie between 0 and 1/lambda = " + std::to_string(1 / o.lambda));
  if (o.iterations == 0 || mesh.vertices.empty()) return;
  const double mu = 1.0 / (o.pass_band - 1.0 / o.lambda);
  const Adjacency a = adjacency(mesh);
  std::vector<Vec3> other(mesh.vertices.size());
  for (int i = 0; i < o.iterations; ++i) {
    step(a, mesh.vertices, other, static_cast<float>(o.lambda));
    step(a, other, mesh.vertices, static_cast<float>(mu));
  }
}

}  // namespace uniem
