// What the CUDA backend sees: the devices, and whether cuBLAS and cuDNN load and start on them.
// describe_devices() never throws; without a driver or GPU it says why in `problem`, without cuBLAS
// or cuDNN in their LibraryInfo and in each device's `problem`.
#pragma once

#include <string>
#include <vector>

#include "cuda/libraries.h"

namespace uniem::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;       // compute capability
  double memory_gib = 0;
  bool kernel_ok = false;         // a uniem kernel ran and gave the right answer
  bool cublas_ok = false, cudnn_ok = false;
  std::string problem;            // empty when everything worked
};

struct CudaReport {
  int runtime_version = 0;        // e.g. 13000
  LibraryInfo cudnn, cublas;
  std::vector<DeviceInfo> devices;
  std::string problem;            // why there are no devices, if there are none
};

CudaReport describe_devices();

}  // namespace uniem::cuda
