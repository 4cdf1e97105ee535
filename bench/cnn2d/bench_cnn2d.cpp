// Benchmark of the four 2D families (nn/network.h) against PyTorch CPU on the same architectures
// (bench/cnn2d/peer_cnn2d.py), default sizes (32 base filters; U-Net 4 levels, ResNet 9 blocks,
// HighwayNet 9 units, DenseNet 4 blocks of 4 layers, growth 16), float32, the same thread count:
//   training images/s: Adam steps (lr 2e-4, beta1 0.5) on least squares of sigmoid(logits), a
//                      batch of 4 crops of 256 x 256 (train2d's defaults);
//   inference megapixels/s: forward passes over a 512 x 512 tile (infer2d's default tile).
// Prints both sides and the ratio uniem time / PyTorch time (<= 1: as fast or faster).
//
// Usage: bench_cnn2d [--threads N] [--no-peer]
#include <cmath>
#include <cstdio>

#include "bench/bench_support.h"
#include "core/autograd.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/threads.h"
#include "nn/losses.h"
#include "nn/network.h"

using namespace uniem;

int main(int argc, char** argv) {
  const bench::PeerOptions options = bench::parse_peer_options(argc, argv);
  const int threads = options.threads;
  const bool peer = options.peer;
  set_thread_count(threads);
  const int64_t batch = 4, patch = 256, tile = 512;
  nlohmann::json torch;
  if (peer) {
    std::printf("running the PyTorch peer (%d threads)...\n", threads);
    std::fflush(stdout);
    torch = bench::run_peer("/usr/bin/python3 " UNIEM_BENCH_DIR "/cnn2d/peer_cnn2d.py " + std::to_string(threads) + " " +
                            std::to_string(batch) + " " + std::to_string(patch));
    if (torch.is_null()) std::printf("PyTorch peer unavailable (install python3-torch: make bench does)\n");
  }
  std::printf("\n2D CNN benchmark, float32, %d threads: training batch %lld x %lld^2 (Adam, least squares), "
              "inference on a %lld^2 tile\n",
              threads, static_cast<long long>(batch), static_cast<long long>(patch), static_cast<long long>(tile));
  std::printf("%-10s %11s | %12s %12s %7s | %12s %12s %7s\n", "family", "parameters", "uniem img/s", "torch img/s", "ratio",
              "uniem MP/s", "torch MP/s", "ratio");
  Generator g(0);
  const Tensor x = ops::randn({batch, 1, patch, patch}, g);
  Tensor y = ops::rand({batch, 1, patch, patch}, g);
  for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] = y.data<float>()[i] > 0.5f ? 1.0f : 0.0f;
  const Tensor big = ops::randn({1, 1, tile, tile}, g);
  const nn::LossConfig loss;
  for (const char* family : {"unet", "resnet", "highway", "densenet"}) {
    nn::NetworkConfig c;
    c.family = family;
    c.blocks = c.family == "densenet" ? 4 : 9;
    auto net = nn::make_network(c, 1);
    Adam adam(net->parameters(), AdamParams{.lr = 2e-4, .beta1 = 0.5});
    const double train = bench::median_seconds(3, [&] {
      adam.zero_grad();
      nn::training_loss(loss, net->forward(x, true), y, Tensor()).backward();
      adam.step();
    });
    double infer;
    {
      NoGradScope no_grad;
      infer = bench::median_seconds(3, [&] { nn::activation(loss, net->forward(big, false)); });
    }
    const std::string f = family;
    const double t_train = torch.is_null() ? NAN : torch.value(f + "_train", NAN);
    const double t_infer = torch.is_null() ? NAN : torch.value(f + "_infer", NAN);
    const double mp = static_cast<double>(tile * tile) / 1e6;
    std::printf("%-10s %11lld | %12.2f %12.2f %7.2f | %12.3f %12.3f %7.2f\n", family,
                static_cast<long long>(net->parameter_count()), static_cast<double>(batch) / train,
                static_cast<double>(batch) / t_train, train / t_train, mp / infer, mp / t_infer, infer / t_infer);
    if (!torch.is_null() && torch.value(f + "_parameters", int64_t{0}) != net->parameter_count())
      std::printf("  (PyTorch's network has %lld parameters: the architectures differ)\n",
                  static_cast<long long>(torch.value(f + "_parameters", int64_t{0})));
    std::fflush(stdout);
  }
  std::printf("\nratio = uniem time / PyTorch time (<= 1: uniem as fast or faster).%s\n",
              torch.is_null() ? "" : (" PyTorch " + torch.value("torch_version", std::string("?"))).c_str());
  return 0;
}
