#include "apps/compute_device.h"

#include <cstdio>
#include <string>

#include "core/error.h"
#ifdef UNIEM_WITH_CUDA
#include "cuda/cuda_backend.h"
#include "cuda/device.h"
#endif

namespace uniem::apps {

void add_device_options(cli::Command& command) {
  command.option("device", "D", "where to compute: auto (a GPU if usable, else the CPU), cpu, cuda or cuda:N", "auto")
      .option("precision", "P",
              "GPU convolution math: tf32 (tensor cores), fp32, or bf16 (operands rounded to bfloat16, "
              "sums and results in fp32)",
              "tf32")
      .choices({"tf32", "fp32", "bf16"})
      .advanced();
}

Device choose_device(const cli::Args& args) {
  const std::string spec = args.get("device"), precision = args.get("precision");
  if (spec == "cpu") {
    std::printf("computing on the CPU\n");
    return Device::cpu();
  }
  int index = 0;
  if (spec.rfind("cuda:", 0) == 0) {
    const std::string n = spec.substr(5);
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos || n.size() > 3)
      throw UsageError("--device cuda:N takes a GPU number, not '" + spec + "'");
    index = std::stoi(n);
  } else if (spec != "cuda" && spec != "auto") {
    throw UsageError("--device must be auto, cpu, cuda or cuda:N, not '" + spec + "'");
  }
#ifdef UNIEM_WITH_CUDA
  const cuda::CudaReport report = cuda::describe_devices();
  const cuda::DeviceInfo* chosen = nullptr;
  for (const auto& d : report.devices)
    if (d.index == index && d.kernel_ok && d.cudnn_ok) chosen = &d;
  if (!chosen) {
    std::string why = report.devices.empty() ? report.problem : "cuda:" + std::to_string(index) + " is missing";
    for (const cuda::LibraryInfo* lib : {&report.cudnn, &report.cublas})
      if (!lib->usable()) why += "; " + lib->name + ": " + lib->problem;
    for (const auto& d : report.devices)
      if (d.index == index) why = "cuda:" + std::to_string(index) + " failed its self-test: " + d.problem;
    if (spec == "auto") {
      std::printf("computing on the CPU (no usable GPU: %s)\n", why.c_str());
      return Device::cpu();
    }
    throw InputError("--device " + spec + ": no usable GPU (" + why + "); run 'uniem devices', or use --device cpu");
  }
  cuda::install_backend();
  const Device device = Device::cuda(index);
  cuda::CudaBackend& gpu = cuda::cuda_backend();
  gpu.activate(device);
  // TF32 and bfloat16 tensor cores came with Ampere (compute capability 8.0).
  if (precision == "fp32" || chosen->major < 8) gpu.set_precision(cuda::Precision::fp32);
  else gpu.set_precision(precision == "bf16" ? cuda::Precision::bf16 : cuda::Precision::tf32);
  if (precision != "fp32" && chosen->major < 8)
    std::printf("%s has no %s tensor cores (compute capability %d.%d < 8.0): using fp32\n", chosen->name.c_str(),
                precision.c_str(), chosen->major, chosen->minor);
  std::printf("computing on %s (%s, %.0f GiB, %s convolutions)\n", device.str().c_str(), chosen->name.c_str(),
              chosen->memory_gib, cuda::precision_name(gpu.precision()));
  return device;
#else
  static_cast<void>(index);  // no GPU to number in a build without CUDA
  if (spec == "auto") {
    std::printf("computing on the CPU (this uniem was built without CUDA)\n");
    return Device::cpu();
  }
  throw InputError("--device " + spec + ": this uniem was built without CUDA; use --device cpu");
#endif
}

}  // namespace uniem::apps
