// The parts of the CUDA backend that run without a GPU, so CI checks them every time: loading
// cuDNN and cuBLAS (cuda/libraries.h), and the cuDNN graph-API descriptors of every convolution
// uniem asks for (cuda/conv_graph.h), which cuDNN validates when they are finalized. Cases that
// need cuDNN itself say so and pass without checking where it is not installed.
#include <doctest/doctest.h>

#include <string>

#include "cuda/check.h"
#include "cuda/conv_graph.h"
#include "cuda/libraries.h"

using namespace uniem::cuda;

namespace {

bool have_cudnn() {
  if (cudnn_library().usable()) return true;
  MESSAGE("cuDNN is not installed here (" << cudnn_library().problem << "); nothing to check");
  return false;
}

// The settings of a 3x3(x3) convolution with padding 1 of `channels` in and out.
GraphConv::Settings same_size(GraphDirection direction, int dims, cudnnDataType_t data, int64_t batch,
                              int64_t channels, int64_t depth, int64_t height, int64_t width) {
  GraphConv::Settings s;
  s.direction = direction;
  s.shapes.dims = dims;
  s.shapes.x = {batch, channels, dims == 4 ? 1 : depth, height, width};
  s.shapes.y = s.shapes.x;
  s.shapes.w = {channels, channels, dims == 4 ? 1 : 3, 3, 3};
  s.stride = {1, 1, 1};
  s.padding = {1, 1, 1};
  s.dilation = {1, 1, 1};
  s.data = data;
  s.compute = data == CUDNN_DATA_DOUBLE ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
  return s;
}

}  // namespace

TEST_CASE("cuDNN and cuBLAS are found and of the versions uniem was built for, or the reason is given") {
  for (const LibraryInfo* lib : {&cudnn_library(), &cublas_library()}) {
    CAPTURE(lib->name);
    CAPTURE(lib->problem);
    if (lib->usable()) {
      CHECK(lib->version >= 90000);
      CHECK(lib->file.find(lib->name == "cuDNN" ? "libcudnn.so." : "libcublas.so.") != std::string::npos);
      CHECK(lib->version_text().find('.') != std::string::npos);
    } else {
      CHECK_FALSE(lib->problem.empty());
    }
  }
  if (!cudnn_library().usable() || !cublas_library().usable()) {
    try {
      require_libraries();
      FAIL("require_libraries accepted a missing library");
    } catch (const CudaError& e) {
      CHECK(std::string(e.what()).find("UNIEM_CUDNN") != std::string::npos);
    }
  } else {
    CHECK_NOTHROW(require_libraries());
  }
}

TEST_CASE("cuDNN accepts the graph-API descriptors of every convolution direction, 2-D and 3-D, fp32, bf16, f64") {
  if (!have_cudnn()) return;
  for (const GraphDirection d : {GraphDirection::forward, GraphDirection::backward_data, GraphDirection::backward_filter})
    for (const cudnnDataType_t type : {CUDNN_DATA_FLOAT, CUDNN_DATA_BFLOAT16, CUDNN_DATA_DOUBLE})
      for (const int dims : {4, 5}) {
        CAPTURE(static_cast<int>(d));
        CAPTURE(static_cast<int>(type));
        CAPTURE(dims);
        CHECK(GraphConv::check(same_size(d, dims, type, 3, 7, 9, 13, 11)) == "");
      }
  // Strided, dilated and anisotropic, as the networks use them: a U-Net's 2x2 up-convolution runs
  // as the backward data of a stride-2 convolution; ResNet's stride-2 3x3; the FFN's presets.
  GraphConv::Settings up = same_size(GraphDirection::backward_data, 4, CUDNN_DATA_FLOAT, 4, 32, 1, 64, 64);
  up.shapes.w = {64, 32, 1, 2, 2};
  up.shapes.y = {4, 64, 1, 32, 32};
  up.stride = {2, 2, 1};
  up.padding = {0, 0, 0};
  CHECK(GraphConv::check(up) == "");
  GraphConv::Settings down = same_size(GraphDirection::forward, 4, CUDNN_DATA_FLOAT, 4, 32, 1, 256, 256);
  down.shapes.y = {4, 32, 1, 128, 128};
  down.stride = {2, 2, 1};
  CHECK(GraphConv::check(down) == "");
  GraphConv::Settings dilated = same_size(GraphDirection::backward_filter, 5, CUDNN_DATA_FLOAT, 1, 4, 9, 9, 9);
  dilated.dilation = {2, 2, 2};
  dilated.padding = {2, 2, 2};
  CHECK(GraphConv::check(dilated) == "");
  CHECK(GraphConv::check(same_size(GraphDirection::forward, 5, CUDNN_DATA_FLOAT, 4, 32, 17, 33, 33)) == "");
}

TEST_CASE("cuDNN refuses a graph-API convolution whose output does not fit its input, with its message") {
  if (!have_cudnn()) return;
  GraphConv::Settings s = same_size(GraphDirection::forward, 5, CUDNN_DATA_FLOAT, 4, 32, 33, 33, 33);
  s.shapes.y[2] = 30;
  const std::string why = GraphConv::check(s);
  CHECK(why.find("cudnnBackendFinalize") != std::string::npos);
  CHECK(why.find("CUDNN_STATUS_BAD_PARAM") != std::string::npos);
}
