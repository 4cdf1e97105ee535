// Winograd convolution F(2x2, 3x3) and F(2x2x2, 3x3x3) (Lavin & Gray 2016, "Fast algorithms for
// convolutional neural networks"), float, stride 1, no dilation, any padding: the forward pass and
// the filter gradient of the 3x3 and 3x3x3 layers with enough channels, and through
// backward_data_as_forward their input gradient. Included by conv_kernels.cpp only, after
// conv_direct.h, whose register kernels do the products. Results agree with the direct kernels to
// float rounding (about 1e-5 relative; tests/runtime/test_ops.cpp checks against double).
//
// Along each axis of size 3 the output is cut into tiles of 2, each computed from 4 inputs:
//   y = A^T [ (G g) . (B^T d) ],  B^T d = (d0-d2, d1+d2, d2-d1, d1-d3),
//   G g = (g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2),  A^T m = (m0+m1+m2, m1-m2-m3),
// so a tile of 2x2x2 outputs costs 4x4x4 = 64 products per (input, output channel) instead of
// 216: per transformed position xi, the products over channels are one matrix product
// M[xi] (Cout x tiles) = U[xi] (Cout x Cin) * V[xi] (Cin x tiles). A depth-1 kernel (2-D) keeps
// z as it is (16 positions).
//
// Layout. A first pass transforms every input row along x and splits rows and planes by parity:
// Xt[ci][s][pz][py][zq][yq][tx] holds component s of B^T along x of padded row (2 zq + pz,
// 2 yq + py) at tile column tx. Tiles are numbered j = (tz * (TY + 1) + ty) * TX + tx (one unused
// tile row per tz), so the input a tile needs at depth a, row b is Xt at a fixed offset plus j:
// the y and z transforms of a run of tiles are plain vector operations over j. Tiles are taken in
// blocks of whole micro-kernel widths; per block: transform (V, tiles in vector lanes), products
// (M), inverse transform and scatter into y. Every output is written by exactly one block, in an
// order fixed by the shapes: results do not depend on the thread count.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/threads.h"

namespace uniem::cpu::UNIEM_CONV_ISA {
namespace winograd {

#if defined(UNIEM_HAVE_DIRECT_CONV)

using direct::Simd;
using V = Simd::V;

// The shapes this file takes: 3x3 (2-D) or 3x3x3 kernels, no dilation, and channels enough for
// the products to be matrix products (the first layer of a network, 1 or 2 channels, stays direct).
inline bool applies(const direct::Shape& s) {
  const bool volumetric = s.kd == 3, planar = s.kd == 1 && s.pd == 0;
  return (volumetric || planar) && s.kh == 3 && s.kw == 3 && s.dd == 1 && s.dh == 1 && s.dw == 1 && s.ci >= 8 &&
         s.co >= 8;
}

// Tiles per block: one micro-kernel width, so that V and M of a block stay in L2 and the
// transforms address them with constant offsets.
constexpr int64_t block = direct::block;

// Floats from one channel of V or M (positions x block) to the next: one cache line more than
// the data, or the micro-kernel's rows (12 KiB apart for 64 positions) would all fall into the
// same few sets of the L1 cache and evict each other.
template <int POSITIONS>
constexpr int64_t channel_stride = POSITIONS * block + 16;

struct Tiling {
  bool volumetric;
  int64_t tz, ty, tx;   // tiles per axis (tz = output planes when not volumetric)
  int64_t zq, rows;     // Xt planes per parity (zq) and rows per plane (ty + 1)
  int64_t parities;     // 4 (z and y) or 2 (y)
  int64_t tiles;        // j range: tz * rows * tx
  int64_t stream;       // floats per (ci, s, parity) stream, with slack for the last block's reach
  int64_t positions;    // 64 or 16 transformed positions
  int64_t blocks;

  explicit Tiling(const direct::Shape& s) {
    volumetric = s.kd == 3;
    tz = volumetric ? (s.od() + 1) / 2 : s.od();
    ty = (s.oh() + 1) / 2;
    tx = (s.ow() + 1) / 2;
    zq = volumetric ? tz + 1 : tz;
    rows = ty + 1;
    parities = volumetric ? 4 : 2;
    tiles = tz * rows * tx;
    positions = volumetric ? 64 : 16;
    blocks = (tiles + block - 1) / block;
    stream = blocks * block + (volumetric ? rows * tx : 0) + tx;  // with the farthest shift of a tap
  }
  // Where in the streams of one input channel tile j = 0 reads its depth a (0..3, or 0) and row
  // b (0..3), for component 0 of the x transform (component c is c * parities streams further).
  int64_t offset(int a, int b) const {
    const int64_t parity = (volumetric ? (a % 2) * 2 : 0) + b % 2;
    return parity * stream + ((volumetric ? a / 2 : 0) * rows + b / 2) * tx;
  }
};

// B^T along one axis of four vectors, in place.
inline void input_transform(V& d0, V& d1, V& d2, V& d3) {
  const V t0 = Simd::sub(d0, d2), t1 = Simd::add(d1, d2), t2 = Simd::sub(d2, d1), t3 = Simd::sub(d1, d3);
  d0 = t0;
  d1 = t1;
  d2 = t2;
  d3 = t3;
}

// A^T along one axis: (m0 + m1 + m2, m1 - m2 - m3).
inline void output_transform(V m0, V m1, V m2, V m3, V& y0, V& y1) {
  y0 = Simd::add(Simd::add(m0, m1), m2);
  y1 = Simd::sub(Simd::sub(m1, m2), m3);
}

// Stores the first `count` lanes of v at p (all of them when count >= width).
inline void store_first(float* p, V v, int64_t count) {
  if (count >= Simd::width) Simd::store(p, v);
  else Simd::store_range(p, v, 0, count);
}

// Sets the tail of each of `count` streams, from `used` to `stream` floats, to zero: what the last
// block of tiles reads past the rows. The transforms write only the rows, so once per call.
inline float* zeroed_slack(float* streams, int64_t count, int64_t stream, int64_t used) {
  for (int64_t q = 0; q < count; ++q) std::fill(streams + q * stream + used, streams + (q + 1) * stream, 0.0f);
  return streams;
}

// The calling thread's buffer for Xt (transform_rows), its slack zeroed.
inline float* input_streams(const direct::Shape& s, const Tiling& t) {
  const int64_t count = s.ci * 4 * t.parities;
  return zeroed_slack(direct::workspace(0, count * t.stream), count, t.stream, t.zq * t.rows * t.tx);
}

// Xt for one sample (see the header): the x transform of every padded input row, split by parity.
// Padding columns are masked out of the loads; rows and planes in the padding are zero.
inline void transform_rows(const direct::Shape& s, const Tiling& t, const float* x, float* xt) {
  constexpr int width = Simd::width;
  const int64_t planes = t.volumetric ? 2 * t.zq : t.zq, rows = 2 * t.rows, component = t.parities * t.stream;
  const int64_t tx = t.tx, w = s.w, pw = s.pw;  // locals: the stores below could alias the structs
  parallel_for(0, s.ci * planes, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t ci = p / planes, zz = p % planes, z = zz - s.pd;
      const int64_t pz = t.volumetric ? zz % 2 : 0, zq = t.volumetric ? zz / 2 : zz;
      for (int64_t yy = 0; yy < rows; ++yy) {
        const int64_t y = yy - s.ph;
        float* out = xt + ((ci * 4) * t.parities + pz * 2 + yy % 2) * t.stream + (zq * t.rows + yy / 2) * t.tx;
        if (z < 0 || z >= s.d || y < 0 || y >= s.h) {
          for (int c = 0; c < 4; ++c) std::fill(out + c * component, out + c * component + tx, 0.0f);
          continue;
        }
        const float* row = x + ((ci * s.d + z) * s.h + y) * s.w;
        for (int64_t k = 0; k < tx; k += width) {
          // Padded columns 2k .. 2k + 2 width + 1 are input columns 2k - pw ...
          const int64_t first = 2 * k - pw;
          const V a = Simd::load_inside(row, first, w), b = Simd::load_inside(row, first + width, w);
          const V c = Simd::load_inside(row, first + 2, w), e = Simd::load_inside(row, first + 2 + width, w);
          V d0, d1, d2, d3;  // padded d[2k], d[2k + 1], d[2k + 2], d[2k + 3]
          Simd::even_odd(a, b, d0, d1);
          Simd::even_odd(c, e, d2, d3);
          input_transform(d0, d1, d2, d3);
          store_first(out + k, d0, tx - k);
          store_first(out + component + k, d1, tx - k);
          store_first(out + 2 * component + k, d2, tx - k);
          store_first(out + 3 * component + k, d3, tx - k);
        }
      }
    }
  });
}

// v[ci][xi][jj] (DEPTH 4: xi = (a * 4 + b) * 4 + c; DEPTH 1: xi = b * 4 + c) for the tiles
// j0 + jj of one block.
template <int DEPTH>
void transform_block(const direct::Shape& s, const Tiling& t, const float* xt, const int64_t* offsets, int64_t j0,
                     float* v) {
  constexpr int positions = DEPTH * 16;
  for (int64_t ci = 0; ci < s.ci; ++ci)
    for (int c = 0; c < 4; ++c) {
      const float* base = xt + (ci * 4 + c) * t.parities * t.stream + j0;
      float* out = v + ci * channel_stride<positions> + c * block;
      if (ci + 2 < s.ci) {  // the same rows two channels on: Xt comes from L3
        const float* ahead = base + 2 * 4 * t.parities * t.stream;
        for (int k = 0; k < DEPTH * 4; ++k)
          for (int64_t jj = 0; jj <= block; jj += 16) __builtin_prefetch(ahead + offsets[k] + jj);
      }
      for (int64_t jj = 0; jj < block; jj += Simd::width) {
        V m[DEPTH][4];
        for (int a = 0; a < DEPTH; ++a) {
          for (int b = 0; b < 4; ++b) m[a][b] = Simd::load(base + offsets[a * 4 + b] + jj);
          input_transform(m[a][0], m[a][1], m[a][2], m[a][3]);
        }
        if constexpr (DEPTH == 4)
          for (int b = 0; b < 4; ++b) input_transform(m[0][b], m[1][b], m[2][b], m[3][b]);
        for (int a = 0; a < DEPTH; ++a)
          for (int b = 0; b < 4; ++b) Simd::store(out + (a * 4 + b) * 4 * block + jj, m[a][b]);
      }
    }
}

// U packed for the micro-kernel: per position xi and block of output channels, [Cin][cob] (the
// last block narrower), from G g G^T of every (output, input) channel pair.
inline std::vector<float> transform_filter(const direct::Shape& s, const Tiling& t, const float* w) {
  constexpr int cob = Simd::cob;
  const int depth = t.volumetric ? 4 : 1, kd = t.volumetric ? 3 : 1;
  std::vector<float> u(static_cast<size_t>(t.positions * s.co * s.ci));
  auto g3 = [](float g0, float g1, float g2, float* out, int64_t stride) {
    out[0] = g0;
    out[stride] = 0.5f * (g0 + g1 + g2);
    out[2 * stride] = 0.5f * (g0 - g1 + g2);
    out[3 * stride] = g2;
  };
  parallel_for(0, s.co * s.ci, 16, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t o = p / s.ci, i = p % s.ci;
      const float* g = w + p * s.taps();
      float gx[3][3][4], gy[3][4][4], gz[4][4][4];  // transformed along x, then y, then z
      for (int a = 0; a < kd; ++a)
        for (int b = 0; b < 3; ++b) g3(g[(a * 3 + b) * 3], g[(a * 3 + b) * 3 + 1], g[(a * 3 + b) * 3 + 2], gx[a][b], 1);
      for (int a = 0; a < kd; ++a)
        for (int c = 0; c < 4; ++c) g3(gx[a][0][c], gx[a][1][c], gx[a][2][c], &gy[a][0][c], 4);
      for (int b = 0; b < 4; ++b)
        for (int c = 0; c < 4; ++c) {
          if (t.volumetric) g3(gy[0][b][c], gy[1][b][c], gy[2][b][c], &gz[0][b][c], 16);
          else gz[0][b][c] = gy[0][b][c];
        }
      const int64_t c0 = o / cob * cob, width = std::min<int64_t>(cob, s.co - c0);
      for (int a = 0; a < depth; ++a)
        for (int b = 0; b < 4; ++b)
          for (int c = 0; c < 4; ++c) {
            const int64_t xi = (a * 4 + b) * 4 + c;
            u[static_cast<size_t>(xi * s.co * s.ci + c0 * s.ci + i * width + (o - c0))] = gz[a][b][c];
          }
    }
  });
  return u;
}

inline constexpr float zero_float = 0.0f;

// Where each tile of a block puts its outputs: the offset of its first output in an output
// channel, and how many planes, rows and columns of its 2x2(x2) it has (0 rows: not an output).
struct TilePlace {
  int64_t offset;
  int8_t planes, rows, columns;
};

// y[co] for the tiles of one block from m[co][xi][jj] (A^T along z, y, then x), plus bias. A
// vector of tiles is written as runs of tiles side by side in one row of tiles: each output row
// of a run is one copy of its interleaved (column 0, column 1) pairs.
template <int DEPTH>
void inverse_block(const direct::Shape& s, const TilePlace* place, const float* m, const float* bias, float* y) {
  constexpr int positions = DEPTH * 16, half = DEPTH == 4 ? 2 : 1, width = Simd::width;
  const int64_t out_channel = s.od() * s.oh() * s.ow(), oh = s.oh(), ow = s.ow();
  struct Run {
    int lane, length;  // tiles
    int64_t offset, floats;  // where in an output channel, values per output row
    int planes, rows;
  };
  for (int64_t jv = 0; jv < block; jv += width) {
    Run runs[width];
    int count = 0;
    for (int lane = 0; lane < width;) {
      const TilePlace& p = place[jv + lane];
      int length = 1;
      while (lane + length < width && p.columns == 2) {
        const TilePlace& q = place[jv + lane + length];
        if (q.offset != p.offset + 2 * length || q.planes != p.planes || q.rows != p.rows) break;
        if (q.columns != 2) {
          ++length;
          break;
        }
        ++length;
      }
      const TilePlace& last = place[jv + lane + length - 1];
      if (p.rows > 0) runs[count++] = {lane, length, p.offset, 2 * (length - 1) + last.columns, p.planes, p.rows};
      lane += length;
    }
    for (int64_t co = 0; co < s.co; ++co) {
      const float* mc = m + co * channel_stride<positions>;
      const V add = Simd::broadcast(bias ? bias + co : &zero_float);
      float* dst = y + co * out_channel;
      V r[half][2][4];  // z and y inverted, x still transformed
      for (int c = 0; c < 4; ++c) {
        V q[DEPTH][2];
        for (int a = 0; a < DEPTH; ++a) {
          V mb[4];
          for (int b = 0; b < 4; ++b) mb[b] = Simd::load(mc + ((a * 4 + b) * 4 + c) * block + jv);
          output_transform(mb[0], mb[1], mb[2], mb[3], q[a][0], q[a][1]);
        }
        for (int e = 0; e < 2; ++e) {
          if constexpr (DEPTH == 4) output_transform(q[0][e], q[1][e], q[2][e], q[3][e], r[0][e][c], r[1][e][c]);
          else r[0][e][c] = q[0][e];
        }
      }
      V out[half][2][2];  // per output plane and row: (column 0, column 1) of each tile, in order
      for (int a = 0; a < half; ++a)
        for (int b = 0; b < 2; ++b) {
          V y0, y1;
          output_transform(r[a][b][0], r[a][b][1], r[a][b][2], r[a][b][3], y0, y1);
          Simd::interleave(Simd::add(y0, add), Simd::add(y1, add), out[a][b][0], out[a][b][1]);
        }
      for (int k = 0; k < count; ++k) {
        const Run& run = runs[k];
        const int64_t lo = 2 * run.lane, hi = lo + run.floats;
        for (int a = 0; a < run.planes; ++a)
          for (int b = 0; b < run.rows; ++b) {
            float* row = dst + run.offset + (a * oh + b) * ow - lo;  // where pair 0 of the vector would go
            Simd::store_range(row, out[a][b][0], lo, hi);
            Simd::store_range(row + width, out[a][b][1], lo - width, hi - width);
          }
      }
    }
  }
}

template <int DEPTH>
void forward_typed(const direct::Shape& s, const float* x, const float* w, const float* bias, float* y) {
  constexpr int cob = Simd::cob, positions = DEPTH * 16;
  static constexpr auto kernels = direct::micro_kernels(std::make_integer_sequence<int, cob>{});
  const Tiling t(s);
  const std::vector<float> u = transform_filter(s, t, w);
  const int64_t od = s.od(), oh = s.oh(), ow = s.ow(), out_channel = od * oh * ow;
  const int64_t cblocks = (s.co + cob - 1) / cob, zero = 0;
  std::array<int64_t, 16> offsets{};
  for (int a = 0; a < DEPTH; ++a)
    for (int b = 0; b < 4; ++b) offsets[static_cast<size_t>(a * 4 + b)] = t.offset(a, b);
  // Output places of every tile (the same for every sample).
  std::vector<TilePlace> places(static_cast<size_t>(t.blocks * block), TilePlace{0, 0, 0, 0});
  for (int64_t j = 0; j < t.tiles; ++j) {
    const int64_t tx = j % t.tx, ty = j / t.tx % t.rows, tz = j / (t.tx * t.rows);
    if (ty == t.ty) continue;
    const int64_t z = DEPTH == 4 ? 2 * tz : tz;
    places[static_cast<size_t>(j)] = {(z * oh + 2 * ty) * ow + 2 * tx,
                                      static_cast<int8_t>(DEPTH == 4 ? std::min<int64_t>(2, od - z) : 1),
                                      static_cast<int8_t>(std::min<int64_t>(2, oh - 2 * ty)),
                                      static_cast<int8_t>(std::min<int64_t>(2, ow - 2 * tx))};
  }
  float* const xt = input_streams(s, t);
  for (int64_t n = 0; n < s.n; ++n) {
    transform_rows(s, t, x + n * s.ci * s.d * s.h * s.w, xt);
    float* yn = y + n * s.co * out_channel;
    parallel_for(0, t.blocks, 1, [&](int64_t b0, int64_t b1) {
      constexpr int64_t stride = channel_stride<positions>;
      float* v = direct::workspace(2, s.ci * stride);  // [ci][xi][jj]
      float* m = direct::workspace(3, s.co * stride);  // [co][xi][jj]
      for (int64_t blk = b0; blk < b1; ++blk) {
        transform_block<DEPTH>(s, t, xt, offsets.data(), blk * block, v);
        for (int64_t xi = 0; xi < positions; ++xi)
          for (int64_t cb = 0; cb < cblocks; ++cb) {
            const int64_t c0 = cb * cob, nc = std::min<int64_t>(cob, s.co - c0);
            kernels[static_cast<size_t>(nc - 1)](v + xi * block, stride, s.ci, &zero, 1,
                                                 u.data() + xi * s.co * s.ci + c0 * s.ci,
                                                 m + c0 * stride + xi * block, stride, false);
          }
        inverse_block<DEPTH>(s, places.data() + blk * block, m, bias, yn);
      }
    });
  }
}

// y (N x Cout x Do x Ho x Wo) = the convolution of x with w, plus bias.
inline void forward(const direct::Shape& s, const float* x, const float* w, const float* bias, float* y) {
  if (s.kd == 3) forward_typed<4>(s, x, w, bias, y);
  else forward_typed<1>(s, x, w, bias, y);
}

// The filter gradient, the forward pass turned around: with V = B^T d B of the input tiles and
// Yh = A dy A^T of the output-gradient tiles, dU[xi][co][ci] = the sum over tiles of
// Yh[xi][co] V[xi][ci], and gw = G^T dU G. Gt (like Xt) holds A along x of every output-gradient
// row, split by parity: Gt[co][s][pz][py][tz][ty][tx], tile j at offset j (a tile's rows are
// exactly one parity pair). Tiles fall into groups fixed by the shapes (never by the thread
// count); each group takes the positions xi one at a time, builds V[xi] and Yh[xi] for all its
// tiles (Cin and Cout rows), and takes their dot products with direct::filter_block (in register
// lanes, added up at the end of the group); group partials are added in order.
inline void transform_gradient_rows(const direct::Shape& s, const Tiling& t, const float* gy, float* gt,
                                    int64_t stream) {
  constexpr int width = Simd::width;
  const int64_t od = s.od(), oh = s.oh(), ow = s.ow();
  const int64_t planes = t.volumetric ? 2 * t.tz : t.tz, rows = 2 * t.rows, component = t.parities * stream;
  parallel_for(0, s.co * planes, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t co = p / planes, z = p % planes;
      const int64_t pz = t.volumetric ? z % 2 : 0, tz = t.volumetric ? z / 2 : z;
      for (int64_t y = 0; y < rows; ++y) {
        float* out = gt + (co * 4 * t.parities + pz * 2 + y % 2) * stream + (tz * t.rows + y / 2) * t.tx;
        if (z >= od || y >= oh) {
          for (int c = 0; c < 4; ++c) std::fill(out + c * component, out + c * component + t.tx, 0.0f);
          continue;
        }
        const float* row = gy + ((co * od + z) * oh + y) * ow;
        for (int64_t k = 0; k < t.tx; k += width) {
          V g0, g1;  // dy[2k], dy[2k + 1]
          Simd::even_odd(Simd::load_inside(row, 2 * k, ow), Simd::load_inside(row, 2 * k + width, ow), g0, g1);
          store_first(out + k, g0, t.tx - k);
          store_first(out + component + k, Simd::add(g0, g1), t.tx - k);
          store_first(out + 2 * component + k, Simd::sub(g0, g1), t.tx - k);
          store_first(out + 3 * component + k, Simd::sub(Simd::zero(), g1), t.tx - k);
        }
      }
    }
  });
}

// dst[row][jj] = the sum of sign * src[row * row_stride + offset + jj] over up to four terms
// (signs +-1: the products are exact).
struct Terms {
  int count = 0;
  int64_t offset[4];
  float sign[4];
};

template <int COUNT>
void combine_terms(const Terms& terms, const float* src, int64_t rows, int64_t row_stride, int64_t length, float* dst) {
  V sign[COUNT];
  for (int k = 0; k < COUNT; ++k) sign[k] = Simd::broadcast(&terms.sign[k]);
  for (int64_t r = 0; r < rows; ++r, src += row_stride, dst += length)
    for (int64_t jj = 0; jj < length; jj += Simd::width) {
      V acc = Simd::mul(Simd::load(src + terms.offset[0] + jj), sign[0]);
      for (int k = 1; k < COUNT; ++k) acc = Simd::fma(Simd::load(src + terms.offset[k] + jj), sign[k], acc);
      Simd::store(dst + jj, acc);
    }
}

inline void combine(const Terms& terms, const float* src, int64_t rows, int64_t row_stride, int64_t length,
                    float* dst) {
  switch (terms.count) {
    case 1: return combine_terms<1>(terms, src, rows, row_stride, length, dst);
    case 2: return combine_terms<2>(terms, src, rows, row_stride, length, dst);
    case 3: return combine_terms<3>(terms, src, rows, row_stride, length, dst);
    default: return combine_terms<4>(terms, src, rows, row_stride, length, dst);
  }
}

inline void backward_filter(const direct::Shape& s, const float* x, const float* gy, float* gw, float* gb) {
  constexpr int width = Simd::width, cob = 4, kb = 4;
  const Tiling t(s);
  const int depth = t.volumetric ? 4 : 1;
  const int64_t positions = t.positions, total = s.co * s.ci;
  // Per sample, groups of tiles whose V[xi] and Yh[xi] (channels x tiles) take about 256 KiB
  // each, cut at whole vectors, a multiple of 4 groups so that 2 or 4 threads share them evenly.
  const int64_t vectors = (t.tiles + width - 1) / width;
  const int64_t parts = std::min(vectors, ((t.tiles * std::max(s.ci, s.co) + 65535) / 65536 + 3) / 4 * 4);
  const int64_t longest = (vectors + parts - 1) / parts * width;
  const int64_t g_stream = vectors * width + width;
  float* const partial = direct::workspace(4, s.n * parts * positions * total);  // every group writes all of its part

  // The terms of V[xi] (B^T along z and y of Xt) and Yh[xi] (A along z and y of Gt).
  static constexpr float bt[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
  static constexpr float at[4][2] = {{1, 0}, {1, 1}, {1, -1}, {0, -1}};
  std::vector<Terms> v_terms(static_cast<size_t>(positions)), y_terms(static_cast<size_t>(positions));
  for (int64_t xi = 0; xi < positions; ++xi) {
    const int alpha = t.volumetric ? static_cast<int>(xi / 16) : 0, beta = static_cast<int>(xi / 4 % 4);
    const int c = static_cast<int>(xi % 4);
    Terms& v = v_terms[static_cast<size_t>(xi)];
    Terms& yh = y_terms[static_cast<size_t>(xi)];
    for (int a = 0; a < depth; ++a)
      for (int b = 0; b < 4; ++b) {
        const float f = (t.volumetric ? bt[alpha][a] : 1.0f) * bt[beta][b];
        if (f == 0) continue;
        v.offset[v.count] = c * t.parities * t.stream + t.offset(a, b);
        v.sign[v.count++] = f;
      }
    for (int a = 0; a < (t.volumetric ? 2 : 1); ++a)
      for (int b = 0; b < 2; ++b) {
        const float f = (t.volumetric ? at[alpha][a] : 1.0f) * at[beta][b];
        if (f == 0) continue;
        yh.offset[yh.count] = (c * t.parities + (t.volumetric ? a * 2 : 0) + b) * g_stream;
        yh.sign[yh.count++] = f;
      }
  }

  float* const xt = input_streams(s, t);
  float* const gt = zeroed_slack(direct::workspace(1, s.co * 4 * t.parities * g_stream), s.co * 4 * t.parities,
                                 g_stream, t.tiles);
  for (int64_t n = 0; n < s.n; ++n) {
    transform_rows(s, t, x + n * s.ci * s.d * s.h * s.w, xt);
    transform_gradient_rows(s, t, gy + n * s.co * s.od() * s.oh() * s.ow(), gt, g_stream);
    parallel_for(0, parts, 1, [&](int64_t q0, int64_t q1) {
      float* v = direct::workspace(2, s.ci * longest);
      float* yh = direct::workspace(3, s.co * longest);
      std::vector<int64_t> off(static_cast<size_t>(s.ci));
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t j0 = vectors * q / parts * width, j1 = vectors * (q + 1) / parts * width, length = j1 - j0;
        for (int64_t i = 0; i < s.ci; ++i) off[static_cast<size_t>(i)] = i * length;
        float* out = partial + (n * parts + q) * positions * total;
        for (int64_t xi = 0; xi < positions; ++xi) {
          combine(v_terms[static_cast<size_t>(xi)], xt + j0, s.ci, 4 * t.parities * t.stream, length, v);
          combine(y_terms[static_cast<size_t>(xi)], gt + j0, s.co, 4 * t.parities * g_stream, length, yh);
          float* dst = out + xi * total;  // [co][ci]
          for (int64_t c0 = 0; c0 < s.co; c0 += cob)
            for (int64_t k0 = 0; k0 < s.ci; k0 += kb) {
              auto sum = [&](int64_t c, int64_t k) {
                return [&dst, &s, c, k](int dc, int dk, V acc) { dst[(c + dc) * s.ci + k + dk] = Simd::sum(acc); };
              };
              if (c0 + cob <= s.co && k0 + kb <= s.ci) {
                direct::filter_block<cob, kb>(yh + c0 * length, length, v, off.data() + k0, length / width, sum(c0, k0));
              } else {  // edge blocks, one (output, input channel) pair at a time
                for (int64_t c = c0; c < std::min(c0 + cob, s.co); ++c)
                  for (int64_t k = k0; k < std::min(k0 + kb, s.ci); ++k)
                    direct::filter_block<1, 1>(yh + c * length, length, v, off.data() + k, length / width, sum(c, k));
              }
            }
        }
      }
    });
  }
  std::vector<float> du(static_cast<size_t>(positions * total));
  add_group_partials(partial, s.n * parts, positions * total, du.data());

  // gw = G^T dU G along x, y, then z: (x0 + (x1 + x2)/2, (x1 - x2)/2, (x1 + x2)/2 + x3).
  auto gt3 = [](float x0, float x1, float x2, float x3, float* w, int64_t stride) {
    w[0] = x0 + 0.5f * (x1 + x2);
    w[stride] = 0.5f * (x1 - x2);
    w[2 * stride] = 0.5f * (x1 + x2) + x3;
  };
  parallel_for(0, total, 16, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float d[4][4][4], dx[4][4][3], dyx[4][3][3];
      for (int64_t xi = 0; xi < positions; ++xi) d[xi / 16][xi / 4 % 4][xi % 4] = du[static_cast<size_t>(xi * total + p)];
      for (int a = 0; a < depth; ++a)
        for (int b = 0; b < 4; ++b) gt3(d[a][b][0], d[a][b][1], d[a][b][2], d[a][b][3], dx[a][b], 1);
      for (int a = 0; a < depth; ++a)
        for (int e = 0; e < 3; ++e) gt3(dx[a][0][e], dx[a][1][e], dx[a][2][e], dx[a][3][e], &dyx[a][0][e], 3);
      float* w = gw + p * s.taps();
      for (int b = 0; b < 3; ++b)
        for (int e = 0; e < 3; ++e) {
          if (t.volumetric) gt3(dyx[0][b][e], dyx[1][b][e], dyx[2][b][e], dyx[3][b][e], w + b * 3 + e, 9);
          else w[b * 3 + e] = dyx[0][b][e];
        }
    }
  });
  if (gb) direct::bias_gradient(s, gy, gb);
}

#endif  // UNIEM_HAVE_DIRECT_CONV

}  // namespace winograd
}  // namespace uniem::cpu::UNIEM_CONV_ISA
