#include "nn/training_samples.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "io/atomic_output.h"
#include "io/png.h"
#include "nn/validation.h"

namespace uniem::nn {

std::filesystem::path sample_file(const std::filesystem::path& model, int64_t step) {
  return model / samples_folder / ("step-" + std::to_string(step) + ".png");
}

void write_sample_picture(const std::filesystem::path& file, const std::vector<std::vector<float>>& panels, int64_t h,
                          int64_t w, int64_t scale) {
  const int64_t gap = 4, ph = h * scale, pw = w * scale, n = static_cast<int64_t>(panels.size());
  Volume picture(DType::u8, 1, ph, n * pw + (n - 1) * gap);
  uint8_t* p = picture.slice<uint8_t>(0);
  std::fill(p, p + picture.slice_elements(), uint8_t{255});
  for (int64_t k = 0; k < n; ++k)
    for (int64_t y = 0; y < ph; ++y)
      for (int64_t x = 0; x < pw; ++x) {
        const float v = panels[static_cast<size_t>(k)][static_cast<size_t>((y / scale) * w + x / scale)];
        p[y * picture.nx() + k * (pw + gap) + x] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255));
      }
  std::filesystem::create_directories(file.parent_path());
  write_file_atomically(file, encode_png(picture, 0, 6), true);
}

void write_training_sample(Network& network, const LossConfig& loss, const Section& full, const TileOptions& tiles,
                           const std::filesystem::path& file) {
  const int64_t side = 256;
  const int64_t h = std::min(side, full.height), w = std::min(side, full.width);
  const Section s = full.region((full.height - h) / 2, h, (full.width - w) / 2, w, " (centre)");
  const int64_t n = h * w, k = network.config().out_channels;
  const auto probabilities = predict_section(network, loss, s.image.data(), h, w, tiles);
  const bool classes = loss.softmax();
  const auto predicted = classes ? predicted_target(loss, probabilities, k, n, 0.5) : std::vector<uint8_t>();
  std::vector<float> input(s.image.begin(), s.image.begin() + n), output(static_cast<size_t>(n)), target(static_cast<size_t>(n));
  const float spread = k > 1 ? static_cast<float>(k - 1) : 1.0f;
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    output[i] = classes ? static_cast<float>(predicted[i]) / spread : probabilities[i];
    const uint8_t t = s.target[i];
    target[i] = t == ignored ? 0.5f : classes ? static_cast<float>(t) / spread : (t ? 1.0f : 0.0f);
  }
  write_sample_picture(file, {input, output, target}, h, w);
}

}  // namespace uniem::nn
