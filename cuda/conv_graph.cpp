// cuDNN graph-API convolutions (conv_graph.h): descriptors, heuristics, filtering, timing.
#include "cuda/conv_graph.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"

namespace uniem::cuda {

bool graph_api_chosen() {
  static const bool chosen = [] {
    const char* v = std::getenv("UNIEM_CUDNN_API");
    return v && std::strcmp(v, "graph") == 0;
  }();
  return chosen;
}

namespace {

// One backend descriptor, destroyed with its owner.
class Descriptor {
 public:
  explicit Descriptor(cudnnBackendDescriptorType_t type) { UNIEM_CUDA_CHECK(cudnnBackendCreateDescriptor(type, &d_)); }
  Descriptor(Descriptor&& other) noexcept : d_(std::exchange(other.d_, nullptr)) {}
  Descriptor& operator=(Descriptor&&) = delete;
  Descriptor(const Descriptor&) = delete;
  ~Descriptor() {
    if (d_) cudnnBackendDestroyDescriptor(d_);
  }
  cudnnBackendDescriptor_t get() const { return d_; }
  cudnnBackendDescriptor_t release() { return std::exchange(d_, nullptr); }

  template <typename T>
  void set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, const T* values, int64_t count = 1) {
    UNIEM_CUDA_CHECK(cudnnBackendSetAttribute(d_, name, type, count, values));
  }
  void set(cudnnBackendAttributeName_t name, const Descriptor& value) {
    const cudnnBackendDescriptor_t raw = value.get();
    set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, &raw);
  }
  void finalize() { UNIEM_CUDA_CHECK(cudnnBackendFinalize(d_)); }

 private:
  cudnnBackendDescriptor_t d_ = nullptr;
};

// A packed (N, C, [D,] H, W) tensor; 4-D drops the depth axis.
Descriptor tensor(int64_t uid, const std::array<int64_t, 5>& shape, int dims, cudnnDataType_t type, int64_t alignment) {
  std::vector<int64_t> size;
  for (int i = 0; i < 5; ++i)
    if (!(dims == 4 && i == 2)) size.push_back(shape[i]);
  std::vector<int64_t> stride(size.size());
  int64_t s = 1;
  for (size_t i = size.size(); i-- > 0;) {
    stride[i] = s;
    s *= size[i];
  }
  Descriptor t(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
  t.set(CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, &type);
  t.set(CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, size.data(), static_cast<int64_t>(size.size()));
  t.set(CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, stride.data(), static_cast<int64_t>(stride.size()));
  t.set(CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, &uid);
  t.set(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, &alignment);
  t.finalize();
  return t;
}

// The attribute names of one direction's operation: x, w, y, convolution, alpha, beta.
struct OperationNames {
  cudnnBackendDescriptorType_t type;
  cudnnBackendAttributeName_t x, w, y, conv, alpha, beta;
};
OperationNames names_for(GraphDirection d) {
  switch (d) {
    case GraphDirection::forward:
      return {CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X,
              CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y,
              CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA,
              CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA};
    case GraphDirection::backward_data:
      return {CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX,
              CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY,
              CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA,
              CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA};
    case GraphDirection::backward_filter:
      break;
  }
  return {CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X,
          CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY,
          CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA,
          CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA};
}

// Whether an engine configuration may be used: deterministic, no run-time compilation, and in
// fp32 no tensor cores (which would round the operands to TF32).
bool allowed(cudnnBackendDescriptor_t config, bool tensor_cores) {
  Descriptor engine(CUDNN_BACKEND_ENGINE_DESCRIPTOR);
  cudnnBackendDescriptor_t raw = engine.get();
  int64_t n = 0;
  if (cudnnBackendGetAttribute(config, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n, &raw) !=
      CUDNN_STATUS_SUCCESS)
    return false;
  cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
  n = 0;
  if (cudnnBackendGetAttribute(raw, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                               CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &n, notes) != CUDNN_STATUS_SUCCESS)
    return false;
  for (int64_t i = 0; i < n; ++i) {
    if (notes[i] == CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC) return false;
    if (!tensor_cores && (notes[i] == CUDNN_NUMERICAL_NOTE_TENSOR_CORE ||
                          notes[i] == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS ||
                          notes[i] == CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION))
      return false;
  }
  cudnnBackendBehaviorNote_t behaviour[CUDNN_BEHAVIOR_NOTE_TYPE_COUNT];
  n = 0;
  if (cudnnBackendGetAttribute(raw, CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE,
                               CUDNN_BEHAVIOR_NOTE_TYPE_COUNT, &n, behaviour) != CUDNN_STATUS_SUCCESS)
    return false;
  for (int64_t i = 0; i < n; ++i)
    if (behaviour[i] == CUDNN_BEHAVIOR_NOTE_RUNTIME_COMPILATION) return false;
  return true;
}

cudnnStatus_t execute(cudnnBackendDescriptor_t plan, void* const pointers[3], void* workspace) {
  Descriptor pack(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
  const int64_t uids[3] = {1, 2, 3};
  void* data[3] = {pointers[0], pointers[1], pointers[2]};
  pack.set(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, uids, 3);
  pack.set(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, data, 3);
  pack.set(CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, &workspace);
  pack.finalize();
  return cudnnBackendExecute(cuda_backend().dnn(), plan, pack.get());
}

// The convolution as one operation of cuDNN's graph, with the descriptors it refers to. Needs no
// GPU: cuDNN checks the shapes, types and parameters when each is finalized.
struct Operation {
  Descriptor x, w, y, conv, op;
};
Operation describe(const GraphConv::Settings& s) {
  const int64_t spatial = s.shapes.dims - 2;
  Operation o{tensor(1, s.shapes.x, s.shapes.dims, s.data, s.alignment),
              tensor(2, s.shapes.w, s.shapes.dims, s.data, s.alignment),
              tensor(3, s.shapes.y, s.shapes.dims, s.data, s.alignment),
              Descriptor(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR), Descriptor(names_for(s.direction).type)};
  const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  o.conv.set(CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, &s.compute);
  o.conv.set(CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, &mode);
  o.conv.set(CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, &spatial);
  o.conv.set(CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, s.dilation.data(), spatial);
  o.conv.set(CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, s.stride.data(), spatial);
  o.conv.set(CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, s.padding.data(), spatial);
  o.conv.set(CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, s.padding.data(), spatial);
  o.conv.finalize();
  const OperationNames names = names_for(s.direction);
  o.op.set(names.x, o.x);
  o.op.set(names.w, o.w);
  o.op.set(names.y, o.y);
  o.op.set(names.conv, o.conv);
  if (s.compute == CUDNN_DATA_DOUBLE) {
    const double alpha = 1, beta = 0;
    o.op.set(names.alpha, CUDNN_TYPE_DOUBLE, &alpha);
    o.op.set(names.beta, CUDNN_TYPE_DOUBLE, &beta);
  } else {
    const float alpha = 1, beta = 0;
    o.op.set(names.alpha, CUDNN_TYPE_FLOAT, &alpha);
    o.op.set(names.beta, CUDNN_TYPE_FLOAT, &beta);
  }
  o.op.finalize();
  return o;
}

struct Candidate {
  Descriptor plan;
  size_t workspace = 0;
  float ms = 0;
};

}  // namespace

std::unique_ptr<GraphConv> GraphConv::build(const Settings& s, void* const pointers[3], std::string& why) {
  CudaBackend& be = cuda_backend();
  cudnnHandle_t handle = be.dnn();
  try {
    Operation o = describe(s);
    Descriptor graph(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
    graph.set(CUDNN_ATTR_OPERATIONGRAPH_OPS, o.op);
    graph.set(CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, &handle);
    graph.finalize();

    Descriptor heuristics(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
    const cudnnBackendHeurMode_t heur_mode = CUDNN_HEUR_MODE_A;
    heuristics.set(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, graph);
    heuristics.set(CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, &heur_mode);
    heuristics.finalize();
    int64_t count = 0;
    UNIEM_CUDA_CHECK(cudnnBackendGetAttribute(heuristics.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                              CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr));
    std::vector<Descriptor> configs;
    std::vector<cudnnBackendDescriptor_t> raw;
    for (int64_t i = 0; i < count; ++i) {
      configs.emplace_back(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
      raw.push_back(configs.back().get());
    }
    int64_t returned = 0;
    if (count > 0)
      UNIEM_CUDA_CHECK(cudnnBackendGetAttribute(heuristics.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                                CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &returned, raw.data()));

    // The first eight allowed configurations that make a plan within the workspace limit, best first.
    std::vector<Candidate> candidates;
    for (int64_t i = 0; i < returned && candidates.size() < 8; ++i) {
      if (!allowed(raw[static_cast<size_t>(i)], s.tensor_cores)) continue;
      Descriptor plan(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
      const cudnnBackendDescriptor_t config = raw[static_cast<size_t>(i)];
      if (cudnnBackendSetAttribute(plan.get(), CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle) !=
              CUDNN_STATUS_SUCCESS ||
          cudnnBackendSetAttribute(plan.get(), CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                   1, &config) != CUDNN_STATUS_SUCCESS ||
          cudnnBackendFinalize(plan.get()) != CUDNN_STATUS_SUCCESS)
        continue;
      int64_t bytes = 0, n = 0;
      if (cudnnBackendGetAttribute(plan.get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &n,
                                   &bytes) != CUDNN_STATUS_SUCCESS ||
          bytes < 0 || static_cast<size_t>(bytes) > s.workspace_limit)
        continue;
      candidates.push_back({std::move(plan), static_cast<size_t>(bytes), 0.f});
    }
    if (candidates.empty()) {
      why = std::to_string(returned) + " engine configurations proposed, none deterministic" +
            (s.tensor_cores ? "" : " without tensor cores") + " that builds within the workspace limit";
      return nullptr;
    }

    // Time each on the call's data: one warm-up run, then two.
    cudaEvent_t begin = nullptr, end = nullptr;
    UNIEM_CUDA_CHECK(cudaEventCreate(&begin));
    UNIEM_CUDA_CHECK(cudaEventCreate(&end));
    size_t best = candidates.size();
    for (size_t i = 0; i < candidates.size(); ++i) {
      Candidate& c = candidates[i];
      void* workspace = be.workspace(c.workspace);
      if (execute(c.plan.get(), pointers, workspace) != CUDNN_STATUS_SUCCESS) continue;
      UNIEM_CUDA_CHECK(cudaEventRecord(begin, be.stream()));
      const bool ran = execute(c.plan.get(), pointers, workspace) == CUDNN_STATUS_SUCCESS &&
                       execute(c.plan.get(), pointers, workspace) == CUDNN_STATUS_SUCCESS;
      UNIEM_CUDA_CHECK(cudaEventRecord(end, be.stream()));
      UNIEM_CUDA_CHECK(cudaEventSynchronize(end));
      if (!ran) continue;
      UNIEM_CUDA_CHECK(cudaEventElapsedTime(&c.ms, begin, end));
      if (best == candidates.size() || c.ms < candidates[best].ms) best = i;
    }
    cudaEventDestroy(begin);
    cudaEventDestroy(end);
    if (best == candidates.size()) {
      why = std::to_string(candidates.size()) + " plans built, none ran";
      return nullptr;
    }
    std::unique_ptr<GraphConv> chosen(new GraphConv);
    chosen->workspace_ = candidates[best].workspace;
    chosen->plan_ = candidates[best].plan.release();
    // What the plan was made from lives as long as it does (cuDNN does not say it may go first).
    for (Descriptor* d : {&o.x, &o.w, &o.y, &o.conv, &o.op, &graph}) chosen->sources_.push_back(d->release());
    for (Descriptor& c : configs) chosen->sources_.push_back(c.release());
    return chosen;
  } catch (const CudaError& e) {
    why = e.what();
    return nullptr;
  }
}

std::string GraphConv::check(const Settings& s) {
  try {
    describe(s);
    return "";
  } catch (const CudaError& e) {
    return e.what();
  }
}

GraphConv::~GraphConv() {
  if (plan_) cudnnBackendDestroyDescriptor(plan_);
  for (cudnnBackendDescriptor_t d : sources_) cudnnBackendDestroyDescriptor(d);
}

void GraphConv::run(void* const pointers[3]) const {
  UNIEM_CUDA_CHECK(execute(plan_, pointers, cuda_backend().workspace(workspace_)));
}

}  // namespace uniem::cuda
