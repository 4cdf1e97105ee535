// Gradient checks: analytic gradients from backward() against central finite differences, all in
// double precision on the CPU.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops/ops.h"

namespace uniem::testing {

// A random f64 tensor (seeded) with every |value| >= min_abs, to stay away from kinks at 0.
inline Tensor random_input(const Shape& shape, uint64_t seed, double min_abs = 0.0, double scale = 1.0) {
  Generator g(seed);
  Tensor t = ops::randn(shape, g, 0, scale, ScalarType::f64);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (std::abs(p[i]) < min_abs) p[i] = p[i] < 0 ? -min_abs - std::abs(p[i]) : min_abs + p[i];
  return t;
}

// sum(y * r) for a fixed random r of y's shape: every output element gets a distinct upstream
// gradient, so a wrong index in a backward rule cannot cancel out.
inline Tensor project(const Tensor& y) {
  Generator g(4242);
  return ops::sum(ops::mul(y, ops::randn(y.shape(), g, 0, 1, y.dtype())));
}

// Checks d f(inputs) / d inputs[i] for every input that requires a gradient.
inline void check_gradients(const std::string& what, const std::function<Tensor(const std::vector<Tensor>&)>& f,
                            std::vector<Tensor> inputs, double eps = 1e-6, double tolerance = 1e-6) {
  INFO(what);
  for (auto& t : inputs) t.zero_grad();
  Tensor out = f(inputs);
  REQUIRE(out.numel() == 1);
  out.backward();
  NoGradScope no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    REQUIRE_MESSAGE(x.grad().defined(), "no gradient reached input " << k);
    const std::vector<double> analytic = x.grad().to_vector();
    double* p = x.data<double>();
    double worst = 0;
    int64_t worst_at = -1;
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double keep = p[i];
      p[i] = keep + eps;
      const double up = f(inputs).item();
      p[i] = keep - eps;
      const double down = f(inputs).item();
      p[i] = keep;
      const double numeric = (up - down) / (2 * eps);
      const double error = std::abs(numeric - analytic[static_cast<size_t>(i)]) / (1.0 + std::abs(numeric));
      if (error > worst) {
        worst = error;
        worst_at = i;
      }
    }
    CHECK_MESSAGE(worst <= tolerance, "input " << k << " element " << worst_at << ": relative error " << worst);
  }
}

}  // namespace uniem::testing
