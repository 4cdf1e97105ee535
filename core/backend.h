// The backend interface: every kernel the runtime needs, implemented once per device kind.
//
// backend(device) is the one dispatch point. Ops (core/ops/) check shapes, allocate outputs and
// record the backward rule, then call the backend of their inputs' device; they never branch on the
// device themselves. The CPU backend (core/cpu/, made on first use by cpu_backend()) is always
// there; the CUDA backend (cuda/) adds a second implementation of the same interface.
//
// Conventions for every kernel:
// - Tensors are contiguous, on this backend's device, and already shaped as the op checked. Output
//   tensors are allocated by the caller; kernels overwrite them unless the name says "accumulate".
// - Convolution, pooling and batch norm receive 5-D tensors (N, C, D, H, W); 2-D ops pass D = 1.
// - Floating-point kernels handle f32, and f64 on the CPU for gradient checks.
// - Results do not depend on the thread count: reductions combine fixed chunks in a fixed order.
#pragma once

#include <memory>

#include "core/generator.h"
#include "core/params.h"
#include "core/tensor.h"

namespace uniem {

class Backend {
 public:
  virtual ~Backend() = default;

  // ---- memory
  virtual std::shared_ptr<Storage> allocate(size_t bytes, Device device) = 0;
  virtual void copy_to_host(const Tensor& src, void* dst) = 0;
  virtual void copy_from_host(const void* src, Tensor& dst) = 0;
  virtual void copy(const Tensor& src, Tensor& dst) = 0;  // same shape and dtype
  virtual void cast(const Tensor& src, Tensor& dst) = 0;  // same shape, any dtypes
  virtual void fill(Tensor& t, double value) = 0;
  // Bytes of tensor storage allocated now and at most since the last reset_peak_bytes(): what a
  // command measures to say how much memory a network needs.
  virtual size_t live_bytes() const = 0;
  virtual size_t peak_bytes() const = 0;
  virtual void reset_peak_bytes() = 0;

  // ---- random (core/generator.h): uniform in [low, high), normal, bernoulli (1 with probability p)
  virtual void random_uniform(Tensor& t, RandomStream s, double low, double high) = 0;
  virtual void random_normal(Tensor& t, RandomStream s, double mean, double stddev) = 0;
  virtual void random_bernoulli(Tensor& t, RandomStream s, double p) = 0;

  // ---- element-wise
  virtual void unary(UnaryOp op, UnaryArgs args, const Tensor& x, Tensor& y) = 0;
  // gx = gy * dy/dx; y is the forward output (used where cheaper than x).
  virtual void unary_backward(UnaryOp op, UnaryArgs args, const Tensor& x, const Tensor& y, const Tensor& gy,
                              Tensor& gx) = 0;
  // y = a op b, NumPy broadcasting of equal-rank shapes (a dimension of 1 stretches).
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) = 0;
  // y = x summed over the dimensions where y has size 1 and x does not (equal ranks).
  virtual void sum_to(const Tensor& x, Tensor& y) = 0;
  // y (one element) = sum of all of x.
  virtual void sum_all(const Tensor& x, Tensor& y) = 0;
  // dst[dst_start + i] = src[src_start + i] for i in the box `extent` (equal ranks).
  virtual void copy_window(const Tensor& src, const std::vector<int64_t>& src_start, Tensor& dst,
                           const std::vector<int64_t>& dst_start, const std::vector<int64_t>& extent) = 0;

  // ---- convolution: x (N, Cin, D, H, W), w (Cout, Cin, kD, kH, kW), b (Cout) or undefined
  virtual void conv_forward(const ConvParams& p, const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) = 0;
  virtual void conv_backward_data(const ConvParams& p, const Tensor& gy, const Tensor& w, Tensor& gx) = 0;
  // gw and gb (if defined) are overwritten with the gradient summed over the batch.
  virtual void conv_backward_filter(const ConvParams& p, const Tensor& x, const Tensor& gy, Tensor& gw,
                                    Tensor& gb) = 0;

  // ---- pooling: indices (i32, shape of y) hold the flat (D, H, W) argmax of max pooling
  virtual void pool_forward(PoolMode mode, const PoolParams& p, const Tensor& x, Tensor& y, Tensor& indices) = 0;
  virtual void pool_backward(PoolMode mode, const PoolParams& p, const Tensor& gy, const Tensor& indices,
                             Tensor& gx) = 0;

  // ---- 2-D upsampling, x (N, C, H, W) -> y (N, C, Ho, Wo)
  virtual void upsample_forward(UpsampleMode mode, const Tensor& x, Tensor& y) = 0;
  virtual void upsample_backward(UpsampleMode mode, const Tensor& gy, Tensor& gx) = 0;

  // ---- batch normalisation over (N, D, H, W) per channel. Training: normalises with the batch
  // statistics, saves mean and 1/sqrt(var + eps) (C) and updates the running statistics (unbiased
  // variance). Evaluation: uses the running statistics; save_* are left alone.
  virtual void batch_norm_forward(const BatchNormParams& p, bool training, const Tensor& x, const Tensor& gamma,
                                  const Tensor& beta, Tensor& running_mean, Tensor& running_var, Tensor& y,
                                  Tensor& save_mean, Tensor& save_invstd) = 0;
  // Training-mode backward; gamma_grad and beta_grad (C) are overwritten.
  virtual void batch_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean,
                                   const Tensor& save_invstd, const Tensor& gy, Tensor& gx, Tensor& gamma_grad,
                                   Tensor& beta_grad) = 0;

  // ---- softmax / log-softmax over dimension 1 of (N, C, ...)
  virtual void softmax_forward(bool log, const Tensor& x, Tensor& y) = 0;
  virtual void softmax_backward(bool log, const Tensor& y, const Tensor& gy, Tensor& gx) = 0;

  // ---- losses. weight (f32/f64) and mask (u8, 0 = ignore) are undefined or have the shape of x,
  // or (N, 1, ...) to apply to every channel. sum and count are one-element tensors: the weighted
  // loss over the counted elements, and how many were counted.
  virtual void pointwise_loss_forward(PointwiseLoss kind, const Tensor& x, const Tensor& target,
                                      const Tensor& weight, const Tensor& mask, Tensor& sum, Tensor& count) = 0;
  // gx = g_sum * d(sum)/dx, g_sum a one-element tensor.
  virtual void pointwise_loss_backward(PointwiseLoss kind, const Tensor& x, const Tensor& target,
                                       const Tensor& weight, const Tensor& mask, const Tensor& g_sum, Tensor& gx) = 0;
  // x logits (N, K, ...), labels i32 (N, 1, ...); class_weight (K) optional; pixels labelled
  // ignore_label or masked are not counted.
  virtual void softmax_cross_entropy_forward(const Tensor& x, const Tensor& labels, const Tensor& class_weight,
                                             const Tensor& weight, const Tensor& mask, int ignore_label,
                                             Tensor& sum, Tensor& count) = 0;
  virtual void softmax_cross_entropy_backward(const Tensor& x, const Tensor& labels, const Tensor& class_weight,
                                              const Tensor& weight, const Tensor& mask, int ignore_label,
                                              const Tensor& g_sum, Tensor& gx) = 0;

  // ---- optimizers, updating param and state in place. step counts from 1.
  virtual void sgd_step(const SgdParams& p, Tensor& param, const Tensor& grad, Tensor& momentum) = 0;
  virtual void adam_step(const AdamParams& p, int64_t step, Tensor& param, const Tensor& grad, Tensor& m,
                         Tensor& v) = 0;
};

// The backend that owns `device`. Throws InputError when no backend for that kind is built or the
// device does not exist.
Backend& backend(Device device);
// Called once per kind, by the backend's own translation unit.
void register_backend(DeviceKind kind, Backend* backend);

}  // namespace uniem
