// The CUDA backend: the second implementation of core/backend.h, for NVIDIA GPUs.
//
// Contract:
// - One GPU per process: the first cuda:N a tensor is put on becomes this process's device; a
//   second index is refused with a clear message. Everything runs on one stream of that device, so
//   kernels, copies and the caching allocator's reuse of freed blocks are ordered without events.
// - Memory comes from a caching allocator: freed blocks go back to per-size free lists and are
//   reused; cudaMalloc is called only when no cached block fits, and after a failure the cache is
//   released and the allocation tried once more. release_cached() hands the cache back to the driver.
// - Host transfers go through a pinned staging buffer; copies to the host return when the data is there.
// - cuDNN does convolutions (algorithm found once per shape and cached, deterministic algorithms
//   only, workspace limited), through its legacy calls or, with UNIEM_CUDNN_API=graph, its graph
//   API (conv_graph.h); uniem's own kernels do the rest. Reductions use fixed block counts and
//   add partial results in a fixed order, so results do not vary from run to run.
// - Precision of the convolutions: fp32 (FMA math only), tf32 (tensor cores, the default on cards
//   that have them) or bf16 (operands rounded to bfloat16, fp32 accumulation and results: conv.cu).
//   Everything else computes in fp32 always.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "core/backend.h"
#include "core/error.h"
#include "core/kernel_math.h"

namespace uniem::cuda {

enum class Precision { fp32, tf32, bf16 };
const char* precision_name(Precision p);

class CudaBackend final : public Backend {
 public:
  std::shared_ptr<Storage> allocate(size_t bytes, Device device) override;
  void copy_to_host(const Tensor& src, void* dst) override;
  void copy_from_host(const void* src, Tensor& dst) override;
  void copy(const Tensor& src, Tensor& dst) override;
  void cast(const Tensor& src, Tensor& dst) override;
  void fill(Tensor& t, double value) override;
  size_t live_bytes() const override;
  size_t peak_bytes() const override;
  void reset_peak_bytes() override;
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

  // ---- CUDA specifics
  // Makes `device` this process's GPU (first call) or checks that it is; creates the stream and handles.
  void activate(Device device);
  int device_index() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  cudnnHandle_t dnn() const { return dnn_; }
  // Scratch memory for cuDNN, grown on demand, valid until the next call.
  void* workspace(size_t bytes);
  // A device buffer holding `bytes` copied from the host (for small per-call tables).
  std::shared_ptr<Storage> upload(const void* host, size_t bytes);
  void synchronize();
  size_t cached_bytes() const;
  void release_cached();
  Precision precision() const { return precision_; }
  void set_precision(Precision p) { precision_ = p; }
  // Convolution algorithms found so far, keyed by the call's shapes, for tests and the log.
  size_t cached_algorithms() const { return algorithms_.size(); }
  std::map<std::string, int>& algorithms() { return algorithms_; }
  // The most scratch memory a convolution algorithm may use: a quarter of the card's free memory
  // when the device was activated, at most 4 GiB.
  size_t workspace_limit() const { return workspace_limit_; }

  // Profiling (bench_cuda --profile, one thread): while on, every backend op records CUDA events
  // around its work on the stream (OpTimer); an op called by another counts in the caller's time.
  // take_profile() waits for the GPU, returns the GPU time and the number of calls per op since
  // the last take, most time first, and starts over.
  struct OpTime {
    std::string op;
    int64_t calls = 0;
    double ms = 0;
  };
  void set_profiling(bool on) { profiling_ = on; }
  std::vector<OpTime> take_profile();

 private:
  friend class OpTimer;
  struct Span {
    const char* op;
    cudaEvent_t begin, end;
  };
  void* raw_allocate(size_t rounded);
  void raw_free(void* p, size_t rounded);

  mutable std::mutex mutex_;
  int device_ = -1;
  cudaStream_t stream_ = nullptr;
  cudnnHandle_t dnn_ = nullptr;
  Precision precision_ = Precision::tf32;
  std::multimap<size_t, void*> free_;  // cached blocks by rounded size
  size_t live_ = 0, peak_ = 0, cached_ = 0;
  std::shared_ptr<Storage> workspace_;
  void* pinned_ = nullptr;
  size_t pinned_bytes_ = 0;
  std::map<std::string, int> algorithms_;
  size_t workspace_limit_ = size_t{1} << 30;
  bool profiling_ = false;
  bool timing_op_ = false;  // an OpTimer is running: ops it calls are not timed apart
  std::vector<Span> spans_;
};

// Times the enclosing backend op on the GPU while profiling is on; does nothing otherwise. The
// first statement of every CudaBackend op.
class OpTimer {
 public:
  OpTimer(CudaBackend& backend, const char* op);
  ~OpTimer();
  OpTimer(const OpTimer&) = delete;
  OpTimer& operator=(const OpTimer&) = delete;

 private:
  CudaBackend* backend_ = nullptr;  // null when not profiling
  const char* op_;
  cudaEvent_t begin_ = nullptr;
};

// The one CUDA backend (created on first use, never destroyed: tensors may outlive static objects).
CudaBackend& cuda_backend();
// Registers the CUDA backend with core's dispatch (core/backend.h); called by the programs that link it.
void install_backend();

// ---- kernel launch helpers, shared by the .cu files
constexpr int threads_per_block = 256;
inline unsigned blocks_for(int64_t n) {
  const int64_t b = (n + threads_per_block - 1) / threads_per_block;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(b, 1 << 20)));
}
// Checks the last kernel launch.
void check_launch(const char* kernel);

// The shared dispatch, pixel index and pooling geometry (core/kernel_math.h).
using kernel::dispatch_any;
using kernel::dispatch_float;
using kernel::pixel_index;
using kernel::PixelIndex;
using kernel::pool_geometry;
using kernel::PoolGeometry;

template <typename T>
T* ptr(Tensor& t) { return static_cast<T*>(t.raw_data()); }
template <typename T>
const T* ptr(const Tensor& t) { return static_cast<const T*>(t.raw_data()); }
template <typename T>
const T* ptr_or_null(const Tensor& t) { return t.defined() ? static_cast<const T*>(t.raw_data()) : nullptr; }

// Deterministic sums of (value, count) pairs over [0, n): fixed blocks, fixed combination order.
// Writes the two results, converted to T, to out_sum[0] and out_count[0] (device pointers; either
// may be null).
struct SumPair {
  double sum = 0, count = 0;
};

}  // namespace uniem::cuda
