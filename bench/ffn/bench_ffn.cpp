// Benchmark of the flood-filling network (nn/ffn/model.h) against PyTorch CPU on the same network
// (bench/ffn/peer_ffn.py), both presets (isotropic: depth 12, FOV 33x33x33; sparse-z: depth 9,
// FOV 17x33x33), float32, the same thread count:
//   training steps/s: plain SGD steps (lr 0.001, gradient elements clipped to 0.7) on the sigmoid
//                     cross-entropy of a batch of 4 fields of view (ffn train's defaults);
//   inference moves/s: forward passes of one field of view without gradients (one prediction of
//                      ffn segment).
// Prints both sides and the ratio uniem time / PyTorch time (<= 1: as fast or faster).
//
// Usage: bench_ffn [--threads N] [--no-peer]
#include <cstdio>

#include "bench/bench_support.h"
#include "core/autograd.h"
#include "core/optim.h"
#include "core/threads.h"
#include "nn/ffn/model.h"

using namespace uniem;

int main(int argc, char** argv) {
  const bench::PeerOptions options = bench::parse_peer_options(argc, argv);
  set_thread_count(options.threads);
  const int64_t batch = 4;
  nlohmann::json torch;
  if (options.peer) {
    std::printf("running the PyTorch peer (%d threads)...\n", options.threads);
    std::fflush(stdout);
    torch = bench::run_peer("/usr/bin/python3 " UNIEM_BENCH_DIR "/ffn/peer_ffn.py " + std::to_string(options.threads) + " " +
                            std::to_string(batch));
    if (torch.is_null()) std::printf("PyTorch peer unavailable (install python3-torch: make bench does)\n");
  }
  std::printf("\nFFN benchmark, float32, %d threads: training batch %lld (SGD, clip 0.7), inference one field of view\n",
              options.threads, static_cast<long long>(batch));
  std::printf("%-10s %-22s | %13s %13s %7s | %13s %13s %7s\n", "preset", "network", "uniem steps/s", "torch steps/s", "ratio",
              "uniem moves/s", "torch moves/s", "ratio");
  for (const char* preset : {"isotropic", "sparse-z"}) {
    const nn::ffn::FfnConfig c = nn::ffn::FfnConfig::preset(preset);
    const nn::ffn::FfnModel model(c, 1);
    Sgd sgd(model.parameters(), SgdParams{.lr = 0.001});
    Generator g(0);
    const Shape shape{batch, 1, c.fov[0], c.fov[1], c.fov[2]}, one{1, 1, c.fov[0], c.fov[1], c.fov[2]};
    const Tensor image = ops::randn(shape, g), seed = ops::randn(shape, g), target = ops::rand(shape, g, 0.05, 0.95);
    const double train = bench::median_seconds(3, [&] {
      sgd.zero_grad();
      ops::sigmoid_cross_entropy(model.forward(image, seed), target).backward();
      clip_grad_value(model.parameters(), 0.7);
      sgd.step();
    });
    const Tensor image1 = ops::randn(one, g), seed1 = ops::randn(one, g);
    const double infer = bench::median_seconds(5, [&] {
      NoGradScope no_grad;
      model.forward(image1, seed1);
    });
    const std::string key = preset == std::string("isotropic") ? "isotropic" : "sparse_z";
    const double t_train = torch.is_null() ? 0 : torch.value(key + "_train", 0.0);
    const double t_infer = torch.is_null() ? 0 : torch.value(key + "_infer", 0.0);
    const std::string net = "depth " + std::to_string(c.depth) + ", " + nn::ffn::zyx_string(c.fov, "x");
    std::printf("%-10s %-22s | %13.3f %13s %7s | %13.2f %13s %7s\n", preset, net.c_str(), 1 / train,
                t_train > 0 ? std::to_string(1 / t_train).substr(0, 6).c_str() : "-",
                t_train > 0 ? std::to_string(train / t_train).substr(0, 4).c_str() : "-", 1 / infer,
                t_infer > 0 ? std::to_string(1 / t_infer).substr(0, 6).c_str() : "-",
                t_infer > 0 ? std::to_string(infer / t_infer).substr(0, 4).c_str() : "-");
    std::fflush(stdout);
  }
  return 0;
}
