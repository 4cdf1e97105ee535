#include "core/optim.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/autograd.h"
#include "core/backend.h"
#include "core/error.h"
#include "core/ops/ops.h"

namespace uniem {

Optimizer::Optimizer(NamedTensors parameters) : parameters_(std::move(parameters)) {
  for (const auto& p : parameters_)
    if (!p.tensor.defined() || !p.tensor.requires_grad() || p.tensor.grad_fn())
      throw Error("optimizer: parameter '" + p.name + "' is not a leaf tensor that requires a gradient");
}

void Optimizer::zero_grad() {
  for (auto& p : parameters_) p.tensor.zero_grad();
}

Sgd::Sgd(NamedTensors parameters, SgdParams p) : Optimizer(std::move(parameters)), p_(p) {
  for (const auto& q : parameters_)
    momentum_.push_back(p_.momentum != 0 ? Tensor::zeros(q.tensor.shape(), q.tensor.dtype(), q.tensor.device())
                                         : Tensor());
}

void Sgd::step() {
  ++steps_;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    Tensor& w = parameters_[i].tensor;
    if (!w.grad().defined()) continue;
    Tensor data = w.detach();
    backend(w.device()).sgd_step(p_, data, w.grad(), momentum_[i]);
  }
}

NamedTensors Sgd::state() {
  NamedTensors s;
  for (size_t i = 0; i < parameters_.size(); ++i)
    if (momentum_[i].defined()) s.push_back({parameters_[i].name + ".momentum", momentum_[i]});
  return s;
}

Adam::Adam(NamedTensors parameters, AdamParams p) : Optimizer(std::move(parameters)), p_(p) {
  for (const auto& q : parameters_) {
    m_.push_back(Tensor::zeros(q.tensor.shape(), q.tensor.dtype(), q.tensor.device()));
    v_.push_back(Tensor::zeros(q.tensor.shape(), q.tensor.dtype(), q.tensor.device()));
  }
}

void Adam::step() {
  ++steps_;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    Tensor& w = parameters_[i].tensor;
    if (!w.grad().defined()) continue;
    Tensor data = w.detach();
    backend(w.device()).adam_step(p_, steps_, data, w.grad(), m_[i], v_[i]);
  }
}

NamedTensors Adam::state() {
  NamedTensors s;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    s.push_back({parameters_[i].name + ".adam_m", m_[i]});
    s.push_back({parameters_[i].name + ".adam_v", v_[i]});
  }
  return s;
}

WeightAverage::WeightAverage(NamedTensors tensors, double decay) : tensors_(std::move(tensors)), decay_(decay) {
  if (!(decay > 0 && decay < 1)) throw UsageError("the weight-average decay must lie between 0 and 1, got " + std::to_string(decay));
  for (const auto& t : tensors_) held_.push_back(t.tensor.detach().clone());
}

void WeightAverage::update() {
  if (swapped_) throw Error("WeightAverage::update while the average is swapped in");
  ++updates_;
  const double t = static_cast<double>(updates_), d = std::min(decay_, (1 + t) / (10 + t));
  for (size_t i = 0; i < tensors_.size(); ++i) {  // average += (1 - d) (weight - average)
    const Tensor w = tensors_[i].tensor.detach();
    Tensor difference = Tensor::empty(w.shape(), w.dtype(), w.device());
    Backend& b = backend(w.device());
    b.binary(BinaryOp::sub, w, held_[i], difference);
    b.unary(UnaryOp::mul_scalar, {1 - d, 0}, difference, difference);
    b.binary(BinaryOp::add, held_[i], difference, held_[i]);
  }
}

void WeightAverage::swap() {
  for (size_t i = 0; i < tensors_.size(); ++i) {
    Tensor w = tensors_[i].tensor.detach();
    const Tensor values = w.clone();
    Backend& b = backend(w.device());
    b.copy(held_[i], w);
    b.copy(values, held_[i]);
  }
  swapped_ = !swapped_;
}

NamedTensors WeightAverage::held(const std::string& suffix) const {
  NamedTensors out;
  for (size_t i = 0; i < tensors_.size(); ++i) out.push_back({tensors_[i].name + suffix, held_[i]});
  return out;
}

void clip_grad_value(const NamedTensors& parameters, double limit) {
  for (const auto& p : parameters) {
    Tensor g = p.tensor.grad();
    if (g.defined()) backend(g.device()).unary(UnaryOp::clamp, {-limit, limit}, g, g);
  }
}

double clip_grad_norm(const NamedTensors& parameters, double max_norm) {
  NoGradScope no_grad;
  double total = 0;
  for (const auto& p : parameters)
    if (p.tensor.grad().defined()) total += ops::sum(ops::square(p.tensor.grad())).item();
  const double norm = std::sqrt(total);
  if (norm > max_norm) {
    const double scale = max_norm / (norm + 1e-6);
    for (const auto& p : parameters) {
      Tensor g = p.tensor.grad();
      if (g.defined()) backend(g.device()).unary(UnaryOp::mul_scalar, {scale, 0}, g, g);
    }
  }
  return norm;
}

double LearningRateSchedule::at(int64_t step) const {
  if (step < warmup_steps) return base * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  const int64_t s = step - warmup_steps;
  switch (kind) {
    case Kind::constant: return base;
    case Kind::step: return base * std::pow(gamma, static_cast<double>(s / std::max<int64_t>(step_size, 1)));
    case Kind::cosine: {
      const int64_t span = std::max<int64_t>(total_steps - warmup_steps, 1);
      const double t = std::min(1.0, static_cast<double>(s) / static_cast<double>(span));
      return minimum + 0.5 * (base - minimum) * (1 + std::cos(std::numbers::pi * t));
    }
  }
  return base;
}

LearningRateSchedule LearningRateSchedule::named(const std::string& name, double base, int64_t steps) {
  LearningRateSchedule s;
  s.base = base;
  s.total_steps = steps;
  if (name == "cosine") {
    s.kind = Kind::cosine;
  } else if (name == "step") {
    s.kind = Kind::step;
    s.step_size = std::max<int64_t>(1, steps / 3);
  } else if (name != "constant") {
    throw UsageError("--schedule takes constant, cosine or step, not '" + name + "'");
  }
  return s;
}

}  // namespace uniem
