// The differentiable ops of the runtime. Each checks its inputs (throwing Error with the shapes on
// a mismatch), allocates its output on the inputs' device, calls that device's backend and records
// its backward rule (core/autograd.h). The implementations are grouped by family in core/ops/.
//
// Shapes: images are (N, C, H, W), volumes (N, C, D, H, W). Inputs of one op must share device and
// dtype. Gradients of every op are checked against finite differences in tests/core/test_ops.cpp.
#pragma once

#include <vector>

#include "core/generator.h"
#include "core/params.h"
#include "core/tensor.h"

namespace uniem::ops {

// ---- element-wise (elementwise.cpp). Binary ops broadcast NumPy-style: shapes are aligned on the
// right and a dimension of size 1 stretches.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& x, double s);
Tensor sub(const Tensor& x, double s);
Tensor mul(const Tensor& x, double s);
Tensor div(const Tensor& x, double s);
Tensor rsub(double s, const Tensor& x);  // s - x
Tensor rdiv(double s, const Tensor& x);  // s / x
Tensor pow(const Tensor& x, double exponent);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor square(const Tensor& x);
Tensor clamp(const Tensor& x, double low, double high);

// ---- reductions (elementwise.cpp)
Tensor sum(const Tensor& x);   // all elements, shape ()
Tensor mean(const Tensor& x);  // all elements, shape ()
Tensor sum_to(const Tensor& x, const Shape& shape);  // over the dimensions broadcast from `shape`
// Sum over every dimension except 1 (channels), keeping rank: (N, C, ...) -> (1, C, 1, ...).
Tensor sum_per_channel(const Tensor& x);

// ---- shape (shape.cpp)
Tensor concat(const std::vector<Tensor>& parts, int dim = 1);
Tensor slice(const Tensor& x, int dim, int64_t start, int64_t length);
// Pads with zeros: low[i] and high[i] elements before and after dimension i (one entry per dim).
Tensor pad(const Tensor& x, const std::vector<int64_t>& low, const std::vector<int64_t>& high);
// The centre window of the spatial dimensions (all but N and C) with the given sizes; an odd
// difference leaves the extra element at the high end (the U-Net skip-connection crop).
Tensor centre_crop(const Tensor& x, const std::vector<int64_t>& spatial);

// ---- convolution (conv.cpp). w: (Cout, Cin, kH, kW) / (Cout, Cin, kD, kH, kW); b: (Cout) or
// undefined. Transposed: w (Cin, Cout, k...), output size (in - 1) * stride - 2 * pad +
// dilation * (k - 1) + output_padding + 1.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvParams& p = {});
Tensor conv3d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvParams& p = {});
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvParams& p = {});
Tensor conv_transpose3d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvParams& p = {});

// ---- pooling and upsampling (pool.cpp). Output size floor((in + 2 pad - kernel) / stride) + 1.
Tensor max_pool2d(const Tensor& x, const PoolParams& p = {});
Tensor max_pool3d(const Tensor& x, const PoolParams& p = {});
Tensor avg_pool2d(const Tensor& x, const PoolParams& p = {});
Tensor avg_pool3d(const Tensor& x, const PoolParams& p = {});
// (N, C, H, W) -> (N, C, height, width).
Tensor upsample2d(const Tensor& x, int64_t height, int64_t width, UpsampleMode mode = UpsampleMode::nearest);

// ---- normalisation and softmax (normalization.cpp). batch_norm: x (N, C, ...), gamma/beta/
// running_* (C). Training normalises with batch statistics and updates the running ones in place;
// evaluation uses the running statistics.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, bool training, const BatchNormParams& p = {});
Tensor softmax(const Tensor& x);      // over dimension 1
Tensor log_softmax(const Tensor& x);  // over dimension 1
// Zeroes each element with probability p and scales the rest by 1 / (1 - p) when training.
Tensor dropout(const Tensor& x, double p, bool training, Generator& generator);

// ---- random tensors (random.cpp)
Tensor rand(const Shape& shape, Generator& generator, double low = 0, double high = 1, ScalarType dtype = ScalarType::f32,
            Device device = {});
Tensor randn(const Shape& shape, Generator& generator, double mean = 0, double stddev = 1,
             ScalarType dtype = ScalarType::f32, Device device = {});

// ---- losses (loss.cpp), each a mean over the elements that count.
// weight: per-element factor (shape of the prediction, or (N, 1, ...) for every channel).
// mask: u8, 0 where the pixel is ignored (same shapes as weight). Masked pixels add nothing to the
// loss or the count; weights scale the loss but not the count.
struct LossOptions {
  Tensor weight;
  Tensor mask;
  Tensor class_weight;    // (K), softmax cross-entropy only
  int ignore_label = -1;  // softmax cross-entropy only: pixels with this label are ignored
};
Tensor mse_loss(const Tensor& prediction, const Tensor& target, const LossOptions& o = {});  // least squares
Tensor l1_loss(const Tensor& prediction, const Tensor& target, const LossOptions& o = {});   // UNI-EM "hinge"
// Logits and targets in [0, 1], element-wise (multi-label / logistic).
Tensor sigmoid_cross_entropy(const Tensor& logits, const Tensor& target, const LossOptions& o = {});
// Logits (N, K, ...), labels i32 (N, 1, ...) in 0..K-1.
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& labels, const LossOptions& o = {});
// Soft Dice: 1 - (2 sum(w p t) + smooth) / (sum(w p) + sum(w t) + smooth), with p probabilities.
Tensor dice_loss(const Tensor& probabilities, const Tensor& target, const LossOptions& o = {}, double smooth = 1.0);

}  // namespace uniem::ops
