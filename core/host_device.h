// UNIEM_HOST_DEVICE marks the small inline functions that both the CPU and the CUDA backend
// compile: __host__ __device__ under nvcc, nothing for the C++ compiler.
#pragma once

#ifdef __CUDACC__
#define UNIEM_HOST_DEVICE __host__ __device__
#else
#define UNIEM_HOST_DEVICE
#endif
