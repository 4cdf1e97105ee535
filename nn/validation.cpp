#include "nn/validation.h"

#include "core/image/label.h"
#include "core/image/metrics.h"
#include "core/image/watershed.h"

namespace uniem::nn {

nlohmann::json ValidationScores::to_json() const {
  nlohmann::json j = {{"jaccard", jaccard}, {"dice", dice}, {"precision", precision}, {"recall", recall}, {"pixels", pixels}};
  if (v_rand >= 0) j["v_rand"] = v_rand;
  if (v_rand_thinned >= 0) j["v_rand_thinned"] = v_rand_thinned;
  return j;
}

std::vector<uint8_t> predicted_target(const LossConfig& loss, const std::vector<float>& p, int64_t classes, int64_t pixels,
                                      double threshold) {
  if (!loss.softmax()) {
    std::vector<uint8_t> out(p.size());
    for (size_t i = 0; i < p.size(); ++i) out[i] = p[i] >= threshold ? 1 : 0;
    return out;
  }
  std::vector<uint8_t> out(static_cast<size_t>(pixels));
  for (int64_t i = 0; i < pixels; ++i) {
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c)
      if (p[static_cast<size_t>(c * pixels + i)] > p[static_cast<size_t>(best * pixels + i)]) best = c;
    out[static_cast<size_t>(i)] = static_cast<uint8_t>(best);
  }
  return out;
}

namespace {

// 4-connected components of the pixels where mask[i] == 1 and keep[i].
Volume components(const std::vector<uint8_t>& mask, const std::vector<uint8_t>& truth, int64_t h, int64_t w) {
  Volume v(DType::u8, 1, h, w);
  for (int64_t i = 0; i < h * w; ++i) v.data<uint8_t>()[i] = mask[static_cast<size_t>(i)] == 1 && truth[static_cast<size_t>(i)] != ignored;
  return label_components(v, Connectivity::c4, false).labels;
}

// The components grown over the rest of the section, through the valleys of 1 - probability.
Volume thinned(const Volume& components, const std::vector<float>& probability, int64_t h, int64_t w) {
  Volume landscape(DType::f32, 1, h, w);
  for (int64_t i = 0; i < h * w; ++i) landscape.data<float>()[i] = 1.0f - probability[static_cast<size_t>(i)];
  return watershed(landscape, components, nullptr, {Connectivity::c4, false});
}

}  // namespace

ValidationScores validate(Network& network, const LossConfig& loss, const TargetMapping& mapping,
                          const std::vector<Section>& sections, const TileOptions& tiles, double threshold) {
  ValidationScores s;
  const int64_t k = network.config().out_channels;
  const int64_t first = mapping.kind == "classes" ? 1 : 0;
  std::vector<int64_t> tp(static_cast<size_t>(k)), fp(tp.size()), fn(tp.size());
  double v_rand_sum = 0, thinned_sum = 0;
  for (const Section& section : sections) {
    const int64_t n = section.height * section.width;
    const auto probabilities = predict_section(network, loss, section.image.data(), section.height, section.width, tiles);
    const auto predicted = predicted_target(loss, probabilities, k, n, threshold);
    for (int64_t c = 0; c < section.target_channels; ++c)
      for (int64_t i = 0; i < n; ++i) {
        const uint8_t t = section.target[static_cast<size_t>(c * n + i)], p = predicted[static_cast<size_t>(c * n + i)];
        if (t == ignored) continue;
        if (c == 0) ++s.pixels;
        if (mapping.kind == "classes") {
          if (t == p) ++tp[t];
          else {
            ++fn[t];
            ++fp[p];
          }
        } else {
          tp[static_cast<size_t>(c)] += t && p;
          fp[static_cast<size_t>(c)] += !t && p;
          fn[static_cast<size_t>(c)] += t && !p;
        }
      }
    if (mapping.kind == "binary") {
      const Volume truth = components(section.target, section.target, section.height, section.width);
      const Volume segmentation = components(predicted, section.target, section.height, section.width);
      v_rand_sum += instance_scores(contingency_table(segmentation, truth, true)).v_rand;
      thinned_sum += instance_scores(contingency_table(thinned(segmentation, probabilities, section.height, section.width), truth, true)).v_rand;
    }
  }
  int64_t counted = 0;
  for (int64_t c = first; c < k; ++c) {
    const auto i = static_cast<size_t>(c);
    const double t = static_cast<double>(tp[i]), union_ = static_cast<double>(tp[i] + fp[i] + fn[i]);
    s.jaccard += union_ > 0 ? t / union_ : 1;
    s.dice += union_ > 0 ? 2 * t / (union_ + t) : 1;
    s.precision += tp[i] + fp[i] > 0 ? t / static_cast<double>(tp[i] + fp[i]) : 1;
    s.recall += tp[i] + fn[i] > 0 ? t / static_cast<double>(tp[i] + fn[i]) : 1;
    ++counted;
  }
  if (counted > 0) {
    s.jaccard /= static_cast<double>(counted);
    s.dice /= static_cast<double>(counted);
    s.precision /= static_cast<double>(counted);
    s.recall /= static_cast<double>(counted);
  }
  if (mapping.kind == "binary" && !sections.empty()) {
    s.v_rand = v_rand_sum / static_cast<double>(sections.size());
    s.v_rand_thinned = thinned_sum / static_cast<double>(sections.size());
  }
  return s;
}

}  // namespace uniem::nn
