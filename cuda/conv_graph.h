// Convolutions through cuDNN's graph (backend) API, beside conv.cu's legacy calls: one operation
// graph per call shape, cuDNN's heuristics (mode A) propose engine configurations, those allowed
// by the precision (no non-deterministic engine ever; no tensor cores in fp32; none that compile
// kernels at run time, which would need NVRTC) are built into execution plans that fit the
// workspace limit, and the fastest of the first eight, timed on the call's own data, is kept.
// The legacy API offers cuDNN 9 only a subset of these engines (on Hopper not its newest).
//
// Chosen with UNIEM_CUDNN_API=graph (the default stays legacy until the graph path has been
// measured on a GPU); where cuDNN finds no plan for a shape, conv.cu uses the legacy API for it.
#pragma once

#include <cudnn.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"

namespace uniem::cuda {

bool graph_api_chosen();  // UNIEM_CUDNN_API=graph

enum class GraphDirection { forward, backward_data, backward_filter };

// One convolution's execution plan. The three tensors are always the convolution's input x, its
// filter w and its output y (5-D shapes; 2-D calls pass 4-D ones): the operands and result of
// the forward pass, of the backward-data pass (dx, w, dy) and of the backward-filter pass (x, dw, dy).
class GraphConv {
 public:
  struct Shapes {
    std::array<int64_t, 5> x{}, w{}, y{};
    int dims = 5;  // 4 for a 2-D convolution
  };
  struct Settings {
    GraphDirection direction = GraphDirection::forward;
    Shapes shapes;
    std::array<int64_t, 3> stride{}, padding{}, dilation{};  // the spatial axes in use first
    cudnnDataType_t data = CUDNN_DATA_FLOAT, compute = CUDNN_DATA_FLOAT;
    bool tensor_cores = true;  // false: fp32 math only
    int64_t alignment = 16;    // of all three pointers, in bytes
    size_t workspace_limit = 0;
  };

  // Builds the plans and times them on the CUDA backend's stream with the given buffers (of which
  // the result's is overwritten); nullptr, with `why` set, when cuDNN offers none that qualifies.
  static std::unique_ptr<GraphConv> build(const Settings& s, void* const pointers[3], std::string& why);
  // Builds the convolution's descriptors, which needs no GPU: cuDNN's complaint, or "" when it
  // accepts the shapes, types and parameters.
  static std::string check(const Settings& s);
  ~GraphConv();
  GraphConv(const GraphConv&) = delete;
  GraphConv& operator=(const GraphConv&) = delete;

  size_t workspace() const { return workspace_; }
  // Runs the plan on x, w, y (in that order; see above), on the CUDA backend's stream.
  void run(void* const pointers[3]) const;

 private:
  GraphConv() = default;
  cudnnBackendDescriptor_t plan_ = nullptr;
  std::vector<cudnnBackendDescriptor_t> sources_;  // the graph, its tensors, the configurations
  size_t workspace_ = 0;
};

}  // namespace uniem::cuda
