// Quadric-error edge collapse with a lazy priority queue (stale entries are skipped by version).
#include "core/image/mesh_decimate.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <string>

#include "core/error.h"

namespace uniem {
namespace {

using D3 = std::array<double, 3>;

// Symmetric 4x4 quadric, upper triangle: a2 ab ac ad b2 bc bd c2 cd d2.
struct Quadric {
  double q[10] = {};
  void add_plane(const D3& n, double d, double weight) {
    const double p[4] = {n[0], n[1], n[2], d};
    int k = 0;
    for (int i = 0; i < 4; ++i)
      for (int j = i; j < 4; ++j) q[k++] += weight * p[i] * p[j];
  }
  Quadric& operator+=(const Quadric& o) {
    for (int i = 0; i < 10; ++i) q[i] += o.q[i];
    return *this;
  }
  double error(const D3& v) const {
    const double x = v[0], y = v[1], z = v[2];
    return q[0] * x * x + 2 * q[1] * x * y + 2 * q[2] * x * z + 2 * q[3] * x + q[4] * y * y + 2 * q[5] * y * z +
           2 * q[6] * y + q[7] * z * z + 2 * q[8] * z + q[9];
  }
  // The minimiser, when the 3x3 system is well conditioned.
  bool optimum(D3& out) const {
    const double a = q[0], b = q[1], c = q[2], e = q[4], f = q[5], i = q[7];
    const double det = a * (e * i - f * f) - b * (b * i - f * c) + c * (b * f - e * c);
    const double scale = std::abs(a) + std::abs(e) + std::abs(i);
    if (!(std::abs(det) > 1e-10 * scale * scale * scale)) return false;
    const double r[3] = {-q[3], -q[6], -q[8]};
    out[0] = (r[0] * (e * i - f * f) - b * (r[1] * i - f * r[2]) + c * (r[1] * f - e * r[2])) / det;
    out[1] = (a * (r[1] * i - f * r[2]) - r[0] * (b * i - f * c) + c * (b * r[2] - r[1] * c)) / det;
    out[2] = (a * (e * r[2] - r[1] * f) - b * (b * r[2] - r[1] * c) + r[0] * (b * f - e * c)) / det;
    return true;
  }
};

D3 sub(const D3& a, const D3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
D3 cross(const D3& a, const D3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const D3& a, const D3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

struct Candidate {
  double cost;
  uint32_t u, v;
  uint32_t version_u, version_v;
  bool operator<(const Candidate& o) const {  // std::priority_queue pops the largest: invert
    if (cost != o.cost) return cost > o.cost;
    return u != o.u ? u > o.u : v > o.v;
  }
};

class Decimator {
 public:
  explicit Decimator(Mesh& mesh) : mesh_(mesh) {
    const size_t n = mesh.vertices.size();
    position_.resize(n);
    for (size_t i = 0; i < n; ++i) position_[i] = {mesh.vertices[i][0], mesh.vertices[i][1], mesh.vertices[i][2]};
    quadric_.resize(n);
    around_.resize(n);
    version_.assign(n, 0);
    alive_.assign(mesh.triangles.size(), 1);
    live_ = static_cast<int64_t>(mesh.triangles.size());
    for (uint32_t t = 0; t < mesh.triangles.size(); ++t) {
      const auto& tri = mesh.triangles[t];
      const D3 n3 = cross(sub(position_[tri[1]], position_[tri[0]]), sub(position_[tri[2]], position_[tri[0]]));
      const double length = std::sqrt(dot(n3, n3));
      if (length > 0) {
        const D3 unit = {n3[0] / length, n3[1] / length, n3[2] / length};
        Quadric q;
        q.add_plane(unit, -dot(unit, position_[tri[0]]), 0.5 * length);
        for (auto v : tri) quadric_[v] += q;
      }
      for (auto v : tri) around_[v].push_back(t);
    }
    for (uint32_t t = 0; t < mesh.triangles.size(); ++t)
      for (int k = 0; k < 3; ++k) {
        const uint32_t a = mesh.triangles[t][k], b = mesh.triangles[t][(k + 1) % 3];
        if (a < b) push(a, b);
      }
  }

  int64_t run(int64_t target) {
    while (live_ > target && !queue_.empty()) {
      const Candidate c = queue_.top();
      queue_.pop();
      if (version_[c.u] != c.version_u || version_[c.v] != c.version_v) continue;
      collapse(c);
    }
    compact();
    return live_;
  }

 private:
  // Where edge (a, b) would collapse to, and at what cost.
  double placement(uint32_t a, uint32_t b, D3& best) const {
    Quadric q = quadric_[a];
    q += quadric_[b];
    if (!q.optimum(best) || dot(sub(best, position_[a]), sub(best, position_[a])) >
                                4 * dot(sub(position_[b], position_[a]), sub(position_[b], position_[a]))) {
      // Ill-conditioned or far away: the better of the ends and the midpoint.
      best = {(position_[a][0] + position_[b][0]) / 2, (position_[a][1] + position_[b][1]) / 2,
              (position_[a][2] + position_[b][2]) / 2};
      for (const D3& p : {position_[a], position_[b]})
        if (q.error(p) < q.error(best)) best = p;
    }
    return std::max(0.0, q.error(best));
  }

  void push(uint32_t a, uint32_t b) {
    D3 best;
    queue_.push({placement(a, b, best), a, b, version_[a], version_[b]});
  }

  uint32_t third(uint32_t t, uint32_t a, uint32_t b) const {
    for (auto x : mesh_.triangles[t])
      if (x != a && x != b) return x;
    return a;
  }

  bool has(uint32_t t, uint32_t v) const {
    const auto& tri = mesh_.triangles[t];
    return tri[0] == v || tri[1] == v || tri[2] == v;
  }

  void neighbours(uint32_t v, std::vector<uint32_t>& out) const {
    out.clear();
    for (auto t : around_[v])
      for (auto x : mesh_.triangles[t])
        if (x != v) out.push_back(x);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  }

  void collapse(const Candidate& c) {
    const uint32_t u = c.u, v = c.v;
    D3 position;
    placement(u, v, position);
    // The two triangles of edge uv and their third vertices.
    std::vector<uint32_t> shared;
    for (auto t : around_[u])
      if (has(t, v)) shared.push_back(t);
    if (shared.size() != 2) return;
    const uint32_t a = third(shared[0], u, v), b = third(shared[1], u, v);
    neighbours(u, nu_);
    neighbours(v, nv_);
    common_.clear();
    std::set_intersection(nu_.begin(), nu_.end(), nv_.begin(), nv_.end(), std::back_inserter(common_));
    if (common_.size() != 2 || !((common_[0] == a && common_[1] == b) || (common_[0] == b && common_[1] == a))) return;
    // No triangle twice: with the link condition, that happens only when both (u, a, b) and
    // (v, a, b) exist (the edge is part of a tetrahedron).
    const auto spans_ab = [&](uint32_t end) {
      for (auto t : around_[end])
        if (has(t, a) && has(t, b)) return true;
      return false;
    };
    if (spans_ab(u) && spans_ab(v)) return;
    // No fold-over and no collapsed triangle among those that remain.
    for (uint32_t end : {u, v})
      for (auto t : around_[end]) {
        if (has(t, u) && has(t, v)) continue;
        D3 p[3], q[3];
        for (int k = 0; k < 3; ++k) {
          const uint32_t x = mesh_.triangles[t][k];
          p[k] = position_[x];
          q[k] = (x == u || x == v) ? position : position_[x];
        }
        const D3 before = cross(sub(p[1], p[0]), sub(p[2], p[0]));
        const D3 after = cross(sub(q[1], q[0]), sub(q[2], q[0]));
        const double nb = std::sqrt(dot(before, before)), na = std::sqrt(dot(after, after));
        if (!(na > 1e-6 * nb) || dot(before, after) < 0.2 * nb * na) return;
      }
    // Collapse v into u.
    for (auto t : shared) {
      alive_[t] = 0;
      live_ -= 1;
      for (auto x : mesh_.triangles[t])
        if (x != u && x != v) around_[x].erase(std::find(around_[x].begin(), around_[x].end(), t));
    }
    std::vector<uint32_t> kept;
    for (auto t : around_[u])
      if (alive_[t]) kept.push_back(t);
    for (auto t : around_[v]) {
      if (!alive_[t]) continue;
      for (auto& x : mesh_.triangles[t])
        if (x == v) x = u;
      kept.push_back(t);
    }
    around_[u] = std::move(kept);
    around_[v].clear();
    position_[u] = position;
    quadric_[u] += quadric_[v];
    ++version_[u];
    ++version_[v];
    neighbours(u, nu_);
    for (auto x : nu_) push(std::min(u, x), std::max(u, x));
  }

  void compact() {
    std::vector<uint32_t> index(position_.size(), UINT32_MAX);
    Vec3Array vertices;
    TriangleArray triangles;
    for (size_t t = 0; t < alive_.size(); ++t) {
      if (!alive_[t]) continue;
      Triangle out;
      for (int k = 0; k < 3; ++k) {
        uint32_t& i = index[mesh_.triangles[t][k]];
        if (i == UINT32_MAX) {
          i = static_cast<uint32_t>(vertices.size());
          const D3& p = position_[mesh_.triangles[t][k]];
          vertices.push_back({static_cast<float>(p[0]), static_cast<float>(p[1]), static_cast<float>(p[2])});
        }
        out[k] = i;
      }
      triangles.push_back(out);
    }
    mesh_.vertices = std::move(vertices);
    mesh_.triangles = std::move(triangles);
  }

  Mesh& mesh_;
  std::vector<D3> position_;
  std::vector<Quadric> quadric_;
  std::vector<std::vector<uint32_t>> around_;
  std::vector<uint32_t> version_;
  std::vector<char> alive_;
  int64_t live_ = 0;
  std::priority_queue<Candidate> queue_;
  std::vector<uint32_t> nu_, nv_, common_;
};

}  // namespace

int64_t decimate(Mesh& mesh, const DecimateOptions& options) {
  if (!(options.ratio > 0 && options.ratio <= 1))
    throw InputError("the decimation ratio must lie in (0, 1], not " + std::to_string(options.ratio));
  if (options.triangles < 0) throw InputError("the decimation target must be a positive triangle count");
  const auto total = static_cast<int64_t>(mesh.triangles.size());
  const int64_t target = options.triangles > 0 ? options.triangles
                                               : static_cast<int64_t>(std::ceil(options.ratio * static_cast<double>(total)));
  if (target >= total || total == 0) return total;
  return Decimator(mesh).run(target);
}

}  // namespace uniem
