// The one checking macro for every CUDA runtime, cuBLAS and cuDNN call: on failure it throws
// uniem::CudaError naming the call, the source place and the library's own message.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

#include "core/error.h"

namespace uniem::cuda {

class CudaError : public Error {
 public:
  using Error::Error;
};

inline const char* status_text(cudaError_t s) { return cudaGetErrorString(s); }
inline const char* status_text(cudnnStatus_t s) { return cudnnGetErrorString(s); }
inline const char* status_text(cublasStatus_t s) { return cublasGetStatusString(s); }
inline bool ok(cudaError_t s) { return s == cudaSuccess; }
inline bool ok(cudnnStatus_t s) { return s == CUDNN_STATUS_SUCCESS; }
inline bool ok(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS; }

template <class Status>
void check(Status s, const char* call, const char* file, int line) {
  if (!ok(s)) throw CudaError(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " + status_text(s));
}

}  // namespace uniem::cuda

#define UNIEM_CUDA_CHECK(call) ::uniem::cuda::check((call), #call, __FILE__, __LINE__)
