// Winograd convolution F(2x2, 3x3) and F(2x2x2, 3x3x3) (Lavin & Gray 2016, "Fast algorithms for
// convolutional neural networks"), float, stride 1, no dilation, any padding: the forward pass of
// the 3x3 and 3x3x3 layers with enough channels, and through backward_data_as_forward their input
// gradient. Included by conv_kernels.cpp only, after conv_direct.h, whose register micro-kernel
// does the products.
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

// Xt for one sample (see the header): the x transform of every padded input row, split by parity.
inline void transform_rows(const direct::Shape& s, const Tiling& t, const float* x, float* xt) {
  constexpr int width = Simd::width;
  const int64_t planes = t.volumetric ? 2 * t.zq : t.zq, rows = 2 * t.rows, padded = 2 * t.tx + 2;
  const int64_t vectors = (t.tx + width - 1) / width;
  parallel_for(0, s.ci * planes, 1, [&](int64_t p0, int64_t p1) {
    std::vector<float> row(static_cast<size_t>(2 * vectors * width + 2 + 2 * width), 0.0f);
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t ci = p / planes, zz = p % planes, z = zz - s.pd;
      const int64_t pz = t.volumetric ? zz % 2 : 0, zq = t.volumetric ? zz / 2 : zz;
      for (int64_t yy = 0; yy < rows; ++yy) {
        const int64_t y = yy - s.ph;
        std::fill(row.begin(), row.begin() + padded, 0.0f);
        if (z >= 0 && z < s.d && y >= 0 && y < s.h) {
          const int64_t lo = std::max<int64_t>(0, s.pw), hi = std::min(padded, s.pw + s.w);
          if (hi > lo)
            std::memcpy(row.data() + lo, x + ((ci * s.d + z) * s.h + y) * s.w + (lo - s.pw),
                        static_cast<size_t>(hi - lo) * sizeof(float));
        }
        float* out = xt + ((ci * 4) * t.parities + pz * 2 + yy % 2) * t.stream + (zq * t.rows + yy / 2) * t.tx;
        const int64_t component = t.parities * t.stream;
        for (int64_t k = 0; k < vectors * width; k += width) {
          V d0, d1, d2, d3;  // d[2k], d[2k + 1], d[2k + 2], d[2k + 3]
          Simd::even_odd(row.data() + 2 * k, d0, d1);
          Simd::even_odd(row.data() + 2 * k + 2, d2, d3);
          input_transform(d0, d1, d2, d3);
          const V d[4] = {d0, d1, d2, d3};
          for (int c = 0; c < 4; ++c) {
            if (k + width <= t.tx) {
              Simd::store(out + c * component + k, d[c]);
            } else {  // the row's last columns: the next row follows at once
              alignas(64) float last[width];
              Simd::store(last, d[c]);
              std::copy(last, last + (t.tx - k), out + c * component + k);
            }
          }
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
      float* out = v + (ci * positions + c) * block;
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

// Where each tile of a block puts its outputs: the offset of its first output in an output
// channel, and how many planes, rows and columns of its 2x2(x2) it has (0 rows: not an output).
struct TilePlace {
  int64_t offset;
  int8_t planes, rows, columns;
};

// y[co] for the tiles of one block from m[co][xi][jj] (A^T along z, y, then x), plus bias.
template <int DEPTH>
void inverse_block(const direct::Shape& s, const TilePlace* place, const float* m, const float* bias, float* y) {
  constexpr int positions = DEPTH * 16, half = DEPTH == 4 ? 2 : 1, width = Simd::width;
  const int64_t out_channel = s.od() * s.oh() * s.ow(), ow = s.ow();
  for (int64_t co = 0; co < s.co; ++co) {
    const float* mc = m + co * positions * block;
    const float add = bias ? bias[co] : 0.0f;
    float* dst = y + co * out_channel;
    for (int64_t jv = 0; jv < block; jv += width) {
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
      alignas(64) float out[half][2][2][width];
      for (int a = 0; a < half; ++a)
        for (int b = 0; b < 2; ++b) {
          V y0, y1;
          output_transform(r[a][b][0], r[a][b][1], r[a][b][2], r[a][b][3], y0, y1);
          Simd::store(out[a][b][0], y0);
          Simd::store(out[a][b][1], y1);
        }
      for (int lane = 0; lane < width; ++lane) {
        const TilePlace& p = place[jv + lane];
        for (int a = 0; a < p.planes; ++a)
          for (int b = 0; b < p.rows; ++b) {
            float* row = dst + p.offset + (a * s.oh() + b) * ow;
            row[0] = out[a][b][0][lane] + add;
            if (p.columns == 2) row[1] = out[a][b][1][lane] + add;
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
  float* const xt = direct::workspace(0, s.ci * 4 * t.parities * t.stream);
  for (int64_t q = 0; q < s.ci * 4 * t.parities; ++q)  // slack past the rows, read by the last block
    std::fill(xt + q * t.stream + t.zq * t.rows * t.tx, xt + (q + 1) * t.stream, 0.0f);
  for (int64_t n = 0; n < s.n; ++n) {
    transform_rows(s, t, x + n * s.ci * s.d * s.h * s.w, xt);
    float* yn = y + n * s.co * out_channel;
    parallel_for(0, t.blocks, 1, [&](int64_t b0, int64_t b1) {
      float* v = direct::workspace(2, positions * s.ci * block);  // [ci][xi][jj]
      float* m = direct::workspace(3, positions * s.co * block);  // [co][xi][jj]
      for (int64_t blk = b0; blk < b1; ++blk) {
        transform_block<DEPTH>(s, t, xt, offsets.data(), blk * block, v);
        for (int64_t xi = 0; xi < positions; ++xi)
          for (int64_t cb = 0; cb < cblocks; ++cb) {
            const int64_t c0 = cb * cob, nc = std::min<int64_t>(cob, s.co - c0);
            kernels[static_cast<size_t>(nc - 1)](v + xi * block, positions * block, s.ci, &zero, 1,
                                                 u.data() + xi * s.co * s.ci + c0 * s.ci,
                                                 m + (c0 * positions + xi) * block, positions * block, false);
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

#endif  // UNIEM_HAVE_DIRECT_CONV

}  // namespace winograd
}  // namespace uniem::cpu::UNIEM_CONV_ISA
