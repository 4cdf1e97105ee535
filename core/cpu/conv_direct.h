// Direct float convolution for stride 1 (any padding and dilation), 2-D and 3-D, without im2col.
// Included by conv_kernels.cpp only, so it is compiled once per instruction set like the rest.
//
// Each sample is first copied into a zero-padded buffer (Cin x Dp x Hp x Wp). In that layout the
// output at (z, h, w) reads input (z + a*dd, h + b*dh, w + e*dw), i.e. the flat index
// q + off[tap] of the padded plane, q = h * Wp + w. So each output plane is computed as a 1-D
// convolution along q over [0, Ho * Wp): the Wp - Wo columns at the end of each row are computed
// and thrown away (3 of 35 for the FFN, 2 of 258 for a 256-wide 2-D layer). The micro-kernel holds
// a block of `cob` output channels x `nv` vectors of consecutive q in registers and, for every
// input channel and tap, loads nv input vectors and broadcasts cob weights (packed per block as
// [Cin][taps][cob]): cob*nv fused multiply-adds per cob + nv loads, no packing of the input.
// For each block of positions, input channels are taken `chunk` at a time for every block of
// output channels (partial sums kept in a small buffer), so the input rows stay in L1.
// The filter gradient is the same 1-D picture turned around (backward_filter). Every output sums
// its terms in an order fixed by the shapes alone, so results are the same for every thread count.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#define UNIEM_HAVE_DIRECT_CONV 1
#endif

#include "core/threads.h"

namespace uniem {
// Adds kept scratch memory to the CPU backend's live and peak bytes (core/cpu/memory.cpp).
void count_scratch_bytes(size_t bytes);
}  // namespace uniem

namespace uniem::cpu::UNIEM_CONV_ISA {

// out[e] = the sum over groups of partial[group * total + e], groups added in order: how both
// filter-gradient paths combine their fixed groups of work reproducibly.
template <typename T>
void add_group_partials(const T* partial, int64_t groups, int64_t total, T* out) {
  parallel_for(0, total, 4096, [&](int64_t e0, int64_t e1) {
    for (int64_t e = e0; e < e1; ++e) {
      T acc = 0;
      for (int64_t group = 0; group < groups; ++group) acc += partial[static_cast<size_t>(group * total + e)];
      out[e] = acc;
    }
  });
}

namespace direct {

#if defined(UNIEM_HAVE_DIRECT_CONV)

#if defined(__AVX512F__)
struct Simd {  // 32 registers: 8 x 3 accumulators, 3 inputs, 1 broadcast
  static constexpr int width = 16, cob = 8, nv = 3;
  using V = __m512;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  // The sum of the lanes, folded in halves with two-source permutes (GCC 12's extracts, casts and
  // one-source shuffles read an undefined register that -Werror=uninitialized rejects).
  static float sum(V v) {
    v = _mm512_add_ps(v, _mm512_permutex2var_ps(v, _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0), v));
    v = _mm512_add_ps(v, _mm512_permutex2var_ps(v, _mm512_setr_epi32(4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), v));
    v = _mm512_add_ps(v, _mm512_permutex2var_ps(v, _mm512_setr_epi32(2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), v));
    v = _mm512_add_ps(v, _mm512_permutex2var_ps(v, _mm512_setr_epi32(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), v));
    return _mm512_cvtss_f32(v);
  }
  // p[first + l] for the lanes l with 0 <= first + l < size, zero in the others (which are not read).
  static V load_inside(const float* p, int64_t first, int64_t size) {
    const int64_t lo = std::clamp<int64_t>(-first, 0, width), hi = std::clamp<int64_t>(size - first, lo, width);
    const __mmask16 mask = static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1));
    return _mm512_maskz_loadu_ps(mask, p + first);
  }
  // p[l] = v[l] for the lanes lo <= l < hi (clamped to the vector); nothing else is touched.
  static void store_range(float* p, V v, int64_t lo, int64_t hi) {
    lo = std::clamp<int64_t>(lo, 0, width);
    hi = std::clamp<int64_t>(hi, lo, width);
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1)), v);
  }
  // (first, second) = a0 b0 a1 b1 ... a15 b15.
  static void interleave(V a, V b, V& first, V& second) {
    first = _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), b);
    second = _mm512_permutex2var_ps(a, _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), b);
  }
  // even = the even lanes of (lo, hi) in order, odd = the odd ones.
  static void even_odd(V lo, V hi, V& even, V& odd) {
    even = _mm512_permutex2var_ps(lo, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), hi);
    odd = _mm512_permutex2var_ps(lo, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), hi);
  }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  // r[i][j] becomes r[j][i]: 16 rows of 16 lanes transposed in registers.
  static void transpose(V r[width]) {
    V t[width];
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // Per 128-bit lane L of r[4 i + e]: column 4 L + e of rows 4 i .. 4 i + 3.
    for (int i = 0; i < 4; ++i) {
      const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
      const __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
      r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
      r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
      r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
      r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
    }
    for (int e = 0; e < 4; ++e) {
      const V a0 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0x88), a1 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0xDD);
      const V b0 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0x88), b1 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0xDD);
      t[e] = _mm512_shuffle_f32x4(a0, b0, 0x88);
      t[8 + e] = _mm512_shuffle_f32x4(a0, b0, 0xDD);
      t[4 + e] = _mm512_shuffle_f32x4(a1, b1, 0x88);
      t[12 + e] = _mm512_shuffle_f32x4(a1, b1, 0xDD);
    }
    for (int i = 0; i < width; ++i) r[i] = t[i];
  }
};
#else
struct Simd {  // 16 registers: 4 x 3 accumulators, 3 inputs, 1 broadcast
  static constexpr int width = 8, cob = 4, nv = 3;
  using V = __m256;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static float sum(V v) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
  }
  // p[first + l] for the lanes l with 0 <= first + l < size, zero in the others (which are not read).
  static V load_inside(const float* p, int64_t first, int64_t size) {
    const __m256i lane = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                          _mm256_set1_epi32(static_cast<int>(std::clamp<int64_t>(first, -width, size))));
    const __m256i inside = _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), lane),
                                               _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(size)), lane));
    return _mm256_maskload_ps(p + first, inside);
  }
  // p[l] = v[l] for the lanes lo <= l < hi (clamped to the vector); nothing else is touched.
  static void store_range(float* p, V v, int64_t lo, int64_t hi) {
    lo = std::clamp<int64_t>(lo, 0, width);
    hi = std::clamp<int64_t>(hi, lo, width);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i inside = _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(lo)), lane),
                                               _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(hi)), lane));
    _mm256_maskstore_ps(p, inside, v);
  }
  // (first, second) = a0 b0 a1 b1 ... a7 b7.
  static void interleave(V a, V b, V& first, V& second) {
    const V lo = _mm256_unpacklo_ps(a, b), hi = _mm256_unpackhi_ps(a, b);
    first = _mm256_permute2f128_ps(lo, hi, 0x20);
    second = _mm256_permute2f128_ps(lo, hi, 0x31);
  }
  // even = the even lanes of (lo, hi) in order, odd = the odd ones.
  static void even_odd(V lo, V hi, V& even, V& odd) {
    even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xD8));
    odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xDD)), 0xD8));
  }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  // r[i][j] becomes r[j][i]: 8 rows of 8 lanes transposed in registers.
  static void transpose(V r[width]) {
    V t[width], q[width];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // Per 128-bit lane L of q[4 h + e]: column 4 L + e of rows 4 h .. 4 h + 3.
    for (int h = 0; h < 2; ++h) {
      q[4 * h] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
      q[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
      q[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
      q[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
    }
    for (int e = 0; e < 4; ++e) {
      r[e] = _mm256_permute2f128_ps(q[e], q[4 + e], 0x20);
      r[4 + e] = _mm256_permute2f128_ps(q[e], q[4 + e], 0x31);
    }
  }
};
#endif

constexpr int64_t block = Simd::width * Simd::nv;  // output positions per micro-kernel call
// Input channels per micro-kernel call: the rows they read (16 channels x 3 x 3 rows of 4 cache
// lines for a 3x3 2-D kernel) stay in L1 while every block of output channels uses them. Measured
// on one core of the AVX-512 Xeon: 2-D 64->64 forward 70 -> 85 GFLOP/s, 3-D 32->32 51 -> 83.
constexpr int64_t chunk = 16;

// Per-thread buffers, grown on demand and kept for the next call, starting on a cache line: a
// fresh 17 MB padded input per call cost a quarter of a 2-D 64->64 256^2 forward pass in page
// faults (0.036 -> 0.029 s on 2 threads), and the filter gradient's 2.4 MB lane sums and partials
// another 4% of a forward+backward. Slots: 0 padded (or, for Winograd, transformed) inputs,
// 1 padded or transformed output gradients, 2 a worker's output block, lane sums, transformed
// tiles or a row transposed into channels, 3 the filter gradient's group partials or a worker's
// products (or transformed output gradients), 4 the Winograd filter gradient's group sums of dU.
// Their growth counts as live memory of the CPU backend (they are kept), so a measured peak such
// as infer2d's includes them.
inline float* workspace(size_t slot, int64_t floats) {
  thread_local std::array<std::vector<float>, 5> buffers;
  std::vector<float>& b = buffers[slot];
  if (b.size() < static_cast<size_t>(floats) + 16) {
    const size_t before = b.capacity();
    b.resize(static_cast<size_t>(floats) + 16);
    count_scratch_bytes((b.capacity() - before) * sizeof(float));
  }
  return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(b.data()) + 63) & ~uintptr_t{63});
}

struct Shape {
  int64_t n, ci, d, h, w;     // input
  int64_t co, kd, kh, kw;     // filter
  int64_t pd, ph, pw, dd, dh, dw;
  int64_t dp() const { return d + 2 * pd; }
  int64_t hp() const { return h + 2 * ph; }
  int64_t wp() const { return w + 2 * pw; }
  int64_t od() const { return dp() - dd * (kd - 1); }
  int64_t oh() const { return hp() - dh * (kh - 1); }
  int64_t ow() const { return wp() - dw * (kw - 1); }
  int64_t taps() const { return kd * kh * kw; }
  int64_t plane() const { return hp() * wp(); }     // padded
  int64_t channel() const { return dp() * plane(); }  // padded
  // Where each (input channel, tap) reads in the padded layout, relative to the output position,
  // in (Cin, kD, kH, kW) order; `channels` input channels (1: the taps of channel 0 alone).
  std::vector<int64_t> offsets(int64_t channels) const {
    std::vector<int64_t> off;
    off.reserve(static_cast<size_t>(channels * taps()));
    for (int64_t i = 0; i < channels; ++i)
      for (int64_t a = 0; a < kd; ++a)
        for (int64_t b = 0; b < kh; ++b)
          for (int64_t e = 0; e < kw; ++e) off.push_back(i * channel() + a * dd * plane() + b * dh * wp() + e * dw);
    return off;
  }
};

// out[c * out_stride + j] (+)= the sum over input channels i and taps t of
// wp[(i * taps + t) * COB + c] * x[i][j + off[t]], for j in [0, block): COB output channels
// (COB <= Simd::cob), `block` consecutive positions; added to what out holds when `accumulate`.
template <int COB>
void micro_kernel(const float* x, int64_t channel_stride, int64_t ci, const int64_t* off, int64_t taps,
                  const float* wp, float* out, int64_t out_stride, bool accumulate) {
  constexpr int nv = Simd::nv, width = Simd::width;
  typename Simd::V acc[COB][nv];
  for (int c = 0; c < COB; ++c)
    for (int v = 0; v < nv; ++v) acc[c][v] = accumulate ? Simd::load(out + c * out_stride + v * width) : Simd::zero();
  for (int64_t i = 0; i < ci; ++i, x += channel_stride)
    for (int64_t t = 0; t < taps; ++t, wp += COB) {
      const float* xt = x + off[t];
      typename Simd::V in[nv];
      for (int v = 0; v < nv; ++v) in[v] = Simd::load(xt + v * width);
      for (int c = 0; c < COB; ++c) {
        const typename Simd::V weight = Simd::broadcast(wp + c);
        for (int v = 0; v < nv; ++v) acc[c][v] = Simd::fma(in[v], weight, acc[c][v]);
      }
    }
  for (int c = 0; c < COB; ++c)
    for (int v = 0; v < nv; ++v) Simd::store(out + c * out_stride + v * width, acc[c][v]);
}

using MicroKernel = void (*)(const float*, int64_t, int64_t, const int64_t*, int64_t, const float*, float*, int64_t,
                            bool);

template <int... C>
constexpr std::array<MicroKernel, sizeof...(C)> micro_kernels(std::integer_sequence<int, C...>) {
  return {&micro_kernel<C + 1>...};
}

// The zero-padded copy of one sample, with `slack` zeros after it for the last block's overreach.
void pad_sample(const Shape& s, const float* x, float* padded, int64_t slack) {
  const int64_t dp = s.dp(), hp = s.hp(), wp = s.wp();
  parallel_for(0, s.ci * dp, 4, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t c = p / dp, z = p % dp - s.pd;
      float* plane = padded + p * hp * wp;
      if (z < 0 || z >= s.d) {
        std::fill(plane, plane + hp * wp, 0.0f);
        continue;
      }
      std::fill(plane, plane + s.ph * wp, 0.0f);
      for (int64_t r = 0; r < s.h; ++r) {
        float* row = plane + (r + s.ph) * wp;
        std::fill(row, row + s.pw, 0.0f);
        std::memcpy(row + s.pw, x + ((c * s.d + z) * s.h + r) * s.w, static_cast<size_t>(s.w) * sizeof(float));
        std::fill(row + s.pw + s.w, row + wp, 0.0f);
      }
      std::fill(plane + (s.ph + s.h) * wp, plane + hp * wp, 0.0f);
    }
  });
  std::fill(padded + s.ci * dp * hp * wp, padded + s.ci * dp * hp * wp + slack, 0.0f);
}

// y (N x Cout x Do x Ho x Wo) = the convolution of x with w (Cout x Cin x kD x kH x kW), plus bias.
void forward(const Shape& s, const float* x, const float* w, const float* bias, float* y) {
  constexpr int cob = Simd::cob;
  static constexpr auto kernels = micro_kernels(std::make_integer_sequence<int, cob>{});
  const int64_t taps = s.taps(), wp = s.wp();
  const int64_t od = s.od(), oh = s.oh(), ow = s.ow();
  const int64_t plane = s.plane(), channel = s.channel();
  const std::vector<int64_t> off = s.offsets(1);

  // Weights packed per block of output channels: [block][Cin][taps][cob] (the last block narrower).
  const int64_t blocks = (s.co + cob - 1) / cob, per_channel = s.ci * taps;
  std::vector<float> packed(static_cast<size_t>(s.co * per_channel));
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t c0 = b * cob, width = std::min<int64_t>(cob, s.co - c0);
    float* dst = packed.data() + c0 * per_channel;
    for (int64_t k = 0; k < per_channel; ++k)
      for (int64_t c = 0; c < width; ++c) dst[k * width + c] = w[(c0 + c) * per_channel + k];
  }

  // Positions per plane (whole padded rows), cut into blocks, grouped into tasks of a few blocks.
  const int64_t positions = oh * wp, plane_blocks = (positions + block - 1) / block;
  const int64_t tasks_per_plane = std::max<int64_t>(1, plane_blocks / 12);
  const int64_t slack = block + (s.kw - 1) * s.dw + Simd::width;
  float* const padded = workspace(0, s.ci * channel + slack);
  const int64_t out_plane = oh * ow, out_channel = od * out_plane;

  for (int64_t n = 0; n < s.n; ++n) {
    pad_sample(s, x + n * s.ci * s.d * s.h * s.w, padded, slack);
    float* yn = y + n * s.co * out_channel;
    parallel_for(0, od * tasks_per_plane, 1, [&](int64_t t0, int64_t t1) {
      float* out = workspace(2, blocks * cob * block);  // [Cout][block]
      for (int64_t task = t0; task < t1; ++task) {
        const int64_t z = task / tasks_per_plane, part = task % tasks_per_plane;
        const int64_t b0 = plane_blocks * part / tasks_per_plane, b1 = plane_blocks * (part + 1) / tasks_per_plane;
        for (int64_t qb = b0; qb < b1; ++qb) {
          const int64_t q0 = qb * block;
          for (int64_t i0 = 0; i0 < s.ci; i0 += chunk) {
            const int64_t ni = std::min<int64_t>(chunk, s.ci - i0);
            for (int64_t cb = 0; cb < blocks; ++cb) {
              const int64_t c0 = cb * cob, width = std::min<int64_t>(cob, s.co - c0);
              const float* wpk = packed.data() + c0 * per_channel + i0 * taps * width;
              kernels[static_cast<size_t>(width - 1)](padded + i0 * channel + z * plane + q0, channel, ni,
                                                      off.data(), taps, wpk, out + c0 * block, block, i0 > 0);
            }
          }
          // Keep the positions that are real outputs (row < Ho, column < Wo), add the bias.
          for (int64_t q = q0; q < std::min(q0 + block, positions);) {
            const int64_t r = q / wp, col = q - r * wp;
            const int64_t run = std::min(wp - col, std::min(q0 + block, positions) - q);
            const int64_t keep = std::min(run, std::max<int64_t>(0, ow - col));
            for (int64_t c = 0; c < s.co; ++c) {
              float* dst = yn + c * out_channel + z * out_plane + r * ow + col;
              const float* src = out + c * block + (q - q0);
              const float add = bias ? bias[c] : 0.0f;
              for (int64_t j = 0; j < keep; ++j) dst[j] = src[j] + add;
            }
            q += run;
          }
        }
      }
    });
  }
}

// lanes[(c * KB + k) * width + j] += the lane-by-lane dot product of gy row c (rows `row` apart)
// and input row k (at x + off[k]) over `vectors` vectors: COB output channels x KB (input
// channel, tap) pairs held in registers; the lanes are added up once at the end.
template <int COB, int KB>
void filter_kernel(const float* gy, int64_t row, const float* x, const int64_t* off, int64_t vectors, float* lanes) {
  constexpr int width = Simd::width;
  typename Simd::V acc[COB][KB];
  for (int c = 0; c < COB; ++c)
    for (int k = 0; k < KB; ++k) acc[c][k] = Simd::zero();
  for (int64_t v = 0; v < vectors; ++v) {
    typename Simd::V g[COB];
    for (int c = 0; c < COB; ++c) g[c] = Simd::load(gy + c * row + v * width);
    for (int k = 0; k < KB; ++k) {
      const typename Simd::V in = Simd::load(x + off[k] + v * width);
      for (int c = 0; c < COB; ++c) acc[c][k] = Simd::fma(g[c], in, acc[c][k]);
    }
  }
  for (int c = 0; c < COB; ++c)
    for (int k = 0; k < KB; ++k) {
      float* p = lanes + (c * KB + k) * width;
      Simd::store(p, Simd::add(Simd::load(p), acc[c][k]));
    }
}

// gb[c] = the sum of gy over samples and positions of output channel c: float lanes over runs of
// 1024 values, added up in double.
inline void bias_gradient(const Shape& s, const float* gy, float* gb) {
  constexpr int64_t run = 1024;
  const int64_t positions = s.od() * s.oh() * s.ow();
  parallel_for(0, s.co, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double acc = 0;
      for (int64_t n = 0; n < s.n; ++n) {
        const float* src = gy + (n * s.co + c) * positions;
        for (int64_t j0 = 0; j0 < positions; j0 += run) {
          const int64_t j1 = std::min(positions, j0 + run);
          typename Simd::V lanes = Simd::zero();
          for (int64_t j = j0; j < j1; j += Simd::width) lanes = Simd::add(lanes, Simd::load_inside(src, j, j1));
          acc += Simd::sum(lanes);
        }
      }
      gb[c] = static_cast<float>(acc);
    }
  });
}

// gw (Cout x Cin x taps) = the sum over samples and output positions of gy times the input under
// each tap; gb (if not null) = the sum of gy per output channel. In the padded layout of forward()
// this is a 1-D correlation over the flat index j of a sample's padded volume:
// gw[c][i][t] = sum_j g[c][j] * x[i][j + off[t]], with g = gy placed at the padded positions of
// real outputs and zero everywhere else. The flat range is cut into pieces, the pieces into a fixed
// number of groups (independent of the thread count); each group sums its pieces lane by lane,
// then across lanes into its own partial, and the partials are added in order.
void backward_filter(const Shape& s, const float* x, const float* gy, float* gw, float* gb) {
  constexpr int cob = 4, kb = 6, width = Simd::width;
  const int64_t taps = s.taps(), wp = s.wp();
  const int64_t od = s.od(), oh = s.oh(), ow = s.ow();
  const int64_t plane = s.plane(), channel = s.channel();
  // Per sample, whole vectors up to the last real output: the reads at j + off[t] then end within
  // `slack` of the padded volume's end.
  const int64_t length = ((od - 1) * plane + oh * wp + width - 1) / width * width;
  const int64_t k_total = s.ci * taps;
  const std::vector<int64_t> off = s.offsets(s.ci);

  // Padded copies of every sample's input and output gradient.
  const int64_t slack = width + (s.kw - 1) * s.dw + width;
  const int64_t x_sample = s.ci * channel, g_sample = s.co * length;
  float* const xp = workspace(0, s.n * x_sample + slack);
  float* const gp = workspace(1, s.n * g_sample);
  for (int64_t n = 0; n < s.n; ++n) pad_sample(s, x + n * s.ci * s.d * s.h * s.w, xp + n * x_sample, 0);
  std::fill(xp + s.n * x_sample, xp + s.n * x_sample + slack, 0.0f);
  parallel_for(0, s.n * s.co, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* dst = gp + r * length;
      const float* src = gy + r * od * oh * ow;
      std::fill(dst, dst + length, 0.0f);
      for (int64_t z = 0; z < od; ++z)
        for (int64_t h = 0; h < oh; ++h)
          std::memcpy(dst + z * plane + h * wp, src + (z * oh + h) * ow, static_cast<size_t>(ow) * sizeof(float));
    }
  });

  // Pieces of about `piece` vectors (a block of gy rows stays in L1 while the input streams past);
  // a fixed count of groups of consecutive pieces.
  constexpr int64_t piece = 64;
  const int64_t per_sample = std::max<int64_t>(1, length / width / piece);
  const int64_t pieces = s.n * per_sample, groups = std::min<int64_t>(pieces, 16);
  const int64_t total = s.co * k_total;
  float* const partial = workspace(3, groups * total);  // every group writes all of its part
  const int64_t co_blocks = (s.co + cob - 1) / cob, k_blocks = (k_total + kb - 1) / kb;
  const int64_t block_lanes = cob * kb * width;
  parallel_for(0, groups, 1, [&](int64_t g0, int64_t g1) {
    float* lanes = workspace(2, co_blocks * k_blocks * block_lanes);
    for (int64_t group = g0; group < g1; ++group) {
      std::fill(lanes, lanes + co_blocks * k_blocks * block_lanes, 0.0f);
      for (int64_t pc = pieces * group / groups; pc < pieces * (group + 1) / groups; ++pc) {
        const int64_t n = pc / per_sample, part = pc % per_sample;
        const int64_t v0 = length / width * part / per_sample, v1 = length / width * (part + 1) / per_sample;
        const float* g = gp + n * g_sample + v0 * width;
        const float* xs = xp + n * x_sample + v0 * width;
        for (int64_t cb = 0; cb < co_blocks; ++cb) {
          const int64_t c0 = cb * cob;
          for (int64_t b = 0; b < k_blocks; ++b) {
            const int64_t k0 = b * kb;
            float* block_out = lanes + (cb * k_blocks + b) * block_lanes;
            if (c0 + cob <= s.co && k0 + kb <= k_total) {
              filter_kernel<cob, kb>(g + c0 * length, length, xs, off.data() + k0, v1 - v0, block_out);
            } else {  // edge blocks, one (channel, pair) at a time
              for (int64_t c = c0; c < std::min(c0 + cob, s.co); ++c)
                for (int64_t k = k0; k < std::min(k0 + kb, k_total); ++k)
                  filter_kernel<1, 1>(g + c * length, length, xs, off.data() + k, v1 - v0,
                                      block_out + ((c - c0) * kb + (k - k0)) * width);
            }
          }
        }
      }
      float* out = partial + group * total;
      for (int64_t c = 0; c < s.co; ++c)
        for (int64_t k = 0; k < k_total; ++k) {
          const float* l = lanes + ((c / cob * k_blocks + k / kb) * cob * kb + (c % cob) * kb + k % kb) * width;
          float sum = 0;
          for (int j = 0; j < width; ++j) sum += l[j];
          out[c * k_total + k] = sum;
        }
    }
  });
  add_group_partials(partial, groups, total, gw);
  if (gb) bias_gradient(s, gy, gb);
}

#endif  // UNIEM_HAVE_DIRECT_CONV

}  // namespace direct
}  // namespace uniem::cpu::UNIEM_CONV_ISA
