// Loss kernels on the GPU: squared error, absolute error and sigmoid cross-entropy point-wise, and
// softmax cross-entropy over channels, each with an optional per-pixel weight and ignore mask. The
// same formulas as core/cpu/loss.cpp; forward sums go through the deterministic reduction.
#include <climits>
#include <string>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/reduce.cuh"

namespace uniem::cuda {
namespace {

using kernel::loss_derivative;
using kernel::loss_value;

template <typename T>
struct Operands {
  const T* x;
  const T* target;
  const T* w;
  const uint8_t* m;
  PixelIndex wi, mi;
  __device__ bool counted(int64_t i) const { return !m || m[mi(i)]; }
  __device__ T weight(int64_t i) const { return w ? w[wi(i)] : T(1); }
};

template <typename T>
Operands<T> operands(const Tensor& x, const Tensor& target, const Tensor& weight, const Tensor& mask) {
  return {ptr<T>(x), ptr<T>(target), ptr_or_null<T>(weight), ptr_or_null<uint8_t>(mask), pixel_index(x, weight),
          pixel_index(x, mask)};
}

template <typename T>
__global__ void pointwise_backward_kernel(PointwiseLoss kind, Operands<T> in, const T* g_sum, T* gx, int64_t n) {
  const T g = g_sum[0];
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    gx[i] = in.counted(i) ? g * in.weight(i) * loss_derivative(kind, in.x[i], in.target[i]) : T(0);
}

// Softmax cross-entropy operands for logits (N, K, inner) and labels (N, 1, inner).
template <typename T>
struct Logits {
  const T* x;
  const int32_t* labels;
  const T* class_weight;
  const T* w;
  const uint8_t* m;
  int64_t k, inner;
  int ignore_label;
  int* bad_label;  // set to an out-of-range label seen, if any
  // -1 for a pixel that does not count; otherwise its label, with the softmax's max and log-sum-exp.
  __device__ int32_t pixel(int64_t pix, double& mx, double& lse, double& factor) const {
    const int32_t label = labels[pix];
    if (label == ignore_label || (m && !m[pix])) return -1;
    if (label < 0 || label >= k) {
      atomicCAS(bad_label, INT_MIN, label);
      return -1;
    }
    const T* l = x + (pix / inner) * k * inner + pix % inner;
    mx = static_cast<double>(l[0]);
    for (int64_t c = 1; c < k; ++c) mx = fmax(mx, static_cast<double>(l[c * inner]));
    double se = 0;
    for (int64_t c = 0; c < k; ++c) se += exp(static_cast<double>(l[c * inner]) - mx);
    lse = log(se);
    factor = (class_weight ? static_cast<double>(class_weight[label]) : 1.0) * (w ? static_cast<double>(w[pix]) : 1.0);
    return label;
  }
};

template <typename T>
__global__ void softmax_ce_backward_kernel(Logits<T> in, const T* g_sum, T* gx, int64_t pixels) {
  const double g = static_cast<double>(g_sum[0]);
  for (int64_t pix = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; pix < pixels;
       pix += int64_t{gridDim.x} * blockDim.x) {
    double mx = 0, lse = 0, factor = 0;
    const int32_t label = in.pixel(pix, mx, lse, factor);
    const int64_t base = (pix / in.inner) * in.k * in.inner + pix % in.inner;
    for (int64_t c = 0; c < in.k; ++c) {
      const int64_t a = base + c * in.inner;
      if (label < 0) {
        gx[a] = 0;
        continue;
      }
      const double p = exp(static_cast<double>(in.x[a]) - mx - lse);
      gx[a] = static_cast<T>(g * factor * (p - (c == label ? 1.0 : 0.0)));
    }
  }
}

template <typename T>
Logits<T> logits(const Tensor& x, const Tensor& labels, const Tensor& class_weight, const Tensor& weight,
                 const Tensor& mask, int ignore_label, int* bad_label) {
  const int64_t k = x.size(1);
  return {ptr<T>(x), ptr<int32_t>(labels), ptr_or_null<T>(class_weight), ptr_or_null<T>(weight),
          ptr_or_null<uint8_t>(mask), k, x.numel() / std::max<int64_t>(x.size(0) * k, 1), ignore_label, bad_label};
}

}  // namespace

namespace {
// (Device lambdas may not sit inside dispatch_float's generic lambda, hence named templates.)
template <typename T>
void pointwise_forward_typed(PointwiseLoss kind, const Tensor& x, const Tensor& target, const Tensor& weight,
                             const Tensor& mask, Tensor& sum, Tensor& count) {
  const Operands<T> in = operands<T>(x, target, weight, mask);
  deterministic_sum<T>(
      x.numel(),
      [in, kind] __device__(int64_t i) {
        if (!in.counted(i)) return SumPair{0, 0};
        return SumPair{static_cast<double>(in.weight(i)) * static_cast<double>(loss_value(kind, in.x[i], in.target[i])),
                       1};
      },
      ptr<T>(sum), ptr<T>(count));
}

template <typename T>
void softmax_ce_forward_typed(const Logits<T>& in, int64_t pixels, Tensor& sum, Tensor& count) {
  deterministic_sum<T>(
      pixels,
      [in] __device__(int64_t pix) {
        double mx = 0, lse = 0, factor = 0;
        const int32_t label = in.pixel(pix, mx, lse, factor);
        if (label < 0) return SumPair{0, 0};
        const double logit =
            static_cast<double>(in.x[(pix / in.inner) * in.k * in.inner + label * in.inner + pix % in.inner]);
        return SumPair{factor * (lse + mx - logit), 1};
      },
      ptr<T>(sum), ptr<T>(count));
}
}  // namespace

void CudaBackend::pointwise_loss_forward(PointwiseLoss kind, const Tensor& x, const Tensor& target,
                                         const Tensor& weight, const Tensor& mask, Tensor& sum, Tensor& count) {
  const OpTimer timer(*this, "pointwise_loss_forward");
  if (x.dtype() == ScalarType::f64) pointwise_forward_typed<double>(kind, x, target, weight, mask, sum, count);
  else dispatch_float(x.dtype(), [&](float) { pointwise_forward_typed<float>(kind, x, target, weight, mask, sum, count); });
}

void CudaBackend::pointwise_loss_backward(PointwiseLoss kind, const Tensor& x, const Tensor& target,
                                          const Tensor& weight, const Tensor& mask, const Tensor& g_sum,
                                          Tensor& gx) {
  const OpTimer timer(*this, "pointwise_loss_backward");
  dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    pointwise_backward_kernel<T><<<blocks_for(x.numel()), threads_per_block, 0, stream_>>>(
        kind, operands<T>(x, target, weight, mask), ptr<T>(g_sum), ptr<T>(gx), x.numel());
  });
  check_launch("pointwise_loss_backward");
}

void CudaBackend::softmax_cross_entropy_forward(const Tensor& x, const Tensor& labels, const Tensor& class_weight,
                                                const Tensor& weight, const Tensor& mask, int ignore_label,
                                                Tensor& sum, Tensor& count) {
  const OpTimer timer(*this, "softmax_cross_entropy_forward");
  auto flag = allocate(sizeof(int), x.device());
  int* bad = static_cast<int*>(flag->data.get());
  const int sentinel = INT_MIN;
  UNIEM_CUDA_CHECK(cudaMemcpyAsync(bad, &sentinel, sizeof(int), cudaMemcpyHostToDevice, stream_));
  if (x.dtype() == ScalarType::f64)
    softmax_ce_forward_typed<double>(logits<double>(x, labels, class_weight, weight, mask, ignore_label, bad),
                                     labels.numel(), sum, count);
  else
    dispatch_float(x.dtype(), [&](float) {
      softmax_ce_forward_typed<float>(logits<float>(x, labels, class_weight, weight, mask, ignore_label, bad),
                                      labels.numel(), sum, count);
    });
  int seen = INT_MIN;
  UNIEM_CUDA_CHECK(cudaMemcpyAsync(&seen, bad, sizeof(int), cudaMemcpyDeviceToHost, stream_));
  UNIEM_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (seen != INT_MIN)
    throw InputError("class label " + std::to_string(seen) + " is outside 0.." + std::to_string(x.size(1) - 1) +
                     " for a network with " + std::to_string(x.size(1)) +
                     " output channels; use the ignore label for unlabelled pixels");
}

void CudaBackend::softmax_cross_entropy_backward(const Tensor& x, const Tensor& labels, const Tensor& class_weight,
                                                 const Tensor& weight, const Tensor& mask, int ignore_label,
                                                 const Tensor& g_sum, Tensor& gx) {
  const OpTimer timer(*this, "softmax_cross_entropy_backward");
  auto flag = allocate(sizeof(int), x.device());
  int* bad = static_cast<int*>(flag->data.get());
  const int sentinel = INT_MIN;
  UNIEM_CUDA_CHECK(cudaMemcpyAsync(bad, &sentinel, sizeof(int), cudaMemcpyHostToDevice, stream_));
  dispatch_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    softmax_ce_backward_kernel<T><<<blocks_for(labels.numel()), threads_per_block, 0, stream_>>>(
        logits<T>(x, labels, class_weight, weight, mask, ignore_label, bad), ptr<T>(g_sum), ptr<T>(gx),
        labels.numel());
  });
  check_launch("softmax_cross_entropy_backward");
}

}  // namespace uniem::cuda
