// The CUDA backend starts: a kernel runs with the right answer, cuBLAS and cuDNN create their
// handles. This file's main runs every test_cuda case (test_backend.cpp too) after installing the
// backend, and skips them all (exit code 77) where there is no usable GPU, as on CI.
#include <cstdio>

#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "cuda/cuda_backend.h"
#include "cuda/device.h"

TEST_CASE("every visible GPU runs a kernel and starts cuBLAS and cuDNN") {
  const auto report = uniem::cuda::describe_devices();
  CHECK(report.runtime_version >= 12000);
  CHECK(report.cudnn.usable());
  CHECK(report.cudnn.version >= 90000);
  CHECK(report.cublas.usable());
  CHECK(report.cublas.version >= 120000);
  for (const auto& d : report.devices) {
    CAPTURE(d.name);
    CAPTURE(d.problem);
    CHECK(d.kernel_ok);
    CHECK(d.cublas_ok);
    CHECK(d.cudnn_ok);
    CHECK(d.major >= 7);
  }
}

int main(int argc, char** argv) {
  const auto report = uniem::cuda::describe_devices();
  if (report.devices.empty()) {
    std::printf("skipped: no usable GPU (%s)\n", report.problem.c_str());
    return 77;
  }
  std::printf("testing on cuda:0, %s\n", report.devices[0].name.c_str());
  uniem::cuda::install_backend();
  doctest::Context context(argc, argv);
  return context.run();
}
