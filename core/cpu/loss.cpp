// Loss kernels: the point-wise losses (squared error, absolute error, sigmoid cross-entropy) and
// softmax cross-entropy over channels, each with an optional per-pixel weight and ignore mask.
// Forward sums the weighted loss and counts the elements that were not ignored, in fixed chunks.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/threads.h"

namespace uniem {

namespace {

using kernel::loss_derivative;
using kernel::loss_value;

// Sums fn(i) -> (loss, counted) over [0, n) in fixed chunks, in chunk order.
template <typename Fn>
std::pair<double, double> chunked_sum(int64_t n, Fn&& fn) {
  constexpr int64_t chunk = 1 << 14;
  const int64_t chunks = (n + chunk - 1) / chunk;
  std::vector<std::pair<double, double>> partial(static_cast<size_t>(chunks));
  parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double s = 0, k = 0;
      for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) {
        const auto [l, counted] = fn(i);
        s += l;
        k += counted;
      }
      partial[static_cast<size_t>(c)] = {s, k};
    }
  });
  double s = 0, k = 0;
  for (auto [a, b] : partial) {
    s += a;
    k += b;
  }
  return {s, k};
}

void check_label(int32_t label, int64_t classes) {
  if (label < 0 || label >= classes)
    throw InputError("class label " + std::to_string(label) + " is outside 0.." + std::to_string(classes - 1) +
                     " for a network with " + std::to_string(classes) +
                     " output channels; use the ignore label for unlabelled pixels");
}

// The operands of a point-wise loss: element i counts unless masked, with weight(i).
template <typename T>
struct PointwiseOperands {
  const T* x;
  const T* target;
  const T* w;
  const uint8_t* m;
  cpu::PixelIndex wi, mi;
  PointwiseOperands(const Tensor& xt, const Tensor& tt, const Tensor& weight, const Tensor& mask)
      : x(xt.data<T>()), target(tt.data<T>()), w(weight.defined() ? weight.data<T>() : nullptr),
        m(mask.defined() ? mask.data<uint8_t>() : nullptr), wi(cpu::pixel_index(xt, weight)),
        mi(cpu::pixel_index(xt, mask)) {}
  bool counted(int64_t i) const { return !m || m[mi(i)]; }
  T weight(int64_t i) const { return w ? w[wi(i)] : T(1); }
};

}  // namespace

void CpuBackend::pointwise_loss_forward(PointwiseLoss kind, const Tensor& x, const Tensor& target,
                                        const Tensor& weight, const Tensor& mask, Tensor& sum, Tensor& count) {
  cpu::dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const PointwiseOperands<T> in(x, target, weight, mask);
    const auto [s, k] = chunked_sum(x.numel(), [&](int64_t i) -> std::pair<double, double> {
      if (!in.counted(i)) return {0.0, 0.0};
      return {static_cast<double>(in.weight(i)) * static_cast<double>(loss_value(kind, in.x[i], in.target[i])), 1.0};
    });
    sum.data<T>()[0] = static_cast<T>(s);
    count.data<T>()[0] = static_cast<T>(k);
  });
}

void CpuBackend::pointwise_loss_backward(PointwiseLoss kind, const Tensor& x, const Tensor& target,
                                         const Tensor& weight, const Tensor& mask, const Tensor& g_sum,
                                         Tensor& gx) {
  cpu::dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const PointwiseOperands<T> in(x, target, weight, mask);
    const T g = g_sum.data<T>()[0];
    T* out = gx.data<T>();
    parallel_for(0, x.numel(), 1 << 14, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        out[i] = in.counted(i) ? g * in.weight(i) * loss_derivative(kind, in.x[i], in.target[i]) : T(0);
    });
  });
}

namespace {
// Visits every pixel (n, s) of logits (N, K, inner) that counts, with its softmax computed:
// fn(pixel, label, factor, log-sum-exp, max) where factor = class weight * pixel weight.
template <typename T, typename Fn>
void for_counted_pixels(const Tensor& x, const Tensor& labels, const Tensor& class_weight, const Tensor& weight,
                        const Tensor& mask, int ignore_label, int64_t p0, int64_t p1, Fn&& fn) {
  const int64_t k = x.size(1), inner = x.numel() / std::max<int64_t>(x.size(0) * k, 1);
  const T* px = x.data<T>();
  const int32_t* pl = labels.data<int32_t>();
  const T* pcw = class_weight.defined() ? class_weight.data<T>() : nullptr;
  const T* pw = weight.defined() ? weight.data<T>() : nullptr;
  const uint8_t* pm = mask.defined() ? mask.data<uint8_t>() : nullptr;
  for (int64_t pix = p0; pix < p1; ++pix) {
    const int32_t label = pl[pix];
    if (label == ignore_label || (pm && !pm[pix])) {
      fn(pix, -1, 0.0, 0.0, 0.0);
      continue;
    }
    check_label(label, k);
    const T* logits = px + (pix / inner) * k * inner + pix % inner;
    double mx = static_cast<double>(logits[0]);
    for (int64_t c = 1; c < k; ++c) mx = std::max(mx, static_cast<double>(logits[c * inner]));
    double se = 0;
    for (int64_t c = 0; c < k; ++c) se += std::exp(static_cast<double>(logits[c * inner]) - mx);
    const double factor = (pcw ? static_cast<double>(pcw[label]) : 1.0) * (pw ? static_cast<double>(pw[pix]) : 1.0);
    fn(pix, label, factor, std::log(se), mx);
  }
}
}  // namespace

void CpuBackend::softmax_cross_entropy_forward(const Tensor& x, const Tensor& labels, const Tensor& class_weight,
                                               const Tensor& weight, const Tensor& mask, int ignore_label,
                                               Tensor& sum, Tensor& count) {
  cpu::dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const int64_t k = x.size(1), inner = x.numel() / std::max<int64_t>(x.size(0) * k, 1);
    const T* px = x.data<T>();
    const auto [s, n] = chunked_sum(labels.numel(), [&](int64_t pix) {
      std::pair<double, double> r{0.0, 0.0};
      for_counted_pixels<T>(x, labels, class_weight, weight, mask, ignore_label, pix, pix + 1,
                            [&](int64_t, int32_t label, double factor, double lse, double mx) {
                              if (label < 0) return;
                              const double logit = static_cast<double>(
                                  px[(pix / inner) * k * inner + label * inner + pix % inner]);
                              r = {factor * (lse + mx - logit), 1.0};
                            });
      return r;
    });
    sum.data<T>()[0] = static_cast<T>(s);
    count.data<T>()[0] = static_cast<T>(n);
  });
}

void CpuBackend::softmax_cross_entropy_backward(const Tensor& x, const Tensor& labels, const Tensor& class_weight,
                                                const Tensor& weight, const Tensor& mask, int ignore_label,
                                                const Tensor& g_sum, Tensor& gx) {
  cpu::dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const int64_t k = x.size(1), inner = x.numel() / std::max<int64_t>(x.size(0) * k, 1);
    const T* px = x.data<T>();
    T* out = gx.data<T>();
    const double g = static_cast<double>(g_sum.data<T>()[0]);
    parallel_for(0, labels.numel(), 4096, [&](int64_t p0, int64_t p1) {
      for_counted_pixels<T>(x, labels, class_weight, weight, mask, ignore_label, p0, p1,
                            [&](int64_t pix, int32_t label, double factor, double lse, double mx) {
                              const int64_t base = (pix / inner) * k * inner + pix % inner;
                              for (int64_t c = 0; c < k; ++c) {
                                const int64_t at = base + c * inner;
                                if (label < 0) {
                                  out[at] = 0;
                                  continue;
                                }
                                const double p = std::exp(static_cast<double>(px[at]) - mx - lse);
                                out[at] = static_cast<T>(g * factor * (p - (c == label ? 1.0 : 0.0)));
                              }
                            });
    });
  });
}

}  // namespace uniem
