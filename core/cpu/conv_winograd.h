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

// B^T along y (the rows b of each depth a), then along z when DEPTH is 4, of 4x4 (or 1x4) vectors.
template <int DEPTH>
inline void transform_depth_rows(V (&m)[DEPTH][4]) {
  for (int a = 0; a < DEPTH; ++a) input_transform(m[a][0], m[a][1], m[a][2], m[a][3]);
  if constexpr (DEPTH == 4)
    for (int b = 0; b < 4; ++b) input_transform(m[0][b], m[1][b], m[2][b], m[3][b]);
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
        for (int k = 0; k < DEPTH * 4; ++k) m[k / 4][k % 4] = Simd::load(base + offsets[k] + jj);
        transform_depth_rows(m);
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
void inverse_block(const direct::Shape& s, const TilePlace* place, const float* m, const float* bias, float* y,
                   int64_t co0, int64_t co1) {
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
    for (int64_t co = co0; co < co1; ++co) {
      const float* mc = m + (co - co0) * channel_stride<positions>;
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
      float* m = direct::workspace(3, cob * stride);  // [co - c0][xi][jj] of one block of output channels
      for (int64_t blk = b0; blk < b1; ++blk) {
        transform_block<DEPTH>(s, t, xt, offsets.data(), blk * block, v);
        for (int64_t cb = 0; cb < cblocks; ++cb) {
          const int64_t c0 = cb * cob, nc = std::min<int64_t>(cob, s.co - c0);
          for (int64_t xi = 0; xi < positions; ++xi)
            kernels[static_cast<size_t>(nc - 1)](v + xi * block, stride, s.ci, &zero, 1,
                                                 u.data() + xi * s.co * s.ci + c0 * s.ci, m + xi * block, stride,
                                                 false);
          inverse_block<DEPTH>(s, places.data() + blk * block, m, bias, yn, c0, c0 + nc);
        }
      }
    });
  }
}

// y (N x Cout x Do x Ho x Wo) = the convolution of x with w, plus bias.
inline void forward(const direct::Shape& s, const float* x, const float* w, const float* bias, float* y) {
  if (s.kd == 3) forward_typed<4>(s, x, w, bias, y);
  else forward_typed<1>(s, x, w, bias, y);
}

// A along one axis of two vectors: (g0, g0 + g1, g0 - g1, -g1).
inline void gradient_transform(V g0, V g1, V out[4]) {
  out[0] = g0;
  out[1] = Simd::add(g0, g1);
  out[2] = Simd::sub(g0, g1);
  out[3] = Simd::sub(Simd::zero(), g1);
}

// The filter gradient, the forward pass turned around: with V = B^T d B of the input tiles and
// Yh = A dy A^T of the output-gradient tiles, dU[xi][co][ci] = the sum over tiles of
// Yh[xi][co] V[xi][ci], and gw = G^T dU G. Like the forward pass it runs per block of tiles, so
// the transforms are never stored for a whole sample, but with the input channels in vector lanes:
// Xc holds B^T along x of every padded input row, the channels of one tile side by side
// (Xc[s][pz][py][zq][yq][tx][channel], channels padded to whole vectors with zeros), so the y and z
// transforms of a tile give V[xi] as rows of channels. Gt holds A along x of every output-gradient
// row, split by parity like Xt: Gt[co][s][pz][py][tz][ty][tx], tile j at offset j. Per block and
// x component s: V (tiles x channels) and Yh (output channels x tiles) of its 16 (or 4) positions,
// then dU[xi] += Yh[xi] V[xi] in a register kernel that broadcasts Yh and keeps rows of dU in
// registers; dU itself stays in L2 from block to block. Blocks fall into a fixed number of groups
// (never the thread count), each with its own dU over all samples; the groups are added in order.
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
          V g0, g1, q[4];  // dy[2k], dy[2k + 1]
          Simd::even_odd(Simd::load_inside(row, 2 * k, ow), Simd::load_inside(row, 2 * k + width, ow), g0, g1);
          gradient_transform(g0, g1, q);
          for (int c = 0; c < 4; ++c) store_first(out + c * component + k, q[c], t.tx - k);
        }
      }
    }
  });
}

// Xc for one sample (see above; `lanes` = channels rounded up to whole vectors): each row of a
// vector's worth of channels is transposed in registers into columns of channels, then transformed
// along x a tile at a time.
inline void transform_rows_by_channel(const direct::Shape& s, const Tiling& t, const float* x, float* xc,
                                      int64_t lanes) {
  constexpr int width = Simd::width;
  const int64_t planes = t.volumetric ? 2 * t.zq : t.zq, rows = 2 * t.rows, groups = lanes / width;
  const int64_t columns = (2 * t.tx + 2 + width - 1) / width * width;  // padded columns the tiles read
  const int64_t component = t.parities * t.stream * lanes, tx = t.tx;
  parallel_for(0, groups * planes, 1, [&](int64_t p0, int64_t p1) {
    float* col = direct::workspace(2, columns * width);  // [padded column][channel]
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t group = p / planes, zz = p % planes, z = zz - s.pd;
      const int64_t pz = t.volumetric ? zz % 2 : 0, zq = t.volumetric ? zz / 2 : zz;
      for (int64_t yy = 0; yy < rows; ++yy) {
        const int64_t y = yy - s.ph;
        float* out = xc + ((pz * 2 + yy % 2) * t.stream + (zq * t.rows + yy / 2) * tx) * lanes + group * width;
        if (z < 0 || z >= s.d || y < 0 || y >= s.h) {
          for (int c = 0; c < 4; ++c)
            for (int64_t k = 0; k < tx; ++k) Simd::store(out + c * component + k * lanes, Simd::zero());
          continue;
        }
        for (int64_t e0 = 0; e0 < columns; e0 += width) {
          V r[width];
          for (int i = 0; i < width; ++i) {
            const int64_t ch = group * width + i;
            r[i] = ch < s.ci ? Simd::load_inside(x + ((ch * s.d + z) * s.h + y) * s.w, e0 - s.pw, s.w) : Simd::zero();
          }
          Simd::transpose(r);
          for (int i = 0; i < width; ++i) Simd::store(col + (e0 + i) * width, r[i]);
        }
        for (int64_t k = 0; k < tx; ++k) {
          V d0 = Simd::load(col + 2 * k * width), d1 = Simd::load(col + (2 * k + 1) * width);
          V d2 = Simd::load(col + (2 * k + 2) * width), d3 = Simd::load(col + (2 * k + 3) * width);
          input_transform(d0, d1, d2, d3);
          Simd::store(out + k * lanes, d0);
          Simd::store(out + component + k * lanes, d1);
          Simd::store(out + 2 * component + k * lanes, d2);
          Simd::store(out + 3 * component + k * lanes, d3);
        }
      }
    }
  });
}

// V of x component c for the tiles j0 + jj of one block: v[(l * block + jj) * lanes + channel],
// l = a * 4 + b (DEPTH 4) or b, position xi = l * 4 + c. `offsets` are Tiling::offset in floats.
template <int DEPTH>
void transform_block_by_channel(const float* xc, int64_t lanes, const int64_t* offsets, int64_t j0, int64_t component,
                                int c, float* v) {
  const float* base = xc + c * component + j0 * lanes;
  for (int64_t jj = 0; jj < block; ++jj, base += lanes)
    for (int64_t ch = 0; ch < lanes; ch += Simd::width) {
      V m[DEPTH][4];
      for (int k = 0; k < DEPTH * 4; ++k) m[k / 4][k % 4] = Simd::load(base + offsets[k] + ch);
      transform_depth_rows(m);
      for (int a = 0; a < DEPTH; ++a)
        for (int b = 0; b < 4; ++b) Simd::store(v + ((a * 4 + b) * block + jj) * lanes + ch, m[a][b]);
    }
}

// Yh of x component c for the tiles of one block: yh[co * row + l * block + jj], l as for V.
template <int DEPTH>
void gradient_block(const direct::Shape& s, const Tiling& t, const float* gt, int64_t stream, int64_t j0, int c,
                    float* yh, int64_t row) {
  constexpr int half = DEPTH == 4 ? 2 : 1;
  for (int64_t co = 0; co < s.co; ++co) {
    const float* base = gt + (co * 4 + c) * t.parities * stream + j0;
    float* out = yh + co * row;
    for (int64_t jj = 0; jj < block; jj += Simd::width) {
      V q[half][4];  // along y
      for (int a = 0; a < half; ++a)
        gradient_transform(Simd::load(base + (a * 2) * stream + jj), Simd::load(base + (a * 2 + 1) * stream + jj), q[a]);
      for (int b = 0; b < 4; ++b) {
        if constexpr (DEPTH == 4) {
          V r[4];
          gradient_transform(q[0][b], q[1][b], r);
          for (int a = 0; a < 4; ++a) Simd::store(out + (a * 4 + b) * block + jj, r[a]);
        } else {
          Simd::store(out + b * block + jj, q[0][b]);
        }
      }
    }
  }
}

// out[c * out_row + v * width + l] += the sum over k of a[c * a_row + k] * b[k * b_row + v * width + l]:
// COB rows of a broadcast, NV vectors of b, the COB x NV block of out in registers.
template <int COB, int NV>
void gradient_kernel(const float* a, int64_t a_row, const float* b, int64_t b_row, int64_t k, float* out,
                     int64_t out_row) {
  V acc[COB][NV];
  for (int c = 0; c < COB; ++c)
    for (int v = 0; v < NV; ++v) acc[c][v] = Simd::load(out + c * out_row + v * Simd::width);
  for (int64_t i = 0; i < k; ++i, b += b_row) {
    V in[NV];
    for (int v = 0; v < NV; ++v) in[v] = Simd::load(b + v * Simd::width);
    for (int c = 0; c < COB; ++c) {
      const V weight = Simd::broadcast(a + c * a_row + i);
      for (int v = 0; v < NV; ++v) acc[c][v] = Simd::fma(in[v], weight, acc[c][v]);
    }
  }
  for (int c = 0; c < COB; ++c)
    for (int v = 0; v < NV; ++v) Simd::store(out + c * out_row + v * Simd::width, acc[c][v]);
}

using GradientKernel = void (*)(const float*, int64_t, const float*, int64_t, int64_t, float*, int64_t);

template <int NV, int... C>
constexpr std::array<GradientKernel, sizeof...(C)> gradient_kernels(std::integer_sequence<int, C...>) {
  return {&gradient_kernel<C + 1, NV>...};
}

// kernels[NV - 1][COB - 1] for NV up to Simd::nv vectors and COB up to Simd::cob rows.
template <int... N>
constexpr auto gradient_kernel_table(std::integer_sequence<int, N...>) {
  return std::array{gradient_kernels<N + 1>(std::make_integer_sequence<int, Simd::cob>{})...};
}

template <int DEPTH>
void backward_filter_typed(const direct::Shape& s, const float* x, const float* gy, float* gw, float* gb) {
  constexpr int width = Simd::width, cob = Simd::cob, nv = Simd::nv, positions = DEPTH * 16, per_component = DEPTH * 4;
  static constexpr auto kernels = gradient_kernel_table(std::make_integer_sequence<int, nv>{});
  const Tiling t(s);
  const int64_t lanes = (s.ci + width - 1) / width * width, total = s.co * lanes;  // dU[xi]: [co][lanes]
  const int64_t parts = std::min<int64_t>(t.blocks, 8), component = t.parities * t.stream * lanes;
  const int64_t g_stream = t.blocks * block + width, yh_row = per_component * block + 16;
  std::array<int64_t, 16> offsets{};
  for (int a = 0; a < DEPTH; ++a)
    for (int b = 0; b < 4; ++b) offsets[static_cast<size_t>(a * 4 + b)] = t.offset(a, b) * lanes;

  // Xc's slack (what the last block reads past the rows) and Gt's are zero; the transforms write the rest.
  float* const xc = zeroed_slack(direct::workspace(0, 4 * t.parities * t.stream * lanes), 4 * t.parities,
                                 t.stream * lanes, t.zq * t.rows * t.tx * lanes);
  float* const gt = zeroed_slack(direct::workspace(1, s.co * 4 * t.parities * g_stream), s.co * 4 * t.parities,
                                 g_stream, t.tiles);
  float* const partial = direct::workspace(4, parts * positions * total);  // per group: dU
  parallel_for(0, parts * positions, 1, [&](int64_t p0, int64_t p1) {
    std::fill(partial + p0 * total, partial + p1 * total, 0.0f);
  });
  for (int64_t n = 0; n < s.n; ++n) {
    transform_rows_by_channel(s, t, x + n * s.ci * s.d * s.h * s.w, xc, lanes);
    transform_gradient_rows(s, t, gy + n * s.co * s.od() * s.oh() * s.ow(), gt, g_stream);
    parallel_for(0, parts, 1, [&](int64_t q0, int64_t q1) {
      float* v = direct::workspace(2, per_component * block * lanes);
      float* yh = direct::workspace(3, s.co * yh_row);
      for (int64_t q = q0; q < q1; ++q) {
        float* du = partial + q * positions * total;
        for (int64_t blk = t.blocks * q / parts; blk < t.blocks * (q + 1) / parts; ++blk)
          for (int c = 0; c < 4; ++c) {
            transform_block_by_channel<DEPTH>(xc, lanes, offsets.data(), blk * block, component, c, v);
            gradient_block<DEPTH>(s, t, gt, g_stream, blk * block, c, yh, yh_row);
            for (int l = 0; l < per_component; ++l) {
              float* dst = du + (l * 4 + c) * total;
              for (int64_t c0 = 0; c0 < s.co; c0 += cob) {
                const int64_t rows = std::min<int64_t>(cob, s.co - c0);
                for (int64_t v0 = 0; v0 < lanes; v0 += nv * width) {
                  const int64_t vectors = std::min<int64_t>(nv, (lanes - v0) / width);
                  kernels[static_cast<size_t>(vectors - 1)][static_cast<size_t>(rows - 1)](
                      yh + c0 * yh_row + l * block, yh_row, v + l * block * lanes + v0, lanes, block,
                      dst + c0 * lanes + v0, lanes);
                }
              }
            }
          }
      }
    });
  }
  std::vector<float> du(static_cast<size_t>(positions * total));
  add_group_partials(partial, parts, positions * total, du.data());

  // gw = G^T dU G along x, y, then z: (x0 + (x1 + x2)/2, (x1 - x2)/2, (x1 + x2)/2 + x3).
  auto gt3 = [](float x0, float x1, float x2, float x3, float* w, int64_t stride) {
    w[0] = x0 + 0.5f * (x1 + x2);
    w[stride] = 0.5f * (x1 - x2);
    w[2 * stride] = 0.5f * (x1 + x2) + x3;
  };
  parallel_for(0, s.co * s.ci, 16, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t at = p / s.ci * lanes + p % s.ci;  // (output, input channel) in dU[xi]
      float d[4][4][4], dx[4][4][3], dyx[4][3][3];
      for (int64_t xi = 0; xi < positions; ++xi) d[xi / 16][xi / 4 % 4][xi % 4] = du[static_cast<size_t>(xi * total + at)];
      for (int a = 0; a < DEPTH; ++a)
        for (int b = 0; b < 4; ++b) gt3(d[a][b][0], d[a][b][1], d[a][b][2], d[a][b][3], dx[a][b], 1);
      for (int a = 0; a < DEPTH; ++a)
        for (int e = 0; e < 3; ++e) gt3(dx[a][0][e], dx[a][1][e], dx[a][2][e], dx[a][3][e], &dyx[a][0][e], 3);
      float* w = gw + p * s.taps();
      for (int b = 0; b < 3; ++b)
        for (int e = 0; e < 3; ++e) {
          if constexpr (DEPTH == 4) gt3(dyx[0][b][e], dyx[1][b][e], dyx[2][b][e], dyx[3][b][e], w + b * 3 + e, 9);
          else w[b * 3 + e] = dyx[0][b][e];
        }
    }
  });
  if (gb) direct::bias_gradient(s, gy, gb);
}

// gw (Cout x Cin x taps) and gb (if not null) of the convolution of x.
inline void backward_filter(const direct::Shape& s, const float* x, const float* gy, float* gw, float* gb) {
  if (s.kd == 3) backward_filter_typed<4>(s, x, gy, gw, gb);
  else backward_filter_typed<1>(s, x, gy, gw, gb);
}

#endif  // UNIEM_HAVE_DIRECT_CONV

}  // namespace winograd
}  // namespace uniem::cpu::UNIEM_CONV_ISA
