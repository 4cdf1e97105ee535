// Marching cubes over all labels at once (see mesh_surfaces.h).
//
// The case table is built at first use from one rule per cube face: walking the face's corners
// counter-clockwise seen from outside, a segment runs from each edge where the object is left to
// the edge where that run of object corners began. Every crossing edge then starts one segment
// and ends one, so the segments of a cube close into loops; each loop is a polygon, fanned into
// triangles from a corner whose diagonals stay off the cube faces (else from its centre).
//
// Vertices are numbered in the order a walk of the cubes in raster order meets them, each label's
// from 0. Two passes over runs of cube layers, in parallel, make that numbering without a walk in
// one thread or a copy of the output: the first counts each label's vertices and triangles per
// run, which fixes where each run writes in the result, allocated once at its final size; the
// second writes them there. The vertices on the plane between two runs belong to the lower run;
// the upper one walks that run's last layer again, without writing, to learn their numbers. The
// result is the same for every thread count and does not depend on how the runs fall. Measured
// against the single pass it replaced (each run growing its own meshes, then joined by copying),
// on the 256^3 volumes of bench/mesh, 2 threads: blob field 200 -> 135 ms, 100 Voronoi cells
// 174 -> 130 ms; 100 small ellipsoids in a uint32 volume, whose output is small next to the
// volume that both passes read, 36 -> 45 ms.
#include "core/image/mesh_surfaces.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/error.h"
#include "core/image/byte_mask.h"
#include "core/threads.h"

namespace uniem {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

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

// What one cube adds to an object whose corners are `mask`, for the counting pass: its triangles,
// and the vertices it makes first in a walk of the cubes in raster order: its loop centres, and
// the crossed ones among the edges 4-5, 4-6 and 0-4 (the x- and y-edge of its upper plane at
// corner 4, the z-edge below it). Every other edge a cube crosses is one of these for another cube
// of the same or an earlier layer, or lies in the plane the layer below made.
struct Tally {
  uint8_t vertices, triangles;
};

const std::array<Tally, 256>& tally_table() {
  static const std::array<Tally, 256> table = [] {
    std::array<Tally, 256> t{};
    for (int m = 0; m < 256; ++m) {
      const CubeCase& c = case_table()[static_cast<size_t>(m)];
      const auto in = [&](int corner) { return m >> corner & 1; };
      const int owned = (in(4) != in(5)) + (in(4) != in(6)) + (in(0) != in(4));
      t[static_cast<size_t>(m)] = {static_cast<uint8_t>(owned + static_cast<int>(c.centres.size())),
                                   static_cast<uint8_t>(c.triangle_count)};
    }
    return t;
  }();
  return table;
}

// --------------------------------------------------------------------------------- label index

// Label -> its number in a run of layers (the order the run first meets them), or -1 for a label
// that was not asked for. Small labels index an array, large ones a hash map.
class LabelIndex {
 public:
  explicit LabelIndex(const std::vector<uint64_t>* selection) : selection_(selection) {}
  // The number of `label`, giving it the next one the first time.
  int32_t find(uint64_t label) {
    if (label == last_label_) return last_index_;
    return find_new(label);
  }
  // The number of `label` if it was met, else -1; changes nothing.
  int32_t lookup(uint64_t label) const {
    int32_t slot = kUnseen;
    if (label < kDense) {
      if (label < dense_.size()) slot = dense_[label];
    } else if (auto it = sparse_.find(label); it != sparse_.end()) {
      slot = it->second;
    }
    return slot < 0 ? -1 : slot;
  }
  const std::vector<uint64_t>& labels() const { return labels_; }

 private:
  int32_t find_new(uint64_t label) {
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
      *slot = wanted ? static_cast<int32_t>(labels_.size()) : -1;
      if (wanted) labels_.push_back(label);
    }
    last_label_ = label;
    last_index_ = *slot;
    return *slot;
  }

  static constexpr uint64_t kDense = uint64_t{1} << 22;
  static constexpr int32_t kUnseen = -2;
  const std::vector<uint64_t>* selection_;
  std::vector<uint64_t> labels_;
  std::vector<int32_t> dense_;
  std::unordered_map<uint64_t, int32_t> sparse_;
  uint64_t last_label_ = 0;  // label 0 is never looked up
  int32_t last_index_ = -1;
};

// ------------------------------------------------------------------------------ runs of layers

struct Grid {
  int64_t nz, ny, nx;        // volume
  int64_t D, H, W;           // padded by one voxel of background on every side
  float size[3], offset[3];  // (x, y, z): position = index * size + offset
};

// What the counting pass finds in a run of cube layers, per label in the order the run meets them,
// and (filled between the passes) where the run's part of each mesh starts in the result.
struct RunCount {
  LabelIndex index{nullptr};
  std::vector<uint64_t> vertices, triangles;  // made by the run
  std::vector<uint64_t> last_layer_vertices;  // of them, made by its last layer
  std::vector<size_t> result;                 // the label's place in the result
  std::vector<uint64_t> first_vertex, first_triangle;
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

// Where a run writes one label's mesh: its arrays in the result and the next vertex and triangle.
struct Target {
  Vec3* vertices = nullptr;
  Triangle* triangles = nullptr;
  uint64_t next_vertex = 0, next_triangle = 0;
};

template <class T>
class RunMesher {
 public:
  RunMesher(const Volume& volume, const Grid& grid, const std::vector<uint64_t>* selection)
      : volume_(volume), g_(grid), selection_(selection) {
    const size_t plane = static_cast<size_t>(g_.H * g_.W);
    for (auto& s : slices_) s.assign(plane, T{0});
    for (auto& p : xy_) p.values.assign(plane * 4, kNone);
    z_.values.assign(plane * 2, kNone);
    for (auto& b : busy_) b.assign(static_cast<size_t>((g_.W + 63) / 64 * 64), 0);  // whole words of 64
    column_.assign(static_cast<size_t>(g_.W), 0);
    const CubeGeometry& cg = cube();
    for (int e = 0; e < 12; ++e) {
      const int a = cg.low[e], bx = a & 1, by = a >> 1 & 1, bz = a >> 2 & 1;
      edge_array_[e] = cg.axis[e] == 2 ? 2 : bz;
      edge_low_[e] = a;
      const int corner[3] = {bx, by, bz};
      for (int k = 0; k < 3; ++k) edge_delta_[e][k] = static_cast<float>(corner[k]) + (k == cg.axis[e] ? 0.5f : 0.0f);
      edge_offset_[e] = cg.axis[e] == 2 ? (by * g_.W + bx) * 2 : (by * g_.W + bx) * 4 + cg.axis[e] * 2;
    }
  }

  // First pass: what layers [z_begin, z_end) make for each label. Layer Z makes the vertices on
  // the z-edges above plane Z and on the edges of plane Z + 1 (those of plane Z come from the layer
  // below), so each cube counts, for each label, the loop centres of its case and the crossed edges
  // among the three it shares its corner 4 with (tally_table()).
  void count(int64_t z_begin, int64_t z_end, RunCount& out) {
    out.index = LabelIndex(selection_);
    const Tally* tally = tally_table().data();
    std::vector<uint64_t> before_last;
    load(0, z_begin);
    for (int64_t Z = z_begin; Z < z_end; ++Z) {
      load(1, Z + 1);
      if (Z + 1 == z_end) before_last = out.vertices;
      scan_layer([](int64_t, const uint8_t*) {},
                 [&](const T* v, int64_t, int64_t) {
                   for_each_label(v, [&](T label, int mask) {
                     const int32_t m = out.index.find(static_cast<uint64_t>(label));
                     if (m < 0) return;
                     if (static_cast<size_t>(m) == out.vertices.size()) {
                       out.vertices.push_back(0);
                       out.triangles.push_back(0);
                     }
                     out.vertices[static_cast<size_t>(m)] += tally[mask].vertices;
                     out.triangles[static_cast<size_t>(m)] += tally[mask].triangles;
                   });
                 });
      std::swap(slices_[0], slices_[1]);
    }
    out.last_layer_vertices.assign(out.vertices.size(), 0);
    for (size_t m = 0; m < out.vertices.size(); ++m)
      out.last_layer_vertices[m] = out.vertices[m] - (m < before_last.size() ? before_last[m] : 0);
  }

  // Second pass: writes the run's vertices and triangles into `result` where `own` says. The layer
  // below the run (counted in `below`) made the vertices of its bottom plane: that layer is walked
  // again first, numbering the same vertices the same way and writing nothing.
  void fill(int64_t z_begin, int64_t z_end, const RunCount* below, const RunCount& own, std::vector<LabelMesh>& result) {
    index_ = LabelIndex(selection_);
    targets_.clear();
    own_ = &own;
    below_ = below;
    result_ = &result;
    if (below) {
      load(0, z_begin - 1);
      load(1, z_begin);
      scan_layer([&](int64_t Y, const uint8_t* busy) { prepare_row(Y, busy); },
                 [&](const T* v, int64_t Y, int64_t X) { cube_surfaces<true>(v, z_begin - 1, Y, X); });
      for (size_t m = 0; m < targets_.size(); ++m) {
        const int32_t b = below->index.lookup(index_.labels()[m]);
        UNIEM_CHECK(targets_[m].next_vertex == below->first_vertex[static_cast<size_t>(b)] + below->vertices[static_cast<size_t>(b)],
                    "marching cubes: a run's bottom plane numbered differently from the run below");
      }
      next_layer();
    } else {
      load(0, z_begin);
    }
    for (int64_t Z = z_begin; Z < z_end; ++Z) {
      load(1, Z + 1);
      scan_layer([&](int64_t Y, const uint8_t* busy) { prepare_row(Y, busy); },
                 [&](const T* v, int64_t Y, int64_t X) { cube_surfaces<false>(v, Z, Y, X); });
      next_layer();
    }
    xy_[0].clear();
    for (size_t i = 0; i < own.vertices.size(); ++i) {
      const int32_t m = index_.lookup(own.index.labels()[i]);
      UNIEM_CHECK(m >= 0 && targets_[static_cast<size_t>(m)].next_vertex == own.first_vertex[i] + own.vertices[i] &&
                      targets_[static_cast<size_t>(m)].next_triangle == own.first_triangle[i] + own.triangles[i],
                  "marching cubes: the two passes disagree");
    }
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

  void next_layer() {
    z_.clear();
    xy_[0].clear();
    std::swap(slices_[0], slices_[1]);
    std::swap(xy_[0], xy_[1]);
  }

  // Calls cube(v, Y, X) for each cube between slices_[0] and slices_[1] whose eight corners (v)
  // are not all the same, row by row; row(Y, busy) is called for each row while the row before it
  // is still to be walked, to fetch what its cubes will need in time.
  template <class Row, class Cube>
  void scan_layer(Row&& row, Cube&& cube) {
    const T* s0 = slices_[0].data();
    const T* s1 = slices_[1].data();
    const int64_t W = g_.W;
    const auto find_busy = [&](int64_t Y, uint8_t* busy) {
      const T* r0 = s0 + Y * W;
      const T* r1 = s1 + Y * W;
      busy_cubes(r0, r0 + W, r1, r1 + W, W, column_.data(), busy);
      row(Y, busy);
    };
    uint8_t* busy = busy_[0].data();
    uint8_t* next = busy_[1].data();
    find_busy(0, busy);
    for (int64_t Y = 0; Y + 1 < g_.H; ++Y) {
      if (Y + 2 < g_.H) find_busy(Y + 1, next);
      const T* r00 = s0 + Y * W;
      const T* r01 = r00 + W;
      const T* r10 = s1 + Y * W;
      const T* r11 = r10 + W;
      for (int64_t base = 0; base + 1 < W; base += 64)
        for (uint64_t m = nonzero_mask(busy + base); m != 0; m &= m - 1) {
          const int64_t X = base + std::countr_zero(m);
          const T v[8] = {r00[X], r00[X + 1], r01[X], r01[X + 1], r10[X], r10[X + 1], r11[X], r11[X + 1]};
          cube(v, Y, X);
        }
      std::swap(busy, next);
    }
  }

  // busy[X] = 1 where the cube between rows r00, r01 (lower slice) and r10, r11 (upper slice) at
  // X has corners that are not all the same. A cube is uniform when both its corner columns are
  // and they agree; most are, and these two passes find the others. They vectorise only with the
  // rows in locals and the outputs declared unaliased (byte stores may alias anything else).
  static void busy_cubes(const T* r00, const T* r01, const T* r10, const T* r11, int64_t W, uint8_t* __restrict column,
                         uint8_t* __restrict busy) {
    for (int64_t X = 0; X < W; ++X)
      column[X] = static_cast<uint8_t>((r00[X] != r01[X]) | (r00[X] != r10[X]) | (r00[X] != r11[X]));
    for (int64_t X = 0; X + 1 < W; ++X) busy[X] = static_cast<uint8_t>(column[X] | column[X + 1] | (r00[X] != r00[X + 1]));
    busy[W - 1] = 0;
  }

  // f(label, mask) for each nonzero label among the corners v, with the mask of its corners.
  template <class F>
  static void for_each_label(const T* v, F&& f) {
    // Most cubes hold two values: handle them without the data-dependent loop below.
    const int m0 = corners_equal(v, v[0]);
    const int c1 = __builtin_ctz(static_cast<unsigned>(~m0));
    const int m1 = corners_equal(v, v[c1]);
    if ((m0 | m1) == 0xff) {
      if (v[0] != T{0}) f(v[0], m0);
      if (v[c1] != T{0}) f(v[c1], m1);
      return;
    }
    T done[8];
    int n_done = 0;
    for (int c = 0; c < 8; ++c) {
      const T label = v[c];
      if (label == T{0} || std::find(done, done + n_done, label) != done + n_done) continue;
      done[n_done++] = label;
      f(label, corners_equal(v, label));
    }
  }

  static int corners_equal(const T* v, T label) {
    int mask = 0;
    for (int k = 0; k < 8; ++k) mask |= (v[k] == label) << k;
    return mask;
  }

  // Room in the lists of made vertices for every vertex the row can make (12 edges per cube, two
  // sides each; made while the row before is walked, so for two rows), and the edge numbers its
  // busy cubes will use fetched ahead: the planes are too large for the cache, and sparse access
  // defeats the hardware prefetcher. One cache line holds four cells.
  void prepare_row(int64_t Y, const uint8_t* busy) {
    const int64_t W = g_.W;
    for (auto* t : {&xy_[0], &xy_[1], &z_}) t->make_room(static_cast<size_t>(48 * W));
    for (int64_t base = 0; base + 1 < W; base += 64) {
      uint64_t m = nonzero_mask(busy + base);
      m = (m | m >> 1 | m >> 2 | m >> 3) & 0x1111111111111111u;  // the groups of four with a busy cube
      for (; m != 0; m &= m - 1) {
        const int64_t X = base + std::countr_zero(m);
        for (int64_t row : {Y, Y + 1}) {
          __builtin_prefetch(xy_[0].values.data() + (row * W + X) * 4);
          __builtin_prefetch(xy_[1].values.data() + (row * W + X) * 4);
          __builtin_prefetch(z_.values.data() + (row * W + X) * 2);
        }
      }
    }
  }

  template <bool Replay>
  void cube_surfaces(const T* v, int64_t Z, int64_t Y, int64_t X) {
    for_each_label(v, [&](T label, int mask) {
      const int32_t m = index_.find(static_cast<uint64_t>(label));
      if (m < 0) return;
      if (static_cast<size_t>(m) == targets_.size()) targets_.push_back(target_for(static_cast<uint64_t>(label), Replay));
      emit<Replay>(table_[mask], v, label, targets_[static_cast<size_t>(m)], Z, Y * g_.W + X, Y, X);
    });
  }

  Target target_for(uint64_t label, bool replaying) const {
    Target t;
    const int32_t o = own_->index.lookup(label);
    if (o >= 0) {
      Mesh& mesh = (*result_)[own_->result[static_cast<size_t>(o)]].mesh;
      t.vertices = mesh.vertices.data();
      t.triangles = mesh.triangles.data();
      t.next_vertex = own_->first_vertex[static_cast<size_t>(o)];
      t.next_triangle = own_->first_triangle[static_cast<size_t>(o)];
    }
    if (replaying) {
      const int32_t found = below_->index.lookup(label);
      UNIEM_CHECK(found >= 0, "marching cubes: a label the counting pass did not see");
      const auto b = static_cast<size_t>(found);
      t.next_vertex = below_->first_vertex[b] + below_->vertices[b] - below_->last_layer_vertices[b];
    }
    return t;
  }

  // The position of edge e's midpoint in the cube whose low corner is `corner` (padded indices).
  // From per-edge offsets, with no store to an element picked at run time: a store to index[axis]
  // followed by a wider load of the array stalled store forwarding, a third of the fill pass.
  Vec3 position(int e, const float corner[3]) const {
    const float* d = edge_delta_[e];
    return {(corner[0] + d[0]) * g_.size[0] + g_.offset[0], (corner[1] + d[1]) * g_.size[1] + g_.offset[1],
            (corner[2] + d[2]) * g_.size[2] + g_.offset[2]};
  }

  // The part of `label`'s surface in one cube. Replaying, only the vertex numbers of the z-edges
  // and the upper plane are made, and nothing is written.
  template <bool Replay>
  void emit(const CubeCase& cc, const T* v, T label, Target& target, int64_t Z, int64_t cell, int64_t Y, int64_t X) {
    uint32_t points[16];
    uint32_t* base[3] = {xy_[0].values.data() + cell * 4, xy_[1].values.data() + cell * 4, z_.values.data() + cell * 2};
    const float corner[3] = {float(X - 1), float(Y - 1), float(Z - 1)};
    for (int i = 0; i < cc.edge_count; ++i) {
      const int e = cc.edges[i];
      if (Replay && edge_array_[e] == 0) continue;
      uint32_t* ref = base[edge_array_[e]] + edge_offset_[e] + (v[edge_low_[e]] == label ? 0 : 1);
      // Branch-free: whether the vertex exists is a coin toss the processor cannot predict.
      const uint32_t old = *ref;
      const bool fresh = old == kNone;
      const auto id = fresh ? static_cast<uint32_t>(target.next_vertex) : old;
      if constexpr (!Replay) {
        Vec3* to = fresh ? target.vertices + id : &discard_;
        *to = position(e, corner);
      }
      target.next_vertex += fresh;
      *ref = id;
      EdgeVertices* t = touched_[edge_array_[e]];
      t->touched[t->touched_count] = ref;
      t->touched_count += fresh;
      points[e] = id;
    }
    if constexpr (Replay) {
      target.next_vertex += cc.centres.size();
    } else {
      if (!cc.centres.empty()) add_centres(cc, target, points, corner);
      for (int t = 0; t < cc.triangle_count; ++t) {
        const auto& tri = cc.triangles[t];
        target.triangles[target.next_triangle++] = {points[tri[0]], points[tri[1]], points[tri[2]]};
      }
    }
  }

  void add_centres(const CubeCase& cc, Target& target, uint32_t* points, const float corner[3]) const {
    for (size_t k = 0; k < cc.centres.size(); ++k) {
      float centre[3] = {0, 0, 0};
      for (uint8_t e : cc.centres[k]) {
        const Vec3 q = position(e, corner);
        for (int i = 0; i < 3; ++i) centre[i] += q[i];
      }
      Vec3 c;
      for (int i = 0; i < 3; ++i) c[i] = centre[i] / static_cast<float>(cc.centres[k].size());
      points[12 + k] = static_cast<uint32_t>(target.next_vertex);
      target.vertices[target.next_vertex++] = c;
    }
  }

  const Volume& volume_;
  const Grid& g_;
  const std::vector<uint64_t>* selection_;
  LabelIndex index_{nullptr};
  const RunCount* own_ = nullptr;
  const RunCount* below_ = nullptr;
  std::vector<LabelMesh>* result_ = nullptr;
  std::vector<Target> targets_;  // by index_'s numbers
  Vec3 discard_{};               // where a vertex that already exists is written
  std::vector<T> slices_[2];
  EdgeVertices xy_[2], z_;
  std::vector<uint8_t> column_, busy_[2];
  EdgeVertices* touched_[3] = {&xy_[0], &xy_[1], &z_};
  const CubeCase* table_ = case_table().data();
  int edge_array_[12];       // 0, 1: xy_[0], xy_[1]; 2: z_
  int64_t edge_offset_[12];  // from the cube's cell, before the slot
  int edge_low_[12];         // the corner at the edge's low end
  float edge_delta_[12][3];  // the edge's midpoint from the cube's low corner, (x, y, z) voxels
};

// Orders the labels the runs met, sizes each label's mesh, and says where each run's part of it
// starts: the runs' parts follow each other in run order.
std::vector<LabelMesh> lay_out(std::vector<RunCount>& runs) {
  std::vector<uint64_t> labels;
  for (const auto& r : runs) labels.insert(labels.end(), r.index.labels().begin(), r.index.labels().end());
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  std::vector<uint64_t> vertices(labels.size(), 0), triangles(labels.size(), 0);
  for (auto& r : runs) {
    const size_t n = r.index.labels().size();
    r.result.resize(n);
    r.first_vertex.resize(n);
    r.first_triangle.resize(n);
    for (size_t m = 0; m < n; ++m) {
      const auto i = static_cast<size_t>(std::lower_bound(labels.begin(), labels.end(), r.index.labels()[m]) - labels.begin());
      r.result[m] = i;
      r.first_vertex[m] = vertices[i];
      r.first_triangle[m] = triangles[i];
      vertices[i] += r.vertices[m];
      triangles[i] += r.triangles[m];
    }
  }
  std::vector<LabelMesh> result(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    if (vertices[i] >= kNone)
      throw InputError("the surface of label " + std::to_string(labels[i]) +
                       " would have more than 4 billion vertices: mesh it with --downsample");
    result[i].label = labels[i];
    result[i].mesh.vertices.resize(vertices[i]);
    result[i].mesh.triangles.resize(triangles[i]);
  }
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
  // One run per thread would walk the fewest layers twice; four balance uneven volumes (the
  // fill pass walks 1/32 of a 256-section volume again on 2 threads).
  const int64_t layers = grid.D - 1;
  const int64_t run_count = thread_count() == 1 ? 1 : std::min<int64_t>(layers, 4 * int64_t{thread_count()});
  const auto first_layer = [&](int64_t r) { return r * layers / run_count; };
  std::vector<RunCount> runs(static_cast<size_t>(run_count));
  std::vector<LabelMesh> result;
  visit_dtype(volume.dtype(), [&](auto zero) {
    using T = decltype(zero);
    if constexpr (std::is_integral_v<T>) {
      // A mesher holds two sections' edge-vertex planes (2.6 MB at 256^2 voxels): each chunk of
      // runs borrows one, so there are as many as threads, not one per chunk and pass.
      std::mutex lock;
      std::vector<std::unique_ptr<RunMesher<T>>> idle;
      const auto with_mesher = [&](const auto& work) {
        return [&](int64_t begin, int64_t end) {
          std::unique_ptr<RunMesher<T>> mesher;
          {
            std::lock_guard<std::mutex> hold(lock);
            if (!idle.empty()) {
              mesher = std::move(idle.back());
              idle.pop_back();
            }
          }
          if (!mesher) mesher = std::make_unique<RunMesher<T>>(volume, grid, chosen);
          for (int64_t r = begin; r < end; ++r) work(*mesher, r);
          std::lock_guard<std::mutex> hold(lock);
          idle.push_back(std::move(mesher));
        };
      };
      parallel_for(0, run_count, 1, with_mesher([&](RunMesher<T>& mesher, int64_t r) {
                     mesher.count(first_layer(r), first_layer(r + 1), runs[static_cast<size_t>(r)]);
                   }));
      result = lay_out(runs);
      parallel_for(0, run_count, 1, with_mesher([&](RunMesher<T>& mesher, int64_t r) {
                     mesher.fill(first_layer(r), first_layer(r + 1), r > 0 ? &runs[static_cast<size_t>(r) - 1] : nullptr,
                                 runs[static_cast<size_t>(r)], result);
                   }));
    }
  });
  return result;
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
