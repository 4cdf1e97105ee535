// Helpers shared by the op families in core/ops/: input checks and output allocation.
#pragma once

#include <string>
#include <type_traits>

#include "core/autograd.h"
#include "core/backend.h"
#include "core/error.h"
#include "core/ops/ops.h"

namespace uniem::ops::detail {

inline Backend& backend_of(const Tensor& t) { return backend(t.device()); }

// An uninitialised tensor of x's dtype and device.
inline Tensor empty_like(const Tensor& x, const Shape& shape) { return Tensor::empty(shape, x.dtype(), x.device()); }
inline Tensor empty_like(const Tensor& x) { return empty_like(x, x.shape()); }

// `what` is the message, or a callable that makes it: the checks run on every op, and building
// their messages (tensor descriptions) only when one fails keeps small ops cheap.
template <typename What>
inline void require(bool ok, const char* op, const What& what) {
  if (ok) [[likely]] return;
  if constexpr (std::is_invocable_v<What>) throw Error(std::string(op) + ": " + std::string(what()));
  else throw Error(std::string(op) + ": " + std::string(what));
}

inline void require_defined(const Tensor& t, const char* op, const char* name) {
  require(t.defined(), op, [&] { return std::string(name) + " is undefined"; });
}

inline void require_float(const Tensor& t, const char* op) {
  require(t.dtype() == ScalarType::f32 || t.dtype() == ScalarType::f64, op, [&] { return "needs a floating-point tensor, got " + describe(t); });
}

// Same dtype and device as the reference tensor.
inline void require_compatible(const Tensor& ref, const Tensor& t, const char* op) {
  if (!t.defined()) return;
  require(t.device() == ref.device(), op, [&] { return describe(t) + " and " + describe(ref) + " are on different devices"; });
}

inline void require_rank(const Tensor& t, int rank, const char* op) {
  require(t.rank() == rank, op, [&] { return "expects a " + std::to_string(rank) + "-D tensor, got " + describe(t); });
}

// (N, C, H, W) as (N, C, 1, H, W) for the 5-D backend kernels; 5-D tensors pass through.
inline Tensor as_5d(const Tensor& t) {
  if (t.rank() == 5) return t.detach();
  const Shape& s = t.shape();
  return t.detach().reshape(Shape{s[0], s[1], 1, s[2], s[3]});
}

}  // namespace uniem::ops::detail
