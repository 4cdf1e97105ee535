// The per-element formulas and small index helpers that the CPU backend (core/cpu/) and the CUDA
// backend (cuda/) both compute, written once so the two cannot drift apart: unary ops and their
// derivatives, binary ops, the point-wise losses and their derivatives, the per-pixel index of a
// weight or mask, the pooling geometry, and the dtype dispatch. The formulas are host/device
// inline functions (core/host_device.h); std:: math is usable on both sides, std::min/max are not.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/host_device.h"
#include "core/params.h"
#include "core/tensor.h"

namespace uniem::kernel {

template <typename T>
UNIEM_HOST_DEVICE inline T unary_value(UnaryOp op, UnaryArgs a, T x) {
  switch (op) {
    case UnaryOp::relu: return x > T(0) ? x : T(0);
    case UnaryOp::leaky_relu: return x > T(0) ? x : static_cast<T>(a.a) * x;
    case UnaryOp::elu: return x > T(0) ? x : static_cast<T>(a.a) * (std::exp(x) - T(1));
    case UnaryOp::sigmoid: return T(1) / (T(1) + std::exp(-x));
    case UnaryOp::tanh: return std::tanh(x);
    case UnaryOp::exp: return std::exp(x);
    case UnaryOp::log: return std::log(x);
    case UnaryOp::neg: return -x;
    case UnaryOp::abs: return std::abs(x);
    case UnaryOp::sqrt: return std::sqrt(x);
    case UnaryOp::square: return x * x;
    case UnaryOp::add_scalar: return x + static_cast<T>(a.a);
    case UnaryOp::mul_scalar: return x * static_cast<T>(a.a);
    case UnaryOp::pow_scalar: return std::pow(x, static_cast<T>(a.a));
    case UnaryOp::rsub_scalar: return static_cast<T>(a.a) - x;
    case UnaryOp::rdiv_scalar: return static_cast<T>(a.a) / x;
    case UnaryOp::clamp: {
      const T low = static_cast<T>(a.a), high = static_cast<T>(a.b);
      const T up = x < low ? low : x;
      return up > high ? high : up;
    }
  }
  return x;
}

// dy/dx at x (with y = f(x) for the ops that prefer it).
template <typename T>
UNIEM_HOST_DEVICE inline T unary_derivative(UnaryOp op, UnaryArgs a, T x, T y) {
  switch (op) {
    case UnaryOp::relu: return x > T(0) ? T(1) : T(0);
    case UnaryOp::leaky_relu: return x > T(0) ? T(1) : static_cast<T>(a.a);
    case UnaryOp::elu: return x > T(0) ? T(1) : y + static_cast<T>(a.a);
    case UnaryOp::sigmoid: return y * (T(1) - y);
    case UnaryOp::tanh: return T(1) - y * y;
    case UnaryOp::exp: return y;
    case UnaryOp::log: return T(1) / x;
    case UnaryOp::neg: return T(-1);
    case UnaryOp::abs: return x > T(0) ? T(1) : x < T(0) ? T(-1) : T(0);
    case UnaryOp::sqrt: return T(0.5) / y;
    case UnaryOp::square: return T(2) * x;
    case UnaryOp::add_scalar: return T(1);
    case UnaryOp::mul_scalar: return static_cast<T>(a.a);
    case UnaryOp::pow_scalar: return static_cast<T>(a.a) * std::pow(x, static_cast<T>(a.a - 1));
    case UnaryOp::rsub_scalar: return T(-1);
    case UnaryOp::rdiv_scalar: return -y / x;
    case UnaryOp::clamp: return (x >= static_cast<T>(a.a) && x <= static_cast<T>(a.b)) ? T(1) : T(0);
  }
  return T(0);
}

template <typename T>
UNIEM_HOST_DEVICE inline T binary_value(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
  }
  return a;
}

template <typename T>
UNIEM_HOST_DEVICE inline T loss_value(PointwiseLoss kind, T x, T t) {
  switch (kind) {
    case PointwiseLoss::squared_error: return (x - t) * (x - t);
    case PointwiseLoss::absolute_error: return std::abs(x - t);
    case PointwiseLoss::sigmoid_cross_entropy:  // stable: max(x, 0) - x t + log(1 + e^-|x|)
      return (x < T(0) ? T(0) : x) - x * t + std::log1p(std::exp(-std::abs(x)));
  }
  return 0;
}

template <typename T>
UNIEM_HOST_DEVICE inline T loss_derivative(PointwiseLoss kind, T x, T t) {
  switch (kind) {
    case PointwiseLoss::squared_error: return T(2) * (x - t);
    case PointwiseLoss::absolute_error: return x > t ? T(1) : x < t ? T(-1) : T(0);
    case PointwiseLoss::sigmoid_cross_entropy: return T(1) / (T(1) + std::exp(-x)) - t;
  }
  return 0;
}

// Per-pixel weight or mask index for element i of x (N, C, S...): full shape or (N, 1, S...).
struct PixelIndex {
  int64_t channels = 1, inner = 1;
  bool per_pixel = false;  // the weight has one channel for all of x's
  UNIEM_HOST_DEVICE int64_t operator()(int64_t i) const {
    return per_pixel ? (i / (channels * inner)) * inner + i % inner : i;
  }
};

inline PixelIndex pixel_index(const Tensor& x, const Tensor& weight_or_mask) {
  PixelIndex p;
  if (!weight_or_mask.defined() || weight_or_mask.numel() == x.numel()) return p;
  p.per_pixel = true;
  p.channels = x.size(1);
  const int64_t outer = x.size(0) * x.size(1);
  p.inner = x.numel() / (outer > 1 ? outer : 1);
  return p;
}

// Pooling windows over (D, H, W) of planes = N * C: input d, h, w; output od, oh, ow.
struct PoolGeometry {
  int64_t planes, d, h, w, od, oh, ow;
  int64_t kd, kh, kw, sd, sh, sw, pd, ph, pw;
};

inline PoolGeometry pool_geometry(const PoolParams& p, const Shape& x, const Shape& y) {
  auto stride = [&](int i) { return int64_t{p.stride[i] > 0 ? p.stride[i] : p.kernel[i]}; };
  return {x[0] * x[1], x[2], x[3], x[4], y[2], y[3], y[4], p.kernel[0], p.kernel[1], p.kernel[2],
          stride(0), stride(1), stride(2), p.padding[0], p.padding[1], p.padding[2]};
}

// Calls f(T{}) with T the C++ type of a floating-point dtype.
template <typename F>
void dispatch_float(ScalarType t, F&& f) {
  if (t == ScalarType::f32) f(float{});
  else if (t == ScalarType::f64) f(double{});
  else throw Error(std::string("this operation needs a floating-point tensor, not ") + scalar_name(t));
}

// Calls f(T{}) for any dtype.
template <typename F>
void dispatch_any(ScalarType t, F&& f) {
  switch (t) {
    case ScalarType::f32: f(float{}); break;
    case ScalarType::f64: f(double{}); break;
    case ScalarType::i32: f(int32_t{}); break;
    case ScalarType::u8: f(uint8_t{}); break;
  }
}

}  // namespace uniem::kernel
