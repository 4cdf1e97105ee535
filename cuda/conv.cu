// Convolutions through cuDNN: forward, backward data (also the transposed convolution's forward)
// and backward filter, 2-D (4-D descriptors, when D is 1 everywhere) or 3-D.
//
// Each distinct call (direction, shapes, parameters, dtype, precision) gets a plan: its cuDNN
// descriptors and the algorithm cudnnFind* measured fastest among the deterministic ones whose
// workspace fits CudaBackend::workspace_limit. Plans are kept for the life of the process, so a
// training loop pays for the search once per layer shape. The bias is added by the backend's
// broadcasting add; its gradient is a per-channel sum done by our own kernel (fixed order, like
// every reduction here).
//
// bf16 precision (float32 tensors only) is autocast for the convolutions: the operands are rounded
// to bfloat16, cuDNN multiplies them on the tensor cores and accumulates in fp32, and the result is
// widened back to fp32, where the bias is added; every other op stays in fp32, as under PyTorch's
// autocast. bfloat16 keeps fp32's range, so no loss scaling is needed.
#include <cuda_bf16.h>

#include <memory>
#include <string>

#include "cuda/cast.cuh"
#include "cuda/check.h"
#include "cuda/conv_graph.h"
#include "cuda/cuda_backend.h"
#include "cuda/reduce.cuh"

namespace uniem::cuda {
namespace {

enum class Direction { forward, backward_data, backward_filter };

struct Plan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  int algorithm = 0;
  size_t workspace = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
  }
};

std::mutex plans_mutex;
std::map<std::string, std::unique_ptr<Plan>>& plans() {
  static auto* p = new std::map<std::string, std::unique_ptr<Plan>>;
  return *p;
}

// 2-D when the depth axis plays no part; cuDNN picks better kernels for 4-D descriptors.
bool is_2d(const ConvParams& p, const Shape& x, const Shape& w, const Shape& y) {
  return x[2] == 1 && w[2] == 1 && y[2] == 1 && p.stride[0] == 1 && p.padding[0] == 0 && p.dilation[0] == 1;
}

void set_tensor(cudnnTensorDescriptor_t d, cudnnDataType_t type, const std::vector<int>& dims) {
  std::vector<int> strides(dims.size());
  int s = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    strides[i] = s;
    s *= dims[i];
  }
  UNIEM_CUDA_CHECK(cudnnSetTensorNdDescriptor(d, type, static_cast<int>(dims.size()), dims.data(), strides.data()));
}

std::vector<int> dims_of(const Shape& s, bool two_d) {
  std::vector<int> d;
  for (int i = 0; i < 5; ++i)
    if (!(two_d && i == 2)) d.push_back(static_cast<int>(s[i]));
  return d;
}

// Whether a convolution of float32 tensors runs in bfloat16 (see the top of this file).
bool in_bf16(ScalarType t) { return t == ScalarType::f32 && cuda_backend().precision() == Precision::bf16; }

// The fastest deterministic algorithm that fits the workspace limit (and, in fp32, uses no tensor
// cores); cudnnFind* lists them fastest first.
template <typename Perf>
int choose(const Perf* perf, int returned, const char* what, Plan& plan) {
  const bool fp32 = cuda_backend().precision() == Precision::fp32;
  for (int i = 0; i < returned; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].determinism != CUDNN_DETERMINISTIC) continue;
    if (perf[i].memory > cuda_backend().workspace_limit()) continue;
    if (fp32 && perf[i].mathType != CUDNN_FMA_MATH && perf[i].mathType != CUDNN_DEFAULT_MATH) continue;
    plan.workspace = perf[i].memory;
    plan.math = fp32 ? CUDNN_FMA_MATH : perf[i].mathType;
    UNIEM_CUDA_CHECK(cudnnSetConvolutionMathType(plan.conv, plan.math));
    return static_cast<int>(perf[i].algo);
  }
  throw CudaError(std::string("cuDNN has no deterministic ") + what + " algorithm for this convolution");
}

// What makes two calls the same convolution: direction, shapes, parameters, dtype, precision.
std::string plan_key(Direction dir, const ConvParams& p, const Shape& x, const Shape& w, const Shape& y, ScalarType t) {
  std::string key = std::to_string(static_cast<int>(dir)) + (t == ScalarType::f64 ? "d" : "f") +
                    precision_name(cuda_backend().precision()) + x.str() + w.str() + y.str();
  for (int i = 0; i < 3; ++i)
    key += "," + std::to_string(p.stride[i]) + "," + std::to_string(p.padding[i]) + "," + std::to_string(p.dilation[i]);
  return key;
}

// The plan for one call; x, w, y are the convolution's input, filter and output shapes (5-D).
Plan& plan_for(Direction dir, const ConvParams& p, const Shape& x, const Shape& w, const Shape& y, ScalarType t) {
  CudaBackend& be = cuda_backend();
  const std::string key = plan_key(dir, p, x, w, y, t);
  std::lock_guard lock(plans_mutex);
  auto& slot = plans()[key];
  if (slot) return *slot;

  auto plan = std::make_unique<Plan>();
  const bool two_d = is_2d(p, x, w, y), bf16 = in_bf16(t);
  // The operands' type, and the type cuDNN computes in (fp32 for bf16 operands).
  const cudnnDataType_t compute = t == ScalarType::f64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
  const cudnnDataType_t type = bf16 ? CUDNN_DATA_BFLOAT16 : compute;
  UNIEM_CUDA_CHECK(cudnnCreateTensorDescriptor(&plan->x));
  UNIEM_CUDA_CHECK(cudnnCreateTensorDescriptor(&plan->y));
  UNIEM_CUDA_CHECK(cudnnCreateFilterDescriptor(&plan->w));
  UNIEM_CUDA_CHECK(cudnnCreateConvolutionDescriptor(&plan->conv));
  set_tensor(plan->x, type, dims_of(x, two_d));
  set_tensor(plan->y, type, dims_of(y, two_d));
  const std::vector<int> wd = dims_of(w, two_d);
  UNIEM_CUDA_CHECK(cudnnSetFilterNdDescriptor(plan->w, type, CUDNN_TENSOR_NCHW, static_cast<int>(wd.size()), wd.data()));
  std::vector<int> pad, stride, dilation;
  for (int i = two_d ? 1 : 0; i < 3; ++i) {
    pad.push_back(p.padding[i]);
    stride.push_back(p.stride[i]);
    dilation.push_back(p.dilation[i]);
  }
  UNIEM_CUDA_CHECK(cudnnSetConvolutionNdDescriptor(plan->conv, static_cast<int>(pad.size()), pad.data(), stride.data(),
                                                   dilation.data(), CUDNN_CROSS_CORRELATION, compute));
  UNIEM_CUDA_CHECK(cudnnSetConvolutionMathType(
      plan->conv, be.precision() == Precision::fp32 ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH));

  int returned = 0;
  if (dir == Direction::forward) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    UNIEM_CUDA_CHECK(cudnnFindConvolutionForwardAlgorithm(be.dnn(), plan->x, plan->w, plan->conv, plan->y,
                                                          CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf));
    plan->algorithm = choose(perf, returned, "forward", *plan);
  } else if (dir == Direction::backward_data) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    UNIEM_CUDA_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(be.dnn(), plan->w, plan->y, plan->conv, plan->x,
                                                               CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &returned, perf));
    plan->algorithm = choose(perf, returned, "backward-data", *plan);
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    UNIEM_CUDA_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(be.dnn(), plan->x, plan->y, plan->conv, plan->w,
                                                                 CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &returned,
                                                                 perf));
    plan->algorithm = choose(perf, returned, "backward-filter", *plan);
  }
  be.algorithms()[key] = plan->algorithm;
  slot = std::move(plan);
  return *slot;
}

// The graph API's plan for this call (conv_graph.h), or null: the graph API is not chosen, or
// cuDNN has no plan for the call (said once on stderr); then the legacy API computes it.
// `operands` are the device buffers of x, w and y (the bf16 copies in bf16).
const GraphConv* graph_plan(Direction dir, const ConvParams& p, const Shape& x, const Shape& w, const Shape& y,
                            ScalarType t, void* const operands[3]) {
  if (!graph_api_chosen()) return nullptr;
  CudaBackend& be = cuda_backend();
  uintptr_t bits = 0;
  for (int i = 0; i < 3; ++i) bits |= reinterpret_cast<uintptr_t>(operands[i]);
  int64_t alignment = 16;
  while (alignment > 1 && bits % static_cast<uintptr_t>(alignment) != 0) alignment /= 2;
  const std::string key = plan_key(dir, p, x, w, y, t) + "a" + std::to_string(alignment);
  std::lock_guard lock(plans_mutex);
  static auto* graphs = new std::map<std::string, std::unique_ptr<GraphConv>>;
  if (auto found = graphs->find(key); found != graphs->end()) return found->second.get();

  GraphConv::Settings s;
  s.direction = dir == Direction::forward         ? GraphDirection::forward
                : dir == Direction::backward_data ? GraphDirection::backward_data
                                                  : GraphDirection::backward_filter;
  const bool two_d = is_2d(p, x, w, y);
  s.shapes.dims = two_d ? 4 : 5;
  for (int i = 0; i < 5; ++i) {
    s.shapes.x[i] = x[i];
    s.shapes.w[i] = w[i];
    s.shapes.y[i] = y[i];
  }
  int k = 0;
  for (int i = two_d ? 1 : 0; i < 3; ++i, ++k) {
    s.stride[k] = p.stride[i];
    s.padding[k] = p.padding[i];
    s.dilation[k] = p.dilation[i];
  }
  s.compute = t == ScalarType::f64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
  s.data = in_bf16(t) ? CUDNN_DATA_BFLOAT16 : s.compute;
  s.tensor_cores = be.precision() != Precision::fp32;
  s.alignment = alignment;
  s.workspace_limit = be.workspace_limit();
  std::string why;
  std::unique_ptr<GraphConv> built = GraphConv::build(s, operands, why);
  static bool said = false;
  if (!built && !said) {
    std::fprintf(stderr, "note: cuDNN's graph API has no plan for a convolution (%s); the legacy API computes it\n",
                 why.c_str());
    said = true;
  }
  auto& slot = (*graphs)[key];
  slot = std::move(built);
  if (slot) be.algorithms()[key] = -1;  // listed with the legacy ones; -1: a graph-API plan
  return slot.get();
}

// alpha = 1 and beta = 0 or 1 in the data type cuDNN expects for the tensor type.
struct Scalars {
  float f[2] = {0.f, 1.f};
  double d[2] = {0.0, 1.0};
  const void* zero(ScalarType t) const { return t == ScalarType::f64 ? static_cast<const void*>(&d[0]) : &f[0]; }
  const void* one(ScalarType t) const { return t == ScalarType::f64 ? static_cast<const void*>(&d[1]) : &f[1]; }
};
const Scalars scalars;

// A bfloat16 copy of a float32 tensor (round to nearest even), in memory from the caching allocator.
std::shared_ptr<Storage> narrowed(const Tensor& t) {
  CudaBackend& be = cuda_backend();
  auto s = be.allocate(static_cast<size_t>(t.numel()) * sizeof(__nv_bfloat16), t.device());
  cast_kernel<float, __nv_bfloat16><<<blocks_for(t.numel()), threads_per_block, 0, be.stream()>>>(
      ptr<float>(t), static_cast<__nv_bfloat16*>(s->data.get()), t.numel());
  check_launch("narrow to bf16");
  return s;
}

// Scratch for a bfloat16 result the size of `t`.
std::shared_ptr<Storage> bf16_like(const Tensor& t) {
  return cuda_backend().allocate(static_cast<size_t>(t.numel()) * sizeof(__nv_bfloat16), t.device());
}

void widen(const std::shared_ptr<Storage>& s, Tensor& t) {
  cast_kernel<__nv_bfloat16, float><<<blocks_for(t.numel()), threads_per_block, 0, cuda_backend().stream()>>>(
      static_cast<const __nv_bfloat16*>(s->data.get()), ptr<float>(t), t.numel());
  check_launch("widen from bf16");
}

// The device memory a convolution reads for `t`: its own, or its bfloat16 copy in `keep`.
void* operand(const Tensor& t, bool bf16, std::shared_ptr<Storage>& keep) {
  if (!bf16) return const_cast<void*>(t.raw_data());
  keep = narrowed(t);
  return keep->data.get();
}

// gb[c] = sum over n and the spatial positions of gy[n, c, ...]: one block per channel.
template <typename T>
__global__ void channel_sum_kernel(const T* gy, T* gb, int64_t n, int64_t c, int64_t inner) {
  const int64_t ch = blockIdx.x;
  double acc = 0;
  for (int64_t s = 0; s < n; ++s) {
    const T* row = gy + (s * c + ch) * inner;
    for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) acc += static_cast<double>(row[i]);
  }
  const SumPair total = block_sum({acc, 0});
  if (threadIdx.x == 0) gb[ch] = static_cast<T>(total.sum);
}

}  // namespace

void CudaBackend::conv_forward(const ConvParams& p, const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
  const OpTimer timer(*this, "conv_forward");
  const ScalarType t = x.dtype();
  const bool bf16 = in_bf16(t);
  std::shared_ptr<Storage> x16, w16, y16 = bf16 ? bf16_like(y) : nullptr;
  void* const operands[3] = {operand(x, bf16, x16), operand(w, bf16, w16), bf16 ? y16->data.get() : y.raw_data()};
  if (const GraphConv* g = graph_plan(Direction::forward, p, x.shape(), w.shape(), y.shape(), t, operands)) {
    g->run(operands);
  } else {
    Plan& plan = plan_for(Direction::forward, p, x.shape(), w.shape(), y.shape(), t);
    UNIEM_CUDA_CHECK(cudnnConvolutionForward(dnn_, scalars.one(t), plan.x, operands[0], plan.w, operands[1],
                                             plan.conv, static_cast<cudnnConvolutionFwdAlgo_t>(plan.algorithm),
                                             workspace(plan.workspace), plan.workspace, scalars.zero(t), plan.y,
                                             operands[2]));
  }
  if (bf16) widen(y16, y);
  // The bias, in y's type (fp32 under bf16), by the per-channel broadcasting add.
  if (b.defined()) binary(BinaryOp::add, y, b.reshape({1, b.numel(), 1, 1, 1}), y);
}

void CudaBackend::conv_backward_data(const ConvParams& p, const Tensor& gy, const Tensor& w, Tensor& gx) {
  const OpTimer timer(*this, "conv_backward_data");
  const ScalarType t = gy.dtype();
  const bool bf16 = in_bf16(t);
  std::shared_ptr<Storage> w16, gy16, gx16 = bf16 ? bf16_like(gx) : nullptr;
  void* const operands[3] = {bf16 ? gx16->data.get() : gx.raw_data(), operand(w, bf16, w16), operand(gy, bf16, gy16)};
  if (const GraphConv* g = graph_plan(Direction::backward_data, p, gx.shape(), w.shape(), gy.shape(), t, operands)) {
    g->run(operands);
  } else {
    Plan& plan = plan_for(Direction::backward_data, p, gx.shape(), w.shape(), gy.shape(), t);
    UNIEM_CUDA_CHECK(cudnnConvolutionBackwardData(dnn_, scalars.one(t), plan.w, operands[1], plan.y, operands[2],
                                                  plan.conv, static_cast<cudnnConvolutionBwdDataAlgo_t>(plan.algorithm),
                                                  workspace(plan.workspace), plan.workspace, scalars.zero(t), plan.x,
                                                  operands[0]));
  }
  if (bf16) widen(gx16, gx);
}

void CudaBackend::conv_backward_filter(const ConvParams& p, const Tensor& x, const Tensor& gy, Tensor& gw,
                                       Tensor& gb) {
  const OpTimer timer(*this, "conv_backward_filter");
  const ScalarType t = x.dtype();
  const bool bf16 = in_bf16(t);
  std::shared_ptr<Storage> x16, gy16, gw16 = bf16 ? bf16_like(gw) : nullptr;
  void* const operands[3] = {operand(x, bf16, x16), bf16 ? gw16->data.get() : gw.raw_data(), operand(gy, bf16, gy16)};
  if (const GraphConv* g = graph_plan(Direction::backward_filter, p, x.shape(), gw.shape(), gy.shape(), t, operands)) {
    g->run(operands);
  } else {
    Plan& plan = plan_for(Direction::backward_filter, p, x.shape(), gw.shape(), gy.shape(), t);
    UNIEM_CUDA_CHECK(cudnnConvolutionBackwardFilter(
        dnn_, scalars.one(t), plan.x, operands[0], plan.y, operands[2], plan.conv,
        static_cast<cudnnConvolutionBwdFilterAlgo_t>(plan.algorithm), workspace(plan.workspace), plan.workspace,
        scalars.zero(t), plan.w, operands[1]));
  }
  if (bf16) widen(gw16, gw);
  if (!gb.defined()) return;
  dispatch_float(gy.dtype(), [&](auto z) {
    using T = decltype(z);
    const int64_t n = gy.size(0), c = gy.size(1), inner = gy.numel() / std::max<int64_t>(n * c, 1);
    channel_sum_kernel<T><<<static_cast<unsigned>(c), threads_per_block, 0, stream_>>>(ptr<T>(gy), ptr<T>(gb), n, c,
                                                                                       inner);
  });
  check_launch("channel_sum");
}

}  // namespace uniem::cuda
