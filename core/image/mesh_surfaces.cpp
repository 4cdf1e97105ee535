// Marching cubes over all labels at once (see mesh_surfaces.h).
//
// The case table is built at first use from one rule per cube face: walking the face's corners
// counter-clockwise seen from outside, a segment runs from each edge where the object is left to
// the edge where that run of object corners began. Every crossing edge then starts one segment
// and ends one, so the segments of a cube close into loops; each loop is a polygon, fanned into
// triangles from a corner whose diagonals stay off the cube faces (else from its centre).
//
// The volume is cut into slabs of kSlabLayers cube layers; each thread meshes a run of
// consecutive slabs with its own vertex numbers, and the runs are joined by matching the vertices
// on the plane two runs share by their grid edge. A run makes its vertices in the order the
// joined slabs would, so the result is the same for every thread count.
#include "core/image/mesh_surfaces.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "core/error.h"
#include "core/threads.h"

namespace uniem {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
constexpr int64_t kSlabLayers = 8;

// ---------------------------------------------------------------------------------- case table

// Corner c of a cube is at (x, y, z) = (c & 1, c >> 1 & 1, c >> 2 & 1). Edge e joins corner
// kEdgeLow[e] to kEdgeLow[e] | (1 << kEdgeAxis[e]).
struct CubeGeometry {
  int low[12], axis[12];
  int edge_between[8][8];
  int face_corners[6][4];  // counter-clockwise seen from outside
  bool on_face[12][6];
};

const CubeGeometry& cube() {
  static const CubeGeometry g = [] {
    CubeGeometry g{};
    int e = 0;
    for (int a = 0; a < 3; ++a)
      for (int c = 0; c < 8; ++c)
        if (!(c & (1 << a))) {
          g.low[e] = c;
          g.axis[e] = a;
          g.edge_between[c][c | (1 << a)] = g.edge_between[c | (1 << a)][c] = e;
          ++e;
        }
    for (int a = 0; a < 3; ++a) {
      const int u = (a + 1) % 3, v = (a + 2) % 3;  // u x v = +a
      const int uv[4][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
      for (int s = 0; s < 2; ++s) {
        const int f = 2 * a + s;
        for (int i = 0; i < 4; ++i) {
          const int k = s ? i : 3 - i;  // the far face looks along +a, the near one along -a
          g.face_corners[f][i] = s << a | uv[k][0] << u | uv[k][1] << v;
        }
      }
    }
    for (int e2 = 0; e2 < 12; ++e2)
      for (int b = 0; b < 3; ++b)
        if (b != g.axis[e2]) g.on_face[e2][2 * b + (g.low[e2] >> b & 1)] = true;
    return g;
  }();
  return g;
}

// Points 0..11 are edge midpoints; 12 + k is the centre of the k-th loop in `centres`.
struct CubeCase {
  int edge_count = 0, triangle_count = 0;
  uint8_t edges[12] = {};  // the crossed edges
  std::array<uint8_t, 3> triangles[16] = {};
  std::vector<std::vector<uint8_t>> centres;  // rare
  void add(uint8_t a, uint8_t b, uint8_t c) {
    UNIEM_CHECK(triangle_count < 16, "marching-cubes case with more than 16 triangles");
    triangles[triangle_count++] = {a, b, c};
  }
};

bool share_face(int e1, int e2) {
  for (int f = 0; f < 6; ++f)
    if (cube().on_face[e1][f] && cube().on_face[e2][f]) return true;
  return false;
}

CubeCase make_case(int inside_mask) {
  const CubeGeometry& g = cube();
  auto inside = [&](int c) { return (inside_mask >> c & 1) != 0; };
  int next[12];
  std::fill(next, next + 12, -1);
  for (const auto& f : g.face_corners)
    for (int i = 0; i < 4; ++i) {
      const int p = f[i], q = f[(i + 1) % 4];
      if (!inside(p) || inside(q)) continue;
      int j = i;
      while (inside(f[(j + 3) % 4])) j = (j + 3) % 4;
      next[g.edge_between[p][q]] = g.edge_between[f[(j + 3) % 4]][f[j]];
    }
  CubeCase out;
  bool seen[12] = {};
  for (int start = 0; start < 12; ++start) {
    if (next[start] < 0 || seen[start]) continue;
    std::vector<uint8_t> loop;
    for (int e = start; !seen[e]; e = next[e]) {
      seen[e] = true;
      loop.push_back(static_cast<uint8_t>(e));
      out.edges[out.edge_count++] = static_cast<uint8_t>(e);
    }
    // The face walk turns with the object on its left seen from outside the cube, which makes the
    // loop counter-clockwise seen from inside the object: reverse it to face outwards.
    std::reverse(loop.begin(), loop.end());
    const int n = static_cast<int>(loop.size());
    int apex = -1;
    for (int i = 0; i < n && apex < 0; ++i) {
      bool ok = true;
      for (int k = 2; k < n - 1 && ok; ++k) ok = !share_face(loop[i], loop[(i + k) % n]);
      if (ok) apex = i;
    }
    if (apex >= 0) {
      for (int k = 1; k < n - 1; ++k)
        out.add(loop[apex], loop[(apex + k) % n], loop[(apex + k + 1) % n]);
    } else {
      const auto centre = static_cast<uint8_t>(12 + out.centres.size());
      for (int k = 0; k < n; ++k) out.add(centre, loop[k], loop[(k + 1) % n]);
      out.centres.push_back(loop);
    }
  }
  return out;
}

const std::array<CubeCase, 256>& case_table() {
  static const std::array<CubeCase, 256> table = [] {
    std::array<CubeCase, 256> t;
    for (int m = 0; m < 256; ++m) t[m] = make_case(m);
    return t;
  }();
  return table;
}

// --------------------------------------------------------------------------------- label index

// Label -> mesh number in a slab, or -1 for a label that was not asked for. Small labels index an
// array, large ones a hash map.
class LabelIndex {
 public:
  explicit LabelIndex(const std::vector<uint64_t>* selection) : selection_(selection) {}
  // The mesh number of `label`, making a mesh the first time.
  int32_t find(uint64_t label, std::vector<uint64_t>& labels) {
    if (label == last_label_) return last_index_;
    return find_new(label, labels);
  }

 private:
  int32_t find_new(uint64_t label, std::vector<uint64_t>& labels) {
    int32_t* slot;
    if (label < kDense) {
      if (label >= dense_.size()) dense_.resize(std::max<size_t>(label + 1, dense_.size() * 2), kUnseen);
      slot = &dense_[label];
    } else {
      auto it = sparse_.try_emplace(label, kUnseen).first;
      slot = &it->second;
    }
    if (*slot == kUnseen) {
      const bool wanted =
          !selection_ || std::binary_search(selection_->begin(), selection_->end(), label);
      *slot = wanted ? static_cast<int32_t>(labels.size()) : -1;
      if (wanted) labels.push_back(label);
    }
    last_label_ = label;
    last_index_ = *slot;
    return *slot;
  }

  static constexpr uint64_t kDense = uint64_t{1} << 22;
  static constexpr int32_t kUnseen = -2;
  const std::vector<uint64_t>* selection_;
  std::vector<int32_t> dense_;
  std::unordered_map<uint64_t, int32_t> sparse_;
  uint64_t last_label_ = 0;  // label 0 is never looked up
  int32_t last_index_ = -1;
};

// ----------------------------------------------------------------------------------- one slab

// A vertex on the plane a slab shares with its neighbour: grid edge, its side, and the vertex.
struct PlaneVertex {
  uint64_t key;  // ((y * W + x) * 2 + axis) * 2 + slot, in the padded grid
  int32_t mesh;
  uint32_t vertex;
};

struct Slab {
  std::vector<uint64_t> labels;
  std::vector<Mesh> meshes;
  std::vector<PlaneVertex> bottom, top;
};

struct Grid {
  int64_t nz, ny, nx;        // volume
  int64_t D, H, W;           // padded by one voxel of background on every side
  float size[3], offset[3];  // (x, y, z): position = index * size + offset
};

// Vertex numbers on the grid edges of two padded planes (x- and y-edges, two sides each) and of the
// z-edges between them. A side (slot) is the object at the edge's low (0) or high (1) end. Entries
// are kNone except where a vertex was made; `touched` lists those, so clearing costs one write per
// vertex rather than a pass over the plane.
struct EdgeVertices {
  std::vector<uint32_t> values;
  std::vector<uint32_t*> touched;
  size_t touched_count = 0;
  void clear() {
    for (size_t i = 0; i < touched_count; ++i) *touched[i] = kNone;
    touched_count = 0;
  }
  void make_room(size_t n) {
    if (touched_count + n > touched.size()) touched.resize(std::max<size_t>(1024, 2 * (touched_count + n)));
  }
};

// A mesh that grows by whole cubes: room is made before a cube, so its vertices and triangles are
// written without per-element checks, and a vertex is written whether it turns out new or not.
struct GrowingMesh {
  Vec3Array vertices;
  TriangleArray triangles;
  size_t vertex_count = 0, triangle_count = 0;
  void make_room() {
    if (vertex_count + 16 > vertices.size() || triangle_count + 16 > triangles.size()) grow();
  }
  void grow() {
    vertices.resize(std::max<size_t>(4096, 2 * vertices.size()));
    triangles.resize(std::max<size_t>(4096, 2 * triangles.size()));
  }
  Mesh finish() {
    vertices.resize(vertex_count);
    triangles.resize(triangle_count);
    return Mesh{std::move(vertices), std::move(triangles)};
  }
};

template <class T>
class SlabMesher {
 public:
  SlabMesher(const Volume& volume, const Grid& grid, const std::vector<uint64_t>* selection)
      : volume_(volume), g_(grid), selection_(selection) {
    const size_t plane = static_cast<size_t>(g_.H * g_.W);
    for (auto& s : slices_) s.assign(plane, T{0});
    for (auto& p : xy_) p.values.assign(plane * 4, kNone);
    z_.values.assign(plane * 2, kNone);
    busy_.assign(static_cast<size_t>(g_.W) + 8, 0);
    column_.assign(static_cast<size_t>(g_.W), 0);
    const CubeGeometry& cg = cube();
    for (int e = 0; e < 12; ++e) {
      const int a = cg.low[e], bx = a & 1, by = a >> 1 & 1, bz = a >> 2 & 1;
      edge_array_[e] = cg.axis[e] == 2 ? 2 : bz;
      edge_offset_[e] = cg.axis[e] == 2 ? (by * g_.W + bx) * 2 : (by * g_.W + bx) * 4 + cg.axis[e] * 2;
    }
  }

  Slab run(int64_t z_begin, int64_t z_end) {
    slab_ = Slab{};
    index_ = LabelIndex(selection_);
    load(0, z_begin);
    for (int64_t Z = z_begin; Z < z_end; ++Z) {
      load(1, Z + 1);
      layer(Z);
      if (Z == z_begin) slab_.bottom = plane_vertices(0);
      if (Z + 1 == z_end) slab_.top = plane_vertices(1);
      z_.clear();
      xy_[0].clear();
      std::swap(slices_[0], slices_[1]);
      std::swap(xy_[0], xy_[1]);
    }
    xy_[0].clear();
    for (auto& g : growing_) slab_.meshes.push_back(g.finish());
    growing_.clear();
    return std::move(slab_);
  }

 private:
  // Padded slice Z (volume section Z - 1, or background outside the volume) into slices_[which].
  void load(int which, int64_t Z) {
    auto& s = slices_[which];
    if (Z < 1 || Z > g_.nz) {
      std::fill(s.begin(), s.end(), T{0});
      return;
    }
    const T* src = volume_.slice<T>(Z - 1);
    for (int64_t y = 0; y < g_.ny; ++y)
      std::memcpy(&s[static_cast<size_t>((y + 1) * g_.W + 1)], src + y * g_.nx, sizeof(T) * static_cast<size_t>(g_.nx));
  }

  void layer(int64_t Z) {
    touched_[0] = &xy_[0];
    touched_[1] = &xy_[1];
    touched_[2] = &z_;
    const T* s0 = slices_[0].data();
    const T* s1 = slices_[1].data();
    const int64_t W = g_.W;
    uint8_t* column = column_.data();
    uint8_t* busy = busy_.data();
    for (int64_t Y = 0; Y + 1 < g_.H; ++Y) {
      const T* r00 = s0 + Y * W;
      const T* r01 = r00 + W;
      const T* r10 = s1 + Y * W;
      const T* r11 = r10 + W;
      // Room for every vertex this row can make: 12 edges per cube, two sides each.
      for (auto* t : touched_) t->make_room(static_cast<size_t>(24 * W));
      // A cube is uniform when both its corner columns are and they agree; most are, and these
      // two vectorised passes find the others.
      for (int64_t X = 0; X < W; ++X)
        column[X] = static_cast<uint8_t>((r00[X] != r01[X]) | (r00[X] != r10[X]) | (r00[X] != r11[X]));
      for (int64_t X = 0; X + 1 < W; ++X)
        busy[X] = static_cast<uint8_t>(column[X] | column[X + 1] | (r00[X] != r00[X + 1]));
      busy[W - 1] = 0;
      // The edge numbers the busy cubes will use: the planes are too large for the cache, and
      // sparse access defeats the hardware prefetcher. One cache line holds four cells.
      for (int64_t X = 0; X + 1 < W; X += 4) {
        uint32_t word;
        std::memcpy(&word, busy + X, 4);
        if (word == 0) continue;
        for (int64_t row : {Y, Y + 1}) {
          __builtin_prefetch(xy_[0].values.data() + (row * W + X) * 4);
          __builtin_prefetch(xy_[1].values.data() + (row * W + X) * 4);
          __builtin_prefetch(z_.values.data() + (row * W + X) * 2);
        }
      }
      for (int64_t X = 0; X + 1 < W; ++X) {
        if (X + 8 < W) {
          uint64_t word;
          std::memcpy(&word, busy + X, 8);
          if (word == 0) {
            X += 7;
            continue;
          }
        }
        if (!busy[X]) continue;
        const T v[8] = {r00[X], r00[X + 1], r01[X], r01[X + 1], r10[X], r10[X + 1], r11[X], r11[X + 1]};
        // Most cubes hold two values: handle them without the data-dependent loop below.
        const int m0 = corners_equal(v, v[0]);
        const int c1 = __builtin_ctz(static_cast<unsigned>(~m0));
        const int m1 = corners_equal(v, v[c1]);
        if ((m0 | m1) == 0xff) {
          if (v[0] != T{0}) surface(v, v[0], m0, Z, Y, X);
          if (v[c1] != T{0}) surface(v, v[c1], m1, Z, Y, X);
          continue;
        }
        T done[8];
        int n_done = 0;
        for (int c = 0; c < 8; ++c) {
          const T label = v[c];
          if (label == T{0} || std::find(done, done + n_done, label) != done + n_done) continue;
          done[n_done++] = label;
          surface(v, label, corners_equal(v, label), Z, Y, X);
        }
      }
    }
  }

  static int corners_equal(const T* v, T label) {
    int mask = 0;
    for (int k = 0; k < 8; ++k) mask |= (v[k] == label) << k;
    return mask;
  }

  // The part of `label`'s surface in cube (Z, Y, X), whose corners `mask` are the label's.
  void surface(const T* v, T label, int mask, int64_t Z, int64_t Y, int64_t X) {
    const int32_t m = index_.find(static_cast<uint64_t>(label), slab_.labels);
    if (m < 0) return;
    if (static_cast<size_t>(m) == growing_.size()) growing_.emplace_back();
    emit(table_[mask], v, label, growing_[static_cast<size_t>(m)], Z, Y * g_.W + X, Y, X);
  }

  void emit(const CubeCase& cc, const T* v, T label, GrowingMesh& mesh, int64_t Z, int64_t cell, int64_t Y, int64_t X) {
    const CubeGeometry& cg = cube();
    mesh.make_room();
    uint32_t points[16];
    uint32_t* base[3] = {xy_[0].values.data() + cell * 4, xy_[1].values.data() + cell * 4, z_.values.data() + cell * 2};
    const float corner[3] = {float(X - 1), float(Y - 1), float(Z - 1)};
    for (int i = 0; i < cc.edge_count; ++i) {
      const int e = cc.edges[i];
      const int a = cg.low[e];
      uint32_t* ref = base[edge_array_[e]] + edge_offset_[e] + (v[a] == label ? 0 : 1);
      // Branch-free: whether the vertex exists is a coin toss the processor cannot predict.
      const uint32_t old = *ref;
      const bool fresh = old == kNone;
      float index[3] = {corner[0] + float(a & 1), corner[1] + float(a >> 1 & 1), corner[2] + float(a >> 2 & 1)};
      index[cg.axis[e]] += 0.5f;
      mesh.vertices[mesh.vertex_count] = {index[0] * g_.size[0] + g_.offset[0], index[1] * g_.size[1] + g_.offset[1],
                                          index[2] * g_.size[2] + g_.offset[2]};
      const uint32_t id = fresh ? static_cast<uint32_t>(mesh.vertex_count) : old;
      mesh.vertex_count += fresh;
      *ref = id;
      EdgeVertices* t = touched_[edge_array_[e]];
      t->touched[t->touched_count] = ref;
      t->touched_count += fresh;
      points[e] = id;
    }
    if (!cc.centres.empty()) add_centres(cc, mesh, points);
    for (int t = 0; t < cc.triangle_count; ++t) {
      const auto& tri = cc.triangles[t];
      mesh.triangles[mesh.triangle_count++] = {points[tri[0]], points[tri[1]], points[tri[2]]};
    }
  }

  static void add_centres(const CubeCase& cc, GrowingMesh& mesh, uint32_t* points) {
    for (size_t k = 0; k < cc.centres.size(); ++k) {
      float centre[3] = {0, 0, 0};
      for (uint8_t e : cc.centres[k]) {
        const Vec3& q = mesh.vertices[points[e]];
        for (int i = 0; i < 3; ++i) centre[i] += q[i];
      }
      Vec3 c;
      for (int i = 0; i < 3; ++i) c[i] = centre[i] / static_cast<float>(cc.centres[k].size());
      points[12 + k] = static_cast<uint32_t>(mesh.vertex_count);
      mesh.vertices[mesh.vertex_count++] = c;
    }
  }

  // The vertices on the padded plane held in xy_[which], with the mesh each belongs to.
  std::vector<PlaneVertex> plane_vertices(int which) {
    const EdgeVertices& plane = xy_[which];
    std::vector<uint32_t*> made(plane.touched.begin(), plane.touched.begin() + static_cast<std::ptrdiff_t>(plane.touched_count));
    std::sort(made.begin(), made.end());  // address order is key order
    std::vector<PlaneVertex> out;
    out.reserve(made.size());
    const T* s = slices_[which].data();
    for (const uint32_t* ref : made) {
      const auto i = static_cast<size_t>(ref - plane.values.data());
      const size_t slot = i & 1, axis = (i >> 1) & 1, cell = i >> 2;
      const size_t corner = slot == 0 ? cell : cell + (axis == 0 ? 1 : static_cast<size_t>(g_.W));
      const int32_t m = index_.find(static_cast<uint64_t>(s[corner]), slab_.labels);
      UNIEM_CHECK(m >= 0, "mesh vertex of an unselected label");
      out.push_back({static_cast<uint64_t>(i), m, *ref});
    }
    return out;
  }

  const Volume& volume_;
  const Grid& g_;
  const std::vector<uint64_t>* selection_;
  LabelIndex index_{nullptr};
  Slab slab_;
  std::vector<T> slices_[2];
  EdgeVertices xy_[2], z_;
  std::vector<uint8_t> column_, busy_;
  EdgeVertices* touched_[3] = {};
  const CubeCase* table_ = case_table().data();
  std::vector<GrowingMesh> growing_;
  int edge_array_[12];      // 0, 1: xy_[0], xy_[1]; 2: z_
  int64_t edge_offset_[12];  // from the cube's cell, before the slot
};

// Joins the slabs' meshes label by label, the vertices on a plane two slabs share once. Every
// slab's share of the result is known from counts alone, so the slabs are copied in parallel.
std::vector<LabelMesh> merge(std::vector<Slab>& slabs) {
  const size_t n = slabs.size();
  if (n == 1) {
    std::vector<size_t> order(slabs[0].labels.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return slabs[0].labels[a] < slabs[0].labels[b]; });
    std::vector<LabelMesh> result;
    for (size_t i : order) result.push_back({slabs[0].labels[i], std::move(slabs[0].meshes[i])});
    return result;
  }
  std::vector<uint64_t> labels;
  for (const auto& s : slabs) labels.insert(labels.end(), s.labels.begin(), s.labels.end());
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());

  // Per slab and mesh: which result it joins, its first vertex and triangle there, and the rank
  // of each of its own vertices among those it adds (vertices on its bottom plane add nothing).
  struct Part {
    size_t result = 0;
    uint32_t vertex_offset = 0;
    size_t triangle_offset = 0;
    std::vector<uint32_t> rank;  // kNone for a vertex the slab below already has
  };
  std::vector<std::vector<Part>> parts(n);
  parallel_for(0, static_cast<int64_t>(n), 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      Slab& slab = slabs[static_cast<size_t>(k)];
      auto& p = parts[static_cast<size_t>(k)];
      p.resize(slab.meshes.size());
      for (size_t m = 0; m < p.size(); ++m) {
        p[m].result = static_cast<size_t>(std::lower_bound(labels.begin(), labels.end(), slab.labels[m]) - labels.begin());
        p[m].rank.assign(slab.meshes[m].vertices.size(), 0);
      }
      if (k > 0)
        for (const auto& b : slab.bottom) p[static_cast<size_t>(b.mesh)].rank[b.vertex] = kNone;
      for (auto& part : p) {
        uint32_t next = 0;
        for (auto& r : part.rank)
          if (r != kNone) r = next++;
      }
    }
  });
  std::vector<LabelMesh> result(labels.size());
  std::vector<uint32_t> vertex_count(labels.size(), 0);
  std::vector<size_t> triangle_count(labels.size(), 0);
  for (size_t k = 0; k < n; ++k)
    for (size_t m = 0; m < parts[k].size(); ++m) {
      Part& part = parts[k][m];
      part.vertex_offset = vertex_count[part.result];
      part.triangle_offset = triangle_count[part.result];
      const auto added = static_cast<size_t>(std::count_if(part.rank.begin(), part.rank.end(), [](uint32_t r) { return r != kNone; }));
      UNIEM_CHECK(vertex_count[part.result] + added < kNone, "a mesh with more than 4 billion vertices");
      vertex_count[part.result] += static_cast<uint32_t>(added);
      triangle_count[part.result] += slabs[k].meshes[m].triangles.size();
    }
  // The first part of each label already sits where the result needs it: it becomes the result,
  // which saves copying it (and often, with the room its vectors grew, any reallocation).
  for (size_t k = 0; k < n; ++k)
    for (size_t m = 0; m < parts[k].size(); ++m)
      if (parts[k][m].vertex_offset == 0 && parts[k][m].triangle_offset == 0)
        result[parts[k][m].result].mesh = std::move(slabs[k].meshes[m]);
  for (size_t i = 0; i < labels.size(); ++i) {
    result[i].label = labels[i];
    result[i].mesh.vertices.resize(vertex_count[i]);
    result[i].mesh.triangles.resize(triangle_count[i]);
  }
  parallel_for(0, static_cast<int64_t>(n), 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      Slab& slab = slabs[static_cast<size_t>(k)];
      auto& p = parts[static_cast<size_t>(k)];
      std::vector<std::vector<uint32_t>> final_index(p.size());
      for (size_t m = 0; m < p.size(); ++m) {
        final_index[m].resize(p[m].rank.size());
        for (size_t v = 0; v < p[m].rank.size(); ++v)
          if (p[m].rank[v] != kNone) final_index[m][v] = p[m].vertex_offset + p[m].rank[v];
      }
      if (k > 0) {
        const auto& top = slabs[static_cast<size_t>(k) - 1].top;
        const auto& below = parts[static_cast<size_t>(k) - 1];
        UNIEM_CHECK(top.size() == slab.bottom.size(), "slab planes do not match");
        for (size_t i = 0; i < top.size(); ++i) {
          UNIEM_CHECK(top[i].key == slab.bottom[i].key, "slab planes do not match");
          const Part& b = below[static_cast<size_t>(top[i].mesh)];
          final_index[static_cast<size_t>(slab.bottom[i].mesh)][slab.bottom[i].vertex] = b.vertex_offset + b.rank[top[i].vertex];
        }
      }
      for (size_t m = 0; m < p.size(); ++m) {
        Mesh& to = result[p[m].result].mesh;
        const Mesh& from = slab.meshes[m];
        const auto& r = final_index[m];
        for (size_t v = 0; v < from.vertices.size(); ++v)
          if (p[m].rank[v] != kNone) to.vertices[r[v]] = from.vertices[v];
        for (size_t t = 0; t < from.triangles.size(); ++t) {
          const auto& tri = from.triangles[t];
          to.triangles[p[m].triangle_offset + t] = {r[tri[0]], r[tri[1]], r[tri[2]]};
        }
        slab.meshes[m] = Mesh{};
      }
    }
  });
  return result;
}

std::vector<LabelMesh> surfaces(const Volume& volume, const SurfaceOptions& options, const float offset[3]) {
  if (!dtype_is_integer(volume.dtype()) || volume.channels() != 1)
    throw InputError(std::string("meshes need a one-channel integer label volume, not ") +
                     dtype_name(volume.dtype()) + (volume.channels() > 1 ? " with several channels" : ""));
  Grid grid{volume.nz(), volume.ny(), volume.nx(), volume.nz() + 2, volume.ny() + 2, volume.nx() + 2, {}, {}};
  const double size[3] = {volume.voxel_size.x, volume.voxel_size.y, volume.voxel_size.z};
  for (int a = 0; a < 3; ++a) {
    grid.size[a] = static_cast<float>(size[a]);
    grid.offset[a] = offset[a];
  }
  std::vector<uint64_t> selection = options.labels;
  std::sort(selection.begin(), selection.end());
  const std::vector<uint64_t>* chosen = selection.empty() ? nullptr : &selection;
  if (volume.empty()) return {};
  const int64_t layers = grid.D - 1, count = (layers + kSlabLayers - 1) / kSlabLayers;
  // Each run of consecutive slabs that the thread pool hands out is meshed in one go: a vertex
  // on a plane inside it is made by the layer below, exactly as when slabs are joined, so the
  // result is the same however the runs fall.
  // Two runs per thread: enough to balance uneven volumes, few enough that little is copied
  // when the runs are joined.
  const int64_t grain = std::max<int64_t>(1, count / (2 * int64_t{thread_count()}));
  std::vector<Slab> runs(static_cast<size_t>(count));
  std::vector<char> started(static_cast<size_t>(count), 0);
  visit_dtype(volume.dtype(), [&](auto zero) {
    using T = decltype(zero);
    if constexpr (std::is_integral_v<T>) {
      parallel_for(0, count, grain, [&](int64_t begin, int64_t end) {
        SlabMesher<T> mesher(volume, grid, chosen);
        runs[static_cast<size_t>(begin)] = mesher.run(begin * kSlabLayers, std::min(layers, end * kSlabLayers));
        started[static_cast<size_t>(begin)] = 1;
      });
    }
  });
  std::vector<Slab> slabs;
  for (size_t i = 0; i < runs.size(); ++i)
    if (started[i]) slabs.push_back(std::move(runs[i]));
  return merge(slabs);
}

}  // namespace

Volume downsample_labels(const Volume& labels, int factor) {
  if (factor < 1) throw InputError("the downsampling factor must be 1 or more, not " + std::to_string(factor));
  if (!dtype_is_integer(labels.dtype()) || labels.channels() != 1)
    throw InputError(std::string("downsampling keeps labels only: the volume is ") + dtype_name(labels.dtype()));
  if (factor == 1) return labels;
  const int64_t f = factor;
  const int64_t nz = (labels.nz() + f - 1) / f, ny = (labels.ny() + f - 1) / f, nx = (labels.nx() + f - 1) / f;
  Volume out(labels.dtype(), nz, ny, nx);
  out.voxel_size = labels.voxel_size;
  out.voxel_size.z *= f;
  out.voxel_size.y *= f;
  out.voxel_size.x *= f;
  visit_dtype(labels.dtype(), [&](auto zero) {
    using T = decltype(zero);
    parallel_for(0, nz, 1, [&](int64_t z0, int64_t z1) {
      std::vector<T> block;
      for (int64_t z = z0; z < z1; ++z)
        for (int64_t y = 0; y < ny; ++y)
          for (int64_t x = 0; x < nx; ++x) {
            block.clear();
            for (int64_t k = z * f; k < std::min(labels.nz(), (z + 1) * f); ++k)
              for (int64_t j = y * f; j < std::min(labels.ny(), (y + 1) * f); ++j)
                for (int64_t i = x * f; i < std::min(labels.nx(), (x + 1) * f); ++i)
                  block.push_back(labels.at<T>(k, j, i));
            std::sort(block.begin(), block.end());
            T best = block[0];
            size_t best_run = 0;
            for (size_t i = 0; i < block.size();) {
              size_t j = i;
              while (j < block.size() && block[j] == block[i]) ++j;
              if (j - i > best_run) {
                best_run = j - i;
                best = block[i];
              }
              i = j;
            }
            out.at<T>(z, y, x) = best;
          }
    });
  });
  return out;
}

std::vector<LabelMesh> label_surfaces(const Volume& labels, const SurfaceOptions& options) {
  if (options.downsample < 1)
    throw InputError("the downsampling factor must be 1 or more, not " + std::to_string(options.downsample));
  if (options.downsample == 1) {
    const float offset[3] = {0, 0, 0};
    return surfaces(labels, options, offset);
  }
  const Volume small = downsample_labels(labels, options.downsample);
  const double shift = 0.5 * (options.downsample - 1);
  const float offset[3] = {static_cast<float>(shift * labels.voxel_size.x), static_cast<float>(shift * labels.voxel_size.y),
                           static_cast<float>(shift * labels.voxel_size.z)};
  return surfaces(small, options, offset);
}

}  // namespace uniem
