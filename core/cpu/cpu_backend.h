// The CPU backend: Eigen for the matrix products, uniem's thread pool (core/threads.h) for the
// rest. One .cpp per op family (memory, elementwise, conv, pool, normalization, loss, optim), each
// defining its share of CpuBackend's member functions.
//
// Thread-count independence: every reduction splits its work into chunks whose boundaries depend
// on the sizes only, and adds the chunk results in chunk order.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/backend.h"
#include "core/error.h"
#include "core/kernel_math.h"

namespace uniem {

Backend& cpu_backend();

class CpuBackend final : public Backend {
 public:
  std::shared_ptr<Storage> allocate(size_t bytes, Device device) override;
  void copy_to_host(const Tensor& src, void* dst) override;
  void copy_from_host(const void* src, Tensor& dst) override;
  void copy(const Tensor& src, Tensor& dst) override;
  void cast(const Tensor& src, Tensor& dst) override;
  void fill(Tensor& t, double value) override;
  size_t live_bytes() const override { return live_.load(); }
  // The most memory held at once: live tensors and kept scratch, plus freed blocks kept for reuse
  // (memory.cpp's cache), which the process holds as well.
  size_t peak_bytes() const override;
  void reset_peak_bytes() override;
  void add_live_bytes(size_t bytes);  // memory held outside tensors (the kernels' kept scratch)
  void random_uniform(Tensor& t, RandomStream s, double low, double high) override;
  void random_normal(Tensor& t, RandomStream s, double mean, double stddev) override;
  void random_bernoulli(Tensor& t, RandomStream s, double p) override;

  void unary(UnaryOp op, UnaryArgs args, const Tensor& x, Tensor& y) override;
  void unary_backward(UnaryOp op, UnaryArgs args, const Tensor& x, const Tensor& y, const Tensor& gy,
                      Tensor& gx) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) override;
  void sum_to(const Tensor& x, Tensor& y) override;
  void sum_all(const Tensor& x, Tensor& y) override;
  void copy_window(const Tensor& src, const std::vector<int64_t>& src_start, Tensor& dst,
                   const std::vector<int64_t>& dst_start, const std::vector<int64_t>& extent) override;

  void conv_forward(const ConvParams& p, const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) override;
  void conv_backward_data(const ConvParams& p, const Tensor& gy, const Tensor& w, Tensor& gx) override;
  void conv_backward_filter(const ConvParams& p, const Tensor& x, const Tensor& gy, Tensor& gw,
                            Tensor& gb) override;

  void pool_forward(PoolMode mode, const PoolParams& p, const Tensor& x, Tensor& y, Tensor& indices) override;
  void pool_backward(PoolMode mode, const PoolParams& p, const Tensor& gy, const Tensor& indices,
                     Tensor& gx) override;
  void upsample_forward(UpsampleMode mode, const Tensor& x, Tensor& y) override;
  void upsample_backward(UpsampleMode mode, const Tensor& gy, Tensor& gx) override;

  void batch_norm_forward(const BatchNormParams& p, bool training, const Tensor& x, const Tensor& gamma,
                          const Tensor& beta, Tensor& running_mean, Tensor& running_var, Tensor& y,
                          Tensor& save_mean, Tensor& save_invstd) override;
  void batch_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd,
                           const Tensor& gy, Tensor& gx, Tensor& gamma_grad, Tensor& beta_grad) override;
  void softmax_forward(bool log, const Tensor& x, Tensor& y) override;
  void softmax_backward(bool log, const Tensor& y, const Tensor& gy, Tensor& gx) override;

  void pointwise_loss_forward(PointwiseLoss kind, const Tensor& x, const Tensor& target, const Tensor& weight,
                              const Tensor& mask, Tensor& sum, Tensor& count) override;
  void pointwise_loss_backward(PointwiseLoss kind, const Tensor& x, const Tensor& target, const Tensor& weight,
                               const Tensor& mask, const Tensor& g_sum, Tensor& gx) override;
  void softmax_cross_entropy_forward(const Tensor& x, const Tensor& labels, const Tensor& class_weight,
                                     const Tensor& weight, const Tensor& mask, int ignore_label, Tensor& sum,
                                     Tensor& count) override;
  void softmax_cross_entropy_backward(const Tensor& x, const Tensor& labels, const Tensor& class_weight,
                                      const Tensor& weight, const Tensor& mask, int ignore_label,
                                      const Tensor& g_sum, Tensor& gx) override;

  void sgd_step(const SgdParams& p, Tensor& param, const Tensor& grad, Tensor& momentum) override;
  void adam_step(const AdamParams& p, int64_t step, Tensor& param, const Tensor& grad, Tensor& m,
                 Tensor& v) override;

 private:
  std::atomic<size_t> live_{0}, peak_{0};  // rounded allocation sizes
};

namespace cpu {

// The shared dispatch and pixel index (core/kernel_math.h).
using kernel::dispatch_any;
using kernel::dispatch_float;
using kernel::pixel_index;
using kernel::PixelIndex;

}  // namespace cpu
}  // namespace uniem
