#include "cuda/check.h"
#include "cuda/device.h"

#include <vector>

namespace uniem::cuda {
namespace {

__global__ void fill_index(int* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 3 * i;
}

// Runs fill_index on the current device and checks the result on the host.
bool run_test_kernel() {
  constexpr int n = 1000;
  int* device = nullptr;
  UNIEM_CUDA_CHECK(cudaMalloc(&device, n * sizeof(int)));
  fill_index<<<(n + 255) / 256, 256>>>(device, n);
  std::vector<int> host(n);
  const cudaError_t launch = cudaGetLastError();
  const cudaError_t copy = cudaMemcpy(host.data(), device, n * sizeof(int), cudaMemcpyDeviceToHost);
  cudaFree(device);
  UNIEM_CUDA_CHECK(launch);
  UNIEM_CUDA_CHECK(copy);
  for (int i = 0; i < n; ++i)
    if (host[i] != 3 * i) return false;
  return true;
}

}  // namespace

CudaReport describe_devices() {
  CudaReport report;
  cudaRuntimeGetVersion(&report.runtime_version);
  report.cudnn = cudnn_library();
  report.cublas = cublas_library();
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    report.problem = cudaGetErrorString(status);
    return report;
  }
  for (int i = 0; i < count; ++i) {
    DeviceInfo d;
    d.index = i;
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) == cudaSuccess) {
      d.name = prop.name;
      d.major = prop.major;
      d.minor = prop.minor;
      d.memory_gib = static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0);
    }
    try {
      UNIEM_CUDA_CHECK(cudaSetDevice(i));
      d.kernel_ok = run_test_kernel();
      if (!d.kernel_ok) d.problem = "uniem's test kernel gave wrong results";
      require_libraries();
      cublasHandle_t blas = nullptr;
      UNIEM_CUDA_CHECK(cublasCreate(&blas));
      d.cublas_ok = true;
      cublasDestroy(blas);
      cudnnHandle_t dnn = nullptr;
      UNIEM_CUDA_CHECK(cudnnCreate(&dnn));
      d.cudnn_ok = true;
      cudnnDestroy(dnn);
    } catch (const CudaError& e) {
      d.problem = e.what();
    }
    report.devices.push_back(d);
  }
  if (count == 0) report.problem = "no CUDA device found";
  return report;
}

}  // namespace uniem::cuda
