// bench_cuda: uniem's CUDA backend against PyTorch (cuDNN) on the same GPU, in one run.
//
// Workloads (the list), the same shapes and precision on both sides (peer_torch.py mirrors
// the networks layer for layer):
//   U-Net (32 filters, depth 4) training step, batch 4 of 256x256, logistic loss, Adam;
//   ResNet-16 (32 filters) training step, same batch;
//   U-Net inference of one 4096x4096 section;
//   FFN training step, batch 4, both presets (isotropic: depth 12, FOV 33^3; sparse-z: depth 9,
//   FOV 17x33x33), SGD with gradient clipping 0.7;
//   FFN single field-of-view prediction (isotropic), input up and output back, as the segmenter does.
// Each: 3 warm-up repetitions, then the mean of timed ones. Prints ms for both, the ratio
// (uniem / PyTorch; <= 1 means uniem is as fast or faster) and the TFLOP/s both reach, with
// PyTorch's count of the work (torch.utils.flop_counter) and the card's measured GEMM rate.
//
// Usage: [UNIEM_CUDNN_API=graph] bench_cuda [--precision tf32|fp32|bf16] [--quick] [--profile]
// (needs a GPU, and python3 with torch). --profile: after each workload, its GPU time per backend
// op and per step against the wall time (the rest is host work), and PyTorch's top CUDA kernels
// (torch.profiler) from the peer.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/autograd.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "cuda/conv_graph.h"
#include "cuda/cuda_backend.h"
#include "cuda/device.h"
#include "nn/ffn/model.h"
#include "nn/network.h"

using namespace uniem;
using Clock = std::chrono::steady_clock;

namespace {

const Device gpu = Device::cuda(0);
bool profile = false;

double timed_ms(const std::function<void()>& step, int reps, int warmup = 3) {
  for (int i = 0; i < warmup; ++i) step();
  cuda::cuda_backend().synchronize();
  const auto begin = Clock::now();
  for (int i = 0; i < reps; ++i) step();
  cuda::cuda_backend().synchronize();
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - begin).count() / reps;
  if (profile) {  // the same steps again with every op timed on the GPU
    cuda::CudaBackend& be = cuda::cuda_backend();
    be.set_profiling(true);
    for (int i = 0; i < reps; ++i) step();
    be.set_profiling(false);
    double gpu_ms = 0;
    const auto ops = be.take_profile();
    for (const auto& t : ops) gpu_ms += t.ms;
    std::printf("  per step: %.3f ms wall, %.3f ms of GPU work in backend ops (%.0f%%)\n", ms, gpu_ms / reps,
                100 * gpu_ms / reps / ms);
    for (const auto& t : ops)
      std::printf("    %-32s %6.1f calls %8.3f ms  %5.1f%%\n", t.op.c_str(), static_cast<double>(t.calls) / reps,
                  t.ms / reps, 100 * t.ms / std::max(gpu_ms, 1e-9));
  }
  return ms;
}

// Runs a workload, with its name first when profiling, so the table above says what it is for.
double workload(const char* name, const std::function<double()>& run) {
  if (profile) std::printf("%s\n", name);
  return run();
}

Tensor uniform(const Shape& s, uint64_t seed) {
  Generator g(seed);
  return ops::rand(s, g, 0, 1, ScalarType::f32, gpu);
}

Tensor binary(const Shape& s, uint64_t seed) {
  Generator g(seed);
  return ops::dropout(Tensor::ones(s, ScalarType::f32, gpu), 0.5, true, g).detach();  // 0 or 2
}

double train_2d(const nn::NetworkConfig& c, int reps) {
  auto net = nn::make_network(c, 1);
  net->to(gpu);
  Adam opt(net->parameters(), {.lr = 2e-4, .beta1 = 0.5});
  const Tensor x = uniform({4, 1, 256, 256}, 2), t = ops::mul(binary({4, 1, 256, 256}, 3), 0.5);
  return timed_ms([&] {
    opt.zero_grad();
    const Tensor loss = ops::sigmoid_cross_entropy(net->forward(x, true), t);
    loss.backward();
    opt.step();
    loss.item();
  }, reps);
}

double train_ffn(const nn::ffn::FfnConfig& c, int reps) {
  nn::ffn::FfnModel model(c, 1);
  model.to(gpu);
  Sgd opt(model.parameters(), {.lr = 1e-3});
  const Shape s{4, 1, c.fov[0], c.fov[1], c.fov[2]};
  const Tensor image = uniform(s, 4), seed = uniform(s, 5), target = ops::mul(binary(s, 6), 0.5);
  return timed_ms([&] {
    opt.zero_grad();
    const Tensor loss = ops::sigmoid_cross_entropy(model.forward(image, seed), target);
    loss.backward();
    clip_grad_value(model.parameters(), 0.7);
    opt.step();
    loss.item();
  }, reps);
}

std::map<std::string, nlohmann::json> run_peer(const std::string& precision, bool quick, bool with_profile) {
  // The script where this build's sources are, else under the working folder (a copied checkout).
  std::string script = UNIEM_BENCH_DIR "/cuda/peer_torch.py";
  if (FILE* f = std::fopen(script.c_str(), "r")) std::fclose(f);
  else script = "bench/cuda/peer_torch.py";
  const std::string command = "python3 " + script + " --precision " + precision + (quick ? " --quick" : "") +
                              (with_profile ? " --profile" : "");
  std::map<std::string, nlohmann::json> out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char line[4096];
  while (std::fgets(line, sizeof line, pipe)) {
    try {
      const auto j = nlohmann::json::parse(line);
      out[j.at("name").get<std::string>()] = j;
    } catch (const std::exception&) {
      std::fputs(line, stderr);
    }
  }
  if (pclose(pipe) != 0) std::fprintf(stderr, "note: the PyTorch peer did not finish cleanly\n");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string precision = "tf32";
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--precision") && i + 1 < argc) precision = argv[++i];
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--profile")) profile = true;
  }
  if (precision != "tf32" && precision != "fp32" && precision != "bf16") {
    std::fprintf(stderr, "usage: bench_cuda [--precision tf32|fp32|bf16] [--quick] [--profile]\n");
    return 2;
  }
  const auto report = cuda::describe_devices();
  if (report.devices.empty()) {
    std::printf("bench_cuda: no usable GPU (%s); nothing to time\n", report.problem.c_str());
    return 0;
  }
  cuda::install_backend();
  cuda::cuda_backend().activate(gpu);
  cuda::cuda_backend().set_precision(precision == "fp32"   ? cuda::Precision::fp32
                                     : precision == "bf16" ? cuda::Precision::bf16
                                                           : cuda::Precision::tf32);
  std::printf("bench_cuda on %s, %s, cuDNN %zu (%s API), %s\n", report.devices[0].name.c_str(),
              ("compute capability " + std::to_string(report.devices[0].major) + "." +
               std::to_string(report.devices[0].minor)).c_str(), report.cudnn.version,
              cuda::graph_api_chosen() ? "graph" : "legacy", precision.c_str());
  std::fflush(stdout);
  const int reps = quick ? 3 : 20;

  std::map<std::string, double> ours;
  nn::NetworkConfig unet;  // 32 filters, depth 4
  ours["unet_train_step"] = workload("unet_train_step", [&] { return train_2d(unet, reps); });
  nn::NetworkConfig resnet;
  resnet.family = "resnet";
  resnet.blocks = 16;
  ours["resnet16_train_step"] = workload("resnet16_train_step", [&] { return train_2d(resnet, reps); });
  ours["unet_infer_4096"] = workload("unet_infer_4096", [&] {
    auto net = nn::make_network(unet, 1);
    net->to(gpu);
    const Tensor big = uniform({1, 1, 4096, 4096}, 7);
    return timed_ms([&] {
      NoGradScope no_grad;
      ops::sigmoid(net->forward(big, false));
    }, std::max(1, reps / 4), 1);
  });
  cuda::cuda_backend().release_cached();
  ours["ffn_train_step_isotropic"] = workload("ffn_train_step_isotropic", [&] {
    return train_ffn(nn::ffn::FfnConfig::preset("isotropic"), reps);
  });
  ours["ffn_train_step_sparse_z"] = workload("ffn_train_step_sparse_z", [&] {
    return train_ffn(nn::ffn::FfnConfig::preset("sparse-z"), reps);
  });
  ours["ffn_predict_isotropic"] = workload("ffn_predict_isotropic", [&] {
    nn::ffn::FfnModel model(nn::ffn::FfnConfig::preset("isotropic"), 1);
    model.to(gpu);
    Generator g(8);
    const Tensor image = ops::rand({1, 1, 33, 33, 33}, g), seed = ops::rand({1, 1, 33, 33, 33}, g);
    return timed_ms([&] {
      NoGradScope no_grad;
      model.forward(image.to(gpu), seed.to(gpu)).to(Device::cpu());
    }, reps * 10);
  });
  std::fflush(stdout);

  const auto peer = run_peer(precision, quick, profile);
  const double gemm = peer.count("gemm_" + precision) ? peer.at("gemm_" + precision)["tflops"].get<double>() : 0;
  std::printf("\n| workload | uniem ms | PyTorch ms | ratio | uniem TFLOP/s | PyTorch TFLOP/s |\n|---|---|---|---|---|---|\n");
  for (const auto& [name, ms] : ours) {
    if (!peer.count(name)) {
      std::printf("| %s | %.2f | (no peer) | | | |\n", name.c_str(), ms);
      continue;
    }
    const double theirs = peer.at(name)["ms"].get<double>(), flops = peer.at(name)["flops"].get<double>();
    std::printf("| %s | %.2f | %.2f | %.2f | %.1f | %.1f |\n", name.c_str(), ms, theirs, ms / theirs,
                flops / (ms * 1e9), flops / (theirs * 1e9));
  }
  if (gemm > 0)
    std::printf("\nmeasured GEMM rate of this card (PyTorch, 8192^3, %s): %.1f TFLOP/s\n", precision.c_str(), gemm);
  std::printf("predictions/s of one FFN field of view: uniem %.0f, PyTorch %.0f\n", 1000 / ours["ffn_predict_isotropic"],
              peer.count("ffn_predict_isotropic") ? 1000 / peer.at("ffn_predict_isotropic")["ms"].get<double>() : 0.0);
  return 0;
}
