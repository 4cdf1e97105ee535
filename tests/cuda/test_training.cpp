// Whole trainings on the GPU against the CPU: a 2D U-Net and an FFN, 200 steps each from the same
// seed (fp32 convolutions), reach the same loss within tolerance (the U-Net with bf16 convolutions
// too, within a wider one); a model trained on the GPU loads and predicts on the CPU. Skipped without a GPU (see test_device.cpp's main).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/image/synth.h"
#include "cuda/cuda_backend.h"
#include "nn/ffn/prep.h"
#include "nn/ffn/trainer.h"
#include "nn/model_folder.h"
#include "nn/tiled_inference.h"
#include "nn/trainer.h"
#include "tests/test_support.h"

using namespace uniem;
using uniem::test::TempDir;
namespace fs = std::filesystem;

namespace {

const Device gpu = Device::cuda(0);

std::vector<double> logged_losses(const fs::path& log_file) {
  std::ifstream log(log_file);
  std::vector<double> loss;
  for (std::string line; std::getline(log, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) loss.push_back(j["loss"].get<double>());
  }
  return loss;
}

struct PrecisionScope {
  explicit PrecisionScope(cuda::Precision p) { cuda::cuda_backend().set_precision(p); }
  ~PrecisionScope() { cuda::cuda_backend().set_precision(cuda::Precision::tf32); }
};

// A small U-Net on a synthetic volume's mitochondria, 200 steps on the CPU and on the GPU in
// `precision` from the same seed; the logged losses of each, and the GPU model's folder.
struct UnetRun {
  std::vector<double> cpu_loss, gpu_loss;
  SynthVolume volume;
  nn::ModelDescription model;
};
UnetRun train_unet(const TempDir& dir, cuda::Precision precision) {
  PrecisionScope scope(precision);
  UnetRun run;
  SynthOptions so;
  so.nz = 6, so.ny = 160, so.nx = 160;
  run.volume = synthesize(so);
  nn::ModelDescription& m = run.model;
  m.network.filters = 8;
  m.network.depth = 3;
  m.loss.kind = "logistic";
  const SynthVolume& v = run.volume;
  nn::Split split = nn::split_validation(nn::make_sections(v.image, v.mitochondria, "image", "mitochondria", m.target), "1");
  nn::TrainOptions o;
  o.steps = 200;
  o.patch = 64;
  o.batch = 4;
  o.learning_rate = 2e-3;
  o.validate_every = 200;
  o.checkpoint_every = 200;
  o.log_every = 20;
  const auto quiet = [](const std::string&) {};
  nn::train(m, o, split, dir / "cpu", false, quiet);
  o.device = gpu;
  nn::train(m, o, split, dir / "gpu", false, quiet);
  run.cpu_loss = logged_losses(dir / "cpu" / nn::training_log);
  run.gpu_loss = logged_losses(dir / "gpu" / nn::training_log);
  REQUIRE(run.cpu_loss.size() == 10);
  REQUIRE(run.gpu_loss.size() == 10);
  MESSAGE("U-Net loss CPU " << run.cpu_loss[0] << " -> " << run.cpu_loss[9] << ", GPU in " << cuda::precision_name(precision)
                            << " " << run.gpu_loss[0] << " -> " << run.gpu_loss[9]);
  return run;
}

}  // namespace

TEST_CASE("a U-Net trained 200 steps on the GPU reaches the CPU's loss; it then predicts on the CPU") {
  PrecisionScope fp32(cuda::Precision::fp32);  // the predictions below too
  TempDir dir;
  const UnetRun run = train_unet(dir, cuda::Precision::fp32);
  const auto &cpu_loss = run.cpu_loss, &gpu_loss = run.gpu_loss;
  const SynthVolume& v = run.volume;
  const nn::ModelDescription& m = run.model;
  CHECK(gpu_loss[0] == doctest::Approx(cpu_loss[0]).epsilon(1e-3));
  CHECK(gpu_loss[9] == doctest::Approx(cpu_loss[9]).epsilon(0.05));
  CHECK(gpu_loss[9] < 0.7 * gpu_loss[0]);

  // The GPU-trained folder predicts on either device alike.
  nn::LoadedModel on_cpu = nn::load_model(dir / "gpu", "last"), on_gpu = nn::load_model(dir / "gpu", "last");
  on_gpu.network->to(gpu);
  const auto image = nn::image_section(v.image, 0);
  const auto a = nn::predict_section(*on_cpu.network, m.loss, image.data(), v.image.ny(), v.image.nx(), {.tile = 128});
  const auto b = nn::predict_section(*on_gpu.network, m.loss, image.data(), v.image.ny(), v.image.nx(), {.tile = 128});
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(a[i] - b[i])));
  CHECK(worst < 1e-3);
}

TEST_CASE("a U-Net trained 200 steps with bf16 convolutions stays near the CPU's fp32 loss") {
  TempDir dir;
  const UnetRun run = train_unet(dir, cuda::Precision::bf16);
  CHECK(run.gpu_loss[0] == doctest::Approx(run.cpu_loss[0]).epsilon(2e-2));
  CHECK(run.gpu_loss[9] == doctest::Approx(run.cpu_loss[9]).epsilon(0.15));
  CHECK(run.gpu_loss[9] < 0.7 * run.gpu_loss[0]);
}

TEST_CASE("an FFN trained 200 steps on the GPU reaches the CPU's loss") {
  PrecisionScope fp32(cuda::Precision::fp32);
  TempDir dir;
  SynthOptions so;
  so.nz = 24, so.ny = 64, so.nx = 64;
  so.voxel_size = {12, 6, 6, true};
  const SynthVolume v = synthesize(so);
  nn::ffn::ModelDescription m;
  m.network = {.depth = 3, .filters = 16, .fov = {5, 9, 9}, .deltas = {1, 2, 2}};
  m.image_mean = 145;
  m.image_stddev = 45;
  nn::ffn::PrepOptions p;
  p.radius = p.margin = m.network.example_radius();
  p.min_size = 500;
  nn::ffn::TrainingData data;
  data.images.push_back(v.image);
  data.labels.push_back(v.neurons);
  data.margin = p.margin;
  for (const auto& c : nn::ffn::sample_coordinates({nn::ffn::object_mask_classes(v.neurons, p, "neurons")}, p).coordinates)
    data.coordinates.push_back(c);
  nn::ffn::TrainOptions o;
  o.optimizer = "adam";
  o.steps = 200;
  o.log_every = 20;
  o.checkpoint_every = 200;
  const auto quiet = [](const std::string&) {};
  const auto cpu = nn::ffn::train(m, o, data, dir / "cpu", false, quiet);
  o.device = gpu;
  const auto dev = nn::ffn::train(m, o, data, dir / "gpu", false, quiet);
  const auto cpu_loss = logged_losses(dir / "cpu" / nn::ffn::training_log);
  const auto gpu_loss = logged_losses(dir / "gpu" / nn::ffn::training_log);
  REQUIRE(cpu_loss.size() == 10);
  REQUIRE(gpu_loss.size() == 10);
  MESSAGE("FFN loss CPU " << cpu_loss[0] << " -> " << cpu_loss[9] << ", GPU " << gpu_loss[0] << " -> " << gpu_loss[9]
                          << "; F1 CPU " << cpu.f1 << ", GPU " << dev.f1);
  CHECK(gpu_loss[0] == doctest::Approx(cpu_loss[0]).epsilon(1e-3));
  CHECK(gpu_loss[9] == doctest::Approx(cpu_loss[9]).epsilon(0.05));
  CHECK(gpu_loss[9] < 0.8 * gpu_loss[0]);
}
