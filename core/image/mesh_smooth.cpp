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
  // Both directions of every triangle edge, bucketed by vertex (a counting sort), then each
  // vertex's short list sorted and made unique: an edge shared by two triangles counts once.
  const size_t n = mesh.vertices.size();
  std::vector<uint32_t> count(n + 1, 0);
  for (const auto& t : mesh.triangles)
    for (auto v : t) count[v + 1] += 2;
  for (size_t i = 0; i < n; ++i) count[i + 1] += count[i];
  std::vector<uint32_t> raw(count[n]), fill(count.begin(), count.end() - 1);
  for (const auto& t : mesh.triangles)
    for (int k = 0; k < 3; ++k) {
      const uint32_t a = t[k], b = t[(k + 1) % 3];
      raw[fill[a]++] = b;
      raw[fill[b]++] = a;
    }
  Adjacency a;
  a.start.assign(n + 1, 0);
  a.index.reserve(raw.size() / 2);
  for (size_t v = 0; v < n; ++v) {
    auto begin = raw.begin() + count[v], end = raw.begin() + count[v + 1];
    std::sort(begin, end);
    end = std::unique(begin, end);
    a.index.insert(a.index.end(), begin, end);
    a.start[v + 1] = static_cast<uint32_t>(a.index.size());
  }
  return a;
}

void step(const Adjacency& a, const Vec3Array& from, Vec3Array& to, float factor) {
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
  Vec3Array other(mesh.vertices.size());
  for (int i = 0; i < o.iterations; ++i) {
    step(a, mesh.vertices, other, static_cast<float>(o.lambda));
    step(a, other, mesh.vertices, static_cast<float>(mu));
  }
}

}  // namespace uniem
