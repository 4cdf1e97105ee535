#include "nn/ffn/import_tf.h"

#include "core/error.h"

namespace uniem::nn::ffn {

namespace {

const std::string scope = "seed_update/";

// A TF (kD, kH, kW, Cin, Cout) weight as (Cout, Cin, kD, kH, kW).
Tensor convert_weight(const TfTensor& t) {
  const int64_t kd = t.shape[0], kh = t.shape[1], kw = t.shape[2], ci = t.shape[3], co = t.shape[4];
  std::vector<float> out(t.values.size());
  for (int64_t d = 0; d < kd; ++d)
    for (int64_t h = 0; h < kh; ++h)
      for (int64_t w = 0; w < kw; ++w)
        for (int64_t i = 0; i < ci; ++i)
          for (int64_t o = 0; o < co; ++o)
            out[static_cast<size_t>((((o * ci + i) * kd + d) * kh + h) * kw + w)] =
                static_cast<float>(t.values[static_cast<size_t>((((d * kh + h) * kw + w) * ci + i) * co + o)]);
  return Tensor::from_vector(out, {co, ci, kd, kh, kw});
}

}  // namespace

ImportedWeights convert_convstack(const std::map<std::string, TfTensor>& tf, const std::string& where) {
  const auto fail = [&](const std::string& what) -> void {
    throw InputError(where + ": not a convstack_3d FFN checkpoint (" + what + ")");
  };
  ImportedWeights r;
  std::map<std::string, bool> used;
  for (const auto& [name, t] : tf)
    if (name.rfind(scope, 0) == 0) used[name] = false;
  if (used.empty()) fail("no variables under seed_update/");

  const auto take = [&](const std::string& layer, int64_t k, int64_t in, int64_t out) {
    const std::string w = scope + layer + "/weights", b = scope + layer + "/biases";
    if (!tf.count(w) || !tf.count(b)) fail("missing " + w + " or " + b);
    const TfTensor& tw = tf.at(w);
    const TfTensor& tb = tf.at(b);
    const std::vector<int64_t> want{k, k, k, in, out};
    if (tw.dtype != "float32" || tw.shape != want)
      fail(w + " has shape " + nlohmann::json(tw.shape).dump() + ", expected " + nlohmann::json(want).dump());
    if (tb.dtype != "float32" || tb.shape != std::vector<int64_t>{out}) fail(b + " does not have " + std::to_string(out) + " values");
    used[w] = used[b] = true;
    r.tensors[layer + ".weight"] = convert_weight(tw);
    std::vector<float> bias(tb.values.begin(), tb.values.end());
    r.tensors[layer + ".bias"] = Tensor::from_vector(bias, {out});
  };
  const std::string first = scope + "conv0_a/weights";
  if (!tf.count(first) || tf.at(first).shape.size() != 5) fail("missing " + first);
  r.filters = tf.at(first).shape[4];
  if (tf.at(first).shape[3] != 2) fail(first + " takes " + std::to_string(tf.at(first).shape[3]) + " input channels, not 2 (image and mask)");
  take("conv0_a", 3, 2, r.filters);
  take("conv0_b", 3, r.filters, r.filters);
  r.depth = 1;
  while (tf.count(scope + "conv" + std::to_string(r.depth) + "_a/weights")) {
    const std::string n = "conv" + std::to_string(r.depth);
    take(n + "_a", 3, r.filters, r.filters);
    take(n + "_b", 3, r.filters, r.filters);
    ++r.depth;
  }
  take("conv_lom", 1, r.filters, 1);
  for (const auto& [name, u] : used)
    if (!u) fail("unexpected variable " + name + " (a gap in the module numbers, or another model)");
  if (tf.count("global_step") && !tf.at("global_step").values.empty())
    r.step = static_cast<int64_t>(tf.at("global_step").values[0]);
  return r;
}

}  // namespace uniem::nn::ffn
