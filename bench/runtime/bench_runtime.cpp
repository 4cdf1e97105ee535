// Benchmark of the tensor runtime against PyTorch CPU (Debian's python3-torch), same shapes,
// float32, batch 1, the same thread count, in one run:
//   conv2d 3x3 64->64 at 256x256 and conv3d 3x3x3 32->32 at 17x33x33 (the FFN field of view),
//   forward and forward+backward; a U-Net training step (4 levels, 32 base filters, BN, BCE,
//   Adam) at 256x256; U-Net inference at 1024x1024.
// Prints uniem and PyTorch times, the ratio uniem/PyTorch (<= 1 means as fast or faster), and the
// convolutions' GFLOP/s against this machine's measured single-precision GEMM peak (sgemm
// 2048^3 through the runtime's own kernels, on the same threads).
//
// Usage: bench_runtime [--threads N] [--no-peer]
#include <cmath>
#include <cstdio>
#include <string>

#include "bench/bench_support.h"
#include "core/autograd.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/threads.h"

using namespace uniem;

namespace {

// The U-Net of ../shared/bench-peers/bench_torch.py: per level two (3x3 conv, BN, ReLU), 2x2 max
// pooling down, 2x2 stride-2 transposed convolution up, skip concatenation, 1x1 head.
struct BenchUNet {
  struct Block {
    Tensor w1, g1, b1, m1, v1, w2, g2, b2, m2, v2;
  };
  std::vector<Block> enc, dec;
  std::vector<Tensor> up_w, up_b;
  Tensor head_w, head_b;
  NamedTensors params;

  Block block(int64_t cin, int64_t cout, Generator& g) {
    auto he = [&](Shape s) {
      return ops::randn(s, g, 0, std::sqrt(2.0 / static_cast<double>(s[1] * s[2] * s[3]))).set_requires_grad();
    };
    Block b{he({cout, cin, 3, 3}), Tensor::ones({cout}).set_requires_grad(), Tensor::zeros({cout}).set_requires_grad(),
            Tensor::zeros({cout}), Tensor::ones({cout}),
            he({cout, cout, 3, 3}), Tensor::ones({cout}).set_requires_grad(), Tensor::zeros({cout}).set_requires_grad(),
            Tensor::zeros({cout}), Tensor::ones({cout})};
    for (Tensor* t : {&b.w1, &b.g1, &b.b1, &b.w2, &b.g2, &b.b2})
      params.push_back({"p" + std::to_string(params.size()), *t});
    return b;
  }

  BenchUNet(int levels, int64_t base, Generator& g) {
    int64_t c = 1;
    for (int i = 0; i < levels; ++i) {
      enc.push_back(block(c, base << i, g));
      c = base << i;
    }
    for (int i = levels - 2; i >= 0; --i) {
      const int64_t co = base << i;
      up_w.push_back(ops::randn({c, co, 2, 2}, g, 0, std::sqrt(1.0 / static_cast<double>(c * 4))).set_requires_grad());
      up_b.push_back(Tensor::zeros({co}).set_requires_grad());
      params.push_back({"up_w" + std::to_string(i), up_w.back()});
      params.push_back({"up_b" + std::to_string(i), up_b.back()});
      dec.push_back(block(2 * co, co, g));
      c = co;
    }
    head_w = ops::randn({1, c, 1, 1}, g, 0, std::sqrt(1.0 / static_cast<double>(c))).set_requires_grad();
    head_b = Tensor::zeros({1}).set_requires_grad();
    params.push_back({"head_w", head_w});
    params.push_back({"head_b", head_b});
  }

  static Tensor run(Block& b, const Tensor& x, bool training) {
    using namespace ops;
    Tensor y = relu(batch_norm(conv2d(x, b.w1, Tensor(), {.padding = 1}), b.g1, b.b1, b.m1, b.v1, training));
    return relu(batch_norm(conv2d(y, b.w2, Tensor(), {.padding = 1}), b.g2, b.b2, b.m2, b.v2, training));
  }

  Tensor forward(Tensor x, bool training) {  // logits
    std::vector<Tensor> skips;
    for (size_t i = 0; i < enc.size(); ++i) {
      x = run(enc[i], x, training);
      if (i + 1 < enc.size()) {
        skips.push_back(x);
        x = ops::max_pool2d(x);
      }
    }
    for (size_t i = 0; i < dec.size(); ++i) {
      x = ops::conv_transpose2d(x, up_w[i], up_b[i], {.stride = 2});
      x = run(dec[i], ops::concat({x, skips.back()}, 1), training);
      skips.pop_back();
    }
    return ops::conv2d(x, head_w, head_b);
  }
};

double conv_flops(int64_t out_elements, int64_t cin, int64_t kernel_volume) {
  return 2.0 * static_cast<double>(out_elements) * static_cast<double>(cin * kernel_volume);
}

// Forward convolution FLOPs of the U-Net on a size x size image (as the peer's hook counts them).
double unet_flops(int levels, int64_t base, int64_t size) {
  double f = 0;
  int64_t c = 1, s = size;
  for (int i = 0; i < levels; ++i) {
    const int64_t co = base << i;
    f += conv_flops(co * s * s, c, 9) + conv_flops(co * s * s, co, 9);
    c = co;
    if (i + 1 < levels) s /= 2;
  }
  for (int i = levels - 2; i >= 0; --i) {
    const int64_t co = base << i;
    f += 2.0 * static_cast<double>(c * s * s) * static_cast<double>(co * 4);  // transposed: 2 * in * Cout * k
    s *= 2;
    f += conv_flops(co * s * s, 2 * co, 9) + conv_flops(co * s * s, co, 9);
    c = co;
  }
  return f + conv_flops(s * s, c, 1);
}

// sgemm 2048^3 through the runtime's own kernels (a 1x1 convolution is exactly a GEMM), so the
// peak uses the same instruction set and threading as the convolutions.
double gemm_peak() {
  NoGradScope no_grad;
  Generator g(1);
  const Tensor x = ops::randn({1, 2048, 1, 2048}, g), w = ops::randn({2048, 2048, 1, 1}, g);
  const double t = bench::median_seconds(5, [&] { ops::conv2d(x, w, Tensor()); });
  return 2.0 * 2048.0 * 2048.0 * 2048.0 / t / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::PeerOptions options = bench::parse_peer_options(argc, argv);
  const int threads = options.threads;
  const bool peer = options.peer;
  set_thread_count(threads);
  Generator g(0);
  nlohmann::json torch;
  if (peer) {
    std::printf("running the PyTorch peer (%d threads)...\n", threads);
    std::fflush(stdout);
    torch = bench::run_peer("/usr/bin/python3 " UNIEM_BENCH_DIR "/runtime/peer_runtime.py " + std::to_string(threads));
    if (torch.is_null()) std::printf("PyTorch peer unavailable (install python3-torch: make bench does)\n");
  }
  const double peak = gemm_peak();
  std::printf("\nruntime benchmark, float32, batch 1, %d threads; GEMM peak (sgemm 2048^3 via the runtime) %.1f GFLOP/s\n",
              threads, peak);
  std::printf("%-34s %10s %10s %8s %9s %7s\n", "case", "uniem s", "torch s", "ratio", "GFLOP/s", "% peak");

  auto report = [&](const char* name, const char* key, double seconds, double flops) {
    const double t = torch.is_null() || !torch.contains(key) ? NAN : torch[key].get<double>();
    const double gf = flops / seconds / 1e9;
    std::printf("%-34s %10.4f %10.4f %8.2f %9.1f %6.0f%%\n", name, seconds, t, seconds / t, gf, 100 * gf / peak);
    std::fflush(stdout);
  };

  {  // conv2d 64->64, 256x256
    Tensor x = ops::randn({1, 64, 256, 256}, g), w = ops::randn({64, 64, 3, 3}, g, 0, 0.05), b = ops::randn({64}, g);
    const double f = conv_flops(64 * 256 * 256, 64, 9);
    {
      NoGradScope no_grad;
      report("conv2d 3x3 64->64 256^2 fwd", "conv2d_fwd", bench::median_seconds(7, [&] { ops::conv2d(x, w, b, {.padding = 1}); }), f);
    }
    x.set_requires_grad();
    w.set_requires_grad();
    b.set_requires_grad();
    report("conv2d 3x3 64->64 256^2 fwd+bwd", "conv2d_fwd_bwd", bench::median_seconds(5, [&] {
             x.zero_grad();
             w.zero_grad();
             b.zero_grad();
             ops::sum(ops::conv2d(x, w, b, {.padding = 1})).backward();
           }), 3 * f);
  }
  {  // conv3d 32->32 at 17x33x33
    Tensor x = ops::randn({1, 32, 17, 33, 33}, g), w = ops::randn({32, 32, 3, 3, 3}, g, 0, 0.05), b = ops::randn({32}, g);
    const double f = conv_flops(32 * 17 * 33 * 33, 32, 27);
    {
      NoGradScope no_grad;
      report("conv3d 3x3x3 32->32 17x33x33 fwd", "conv3d_fwd", bench::median_seconds(9, [&] { ops::conv3d(x, w, b, {.padding = 1}); }), f);
    }
    x.set_requires_grad();
    w.set_requires_grad();
    b.set_requires_grad();
    report("conv3d 3x3x3 32->32 17x33x33 f+b", "conv3d_fwd_bwd", bench::median_seconds(7, [&] {
             x.zero_grad();
             w.zero_grad();
             b.zero_grad();
             ops::sum(ops::conv3d(x, w, b, {.padding = 1})).backward();
           }), 3 * f);
  }
  {  // U-Net training step and inference
    BenchUNet net(4, 32, g);
    Adam opt(net.params, {.lr = 1e-3});
    Tensor x = ops::randn({1, 1, 256, 256}, g);
    Tensor y = ops::rand({1, 1, 256, 256}, g);
    {
      float* p = y.data<float>();
      for (int64_t i = 0; i < y.numel(); ++i) p[i] = p[i] > 0.5f ? 1.0f : 0.0f;
    }
    report("U-Net train step 256^2", "unet_train_256", bench::median_seconds(7, [&] {
             opt.zero_grad();
             ops::sigmoid_cross_entropy(net.forward(x, true), y).backward();
             opt.step();
           }), 3 * unet_flops(4, 32, 256));
    NoGradScope no_grad;
    Tensor big = ops::randn({1, 1, 1024, 1024}, g);
    report("U-Net inference 1024^2", "unet_infer_1024",
           bench::median_seconds(5, [&] { ops::sigmoid(net.forward(big, false)); }), unet_flops(4, 32, 1024));
  }
  std::printf("\nratio = uniem / PyTorch time (<= 1: as fast or faster). GFLOP/s counts convolution FLOPs only\n"
              "(2 x MACs; training = 3 x forward), as ../shared/bench-peers/bench_torch.py does. The 3x3(x3)\n"
              "layers run Winograd F(2,3) (core/cpu/conv_winograd.h), which needs 2.25x (2-D) or 3.4x (3-D)\n"
              "fewer multiplications: those figures are direct-convolution equivalents and exceed the peak.\n");
  return 0;
}
