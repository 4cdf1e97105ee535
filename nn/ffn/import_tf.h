// Converting a TensorFlow checkpoint of upstream's convstack_3d FFN into a uniem FFN model.
//
// Upstream names its variables seed_update/conv0_a/{weights,biases}, seed_update/conv0_b/...,
// seed_update/conv{i}_{a,b}/... for the residual modules i = 1..depth-1, and
// seed_update/conv_lom/... for the 1x1x1 head; weights are (kD, kH, kW, Cin, Cout) and become
// uniem's (Cout, Cin, kD, kH, kW). The depth and the number of filters come from the checkpoint;
// the field of view and the deltas are not stored in it and come from the caller (a preset).
// Anything else under seed_update/, a gap in the module numbers or a shape that does not fit is
// refused as "not a convstack_3d checkpoint".
#pragma once

#include <filesystem>
#include <map>

#include "io/tf_checkpoint.h"
#include "nn/ffn/model.h"

namespace uniem::nn::ffn {

struct ImportedWeights {
  int64_t depth = 0, filters = 0, step = 0;
  std::map<std::string, Tensor> tensors;  // uniem names ("conv0_a.weight")
};

ImportedWeights convert_convstack(const std::map<std::string, TfTensor>& tf, const std::string& where);

}  // namespace uniem::nn::ffn
