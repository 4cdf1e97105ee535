// uniem devices: the GPUs this uniem can use, and whether cuBLAS and cuDNN start on them.
#include <cstdio>

#include "apps/cli.h"
#include "apps/commands.h"
#ifdef UNIEM_WITH_CUDA
#include "cuda/device.h"
#endif

namespace uniem::apps {

cli::Command devices_command() {
  return cli::Command("devices", "list the GPUs uniem can use",
                      "Lists the NVIDIA GPUs with their memory and compute capability, runs a test kernel on\n"
                      "each and starts cuBLAS and cuDNN there. Without a usable GPU, uniem computes on the CPU.\n"
                      "cuDNN and cuBLAS are NVIDIA's libraries, loaded when a GPU is used: from the files named\n"
                      "by UNIEM_CUDNN and UNIEM_CUBLAS when set, else beside uniem, else from the system's\n"
                      "library path or /usr/local/cuda. This lists which files were found.",
                      "  uniem devices");
}

int run_devices(const cli::Args&) {
#ifdef UNIEM_WITH_CUDA
  const auto report = cuda::describe_devices();
  std::printf("CUDA runtime %d.%d (in uniem)\n", report.runtime_version / 1000, report.runtime_version % 1000 / 10);
  for (const cuda::LibraryInfo* lib : {&report.cudnn, &report.cublas}) {
    if (lib->usable()) std::printf("%s %s: %s\n", lib->name.c_str(), lib->version_text().c_str(), lib->file.c_str());
    else std::printf("%s: not usable: %s\n", lib->name.c_str(), lib->problem.c_str());
  }
  if (report.devices.empty()) {
    std::printf("no usable GPU: %s; uniem computes on the CPU\n", report.problem.c_str());
    return 0;
  }
  for (const auto& d : report.devices) {
    std::printf("cuda:%d  %s, compute capability %d.%d, %.1f GiB: kernel %s, cuBLAS %s, cuDNN %s%s%s\n", d.index,
                d.name.c_str(), d.major, d.minor, d.memory_gib, d.kernel_ok ? "ok" : "FAILED", d.cublas_ok ? "ok" : "FAILED",
                d.cudnn_ok ? "ok" : "FAILED", d.problem.empty() ? "" : " - ", d.problem.c_str());
  }
  bool all_ok = true;
  for (const auto& d : report.devices) all_ok = all_ok && d.kernel_ok && d.cublas_ok && d.cudnn_ok;
  return all_ok ? 0 : 1;
#else
  std::printf("this uniem was built without CUDA; it computes on the CPU\n");
  return 0;
#endif
}

}  // namespace uniem::apps
