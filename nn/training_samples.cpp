#include "nn/training_samples.h"

#include <algorithm>
#include <cmath>

#include "io/atomic_output.h"
#include "io/png.h"
#include "nn/validation.h"

namespace uniem::nn {

void write_training_sample(Network& network, const LossConfig& loss, const Section& full, const TileOptions& tiles,
                           const std::filesystem::path& file) {
  const int64_t side = 256;
  const int64_t h = std::min(side, full.height), w = std::min(side, full.width);
  const Section s = full.region((full.height - h) / 2, h, (full.width - w) / 2, w, " (centre)");
  const int64_t n = h * w, gap = 4, k = network.config().out_channels;
  const auto probabilities = predict_section(network, loss, s.image.data(), h, w, tiles);
  const bool classes = loss.softmax();
  const auto predicted = classes ? predicted_target(loss, probabilities, k, n, 0.5) : std::vector<uint8_t>();
  Volume picture(DType::u8, 1, h, 3 * w + 2 * gap);
  uint8_t* p = picture.slice<uint8_t>(0);
  std::fill(p, p + picture.slice_elements(), uint8_t{255});
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      const int64_t i = y * w + x;
      uint8_t* row = p + y * picture.nx();
      row[x] = static_cast<uint8_t>(std::lround(std::clamp(s.image[static_cast<size_t>(i)], 0.0f, 1.0f) * 255));
      const double out = classes ? (k > 1 ? predicted[static_cast<size_t>(i)] * 255.0 / static_cast<double>(k - 1) : 0)
                                 : std::clamp(probabilities[static_cast<size_t>(i)], 0.0f, 1.0f) * 255.0;
      row[w + gap + x] = static_cast<uint8_t>(std::lround(out));
      const uint8_t t = s.target[static_cast<size_t>(i)];
      row[2 * (w + gap) + x] = t == ignored ? 128 : classes ? static_cast<uint8_t>(k > 1 ? t * 255 / (k - 1) : 0) : (t ? 255 : 0);
    }
  std::filesystem::create_directories(file.parent_path());
  write_file_atomically(file, encode_png(picture, 0, 6), true);
}

}  // namespace uniem::nn
