// Optimizers, gradient clipping and learning-rate schedules.
//
// An optimizer holds the parameters (leaf tensors with requires_grad) and their state. step()
// applies one update from the gradients accumulated since zero_grad(); parameters without a
// gradient are skipped. Updates run in place on the parameters' device through the backend's fused
// kernels. state() names every state tensor ("<parameter>.momentum", ".adam_m", ".adam_v") so a
// checkpoint can save and restore it; steps() counts the updates (Adam's bias correction uses it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/params.h"
#include "core/tensor.h"

namespace uniem {

class Optimizer {
 public:
  explicit Optimizer(NamedTensors parameters);
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  virtual const char* kind() const = 0;  // "sgd", "adam", "adamw"
  void zero_grad();
  virtual double learning_rate() const = 0;
  virtual void set_learning_rate(double lr) = 0;
  int64_t steps() const { return steps_; }
  void set_steps(int64_t s) { steps_ = s; }
  const NamedTensors& parameters() const { return parameters_; }
  // The state tensors, created on first use; restoring copies values into them.
  virtual NamedTensors state() = 0;

 protected:
  NamedTensors parameters_;
  int64_t steps_ = 0;
};

class Sgd final : public Optimizer {
 public:
  Sgd(NamedTensors parameters, SgdParams p);
  void step() override;
  const char* kind() const override { return "sgd"; }
  double learning_rate() const override { return p_.lr; }
  void set_learning_rate(double lr) override { p_.lr = lr; }
  NamedTensors state() override;

 private:
  SgdParams p_;
  std::vector<Tensor> momentum_;  // one per parameter, undefined without momentum
};

// Adam (Kingma & Ba 2015); with decoupled = true, AdamW (Loshchilov & Hutter 2019).
class Adam final : public Optimizer {
 public:
  Adam(NamedTensors parameters, AdamParams p);
  void step() override;
  const char* kind() const override { return p_.decoupled ? "adamw" : "adam"; }
  double learning_rate() const override { return p_.lr; }
  void set_learning_rate(double lr) override { p_.lr = lr; }
  NamedTensors state() override;

 private:
  AdamParams p_;
  std::vector<Tensor> m_, v_;
};

// An exponential moving average of the weights (Polyak averaging) with TensorFlow's warm-up: the
// t-th update uses decay min(decay, (1 + t) / (10 + t)), so the average soon leaves the random
// start. Validating and saving the average rather than the last weights gives a steadier model
// when the validation score swings from one check to the next. The tensors may be parameters
// and batch-norm statistics, on any device. swap() exchanges the averages and the tensors'
// values in place: the network then holds the average (to validate or save it) and the average's
// place the training weights; swap() again to continue training. held() names the copies not in
// the network now "<name><suffix>", for a checkpoint to save and restore.
class WeightAverage {
 public:
  WeightAverage(NamedTensors tensors, double decay);
  void update();  // after each optimizer step
  void swap();
  bool swapped() const { return swapped_; }
  int64_t updates() const { return updates_; }
  void set_updates(int64_t n) { updates_ = n; }
  NamedTensors held(const std::string& suffix) const;

 private:
  NamedTensors tensors_;
  std::vector<Tensor> held_;
  double decay_;
  int64_t updates_ = 0;
  bool swapped_ = false;
};

// Clamps every gradient element to [-limit, limit].
void clip_grad_value(const NamedTensors& parameters, double limit);
// Scales all gradients together so their global L2 norm is at most max_norm; returns the norm
// before clipping.
double clip_grad_norm(const NamedTensors& parameters, double max_norm);

// Learning rate at a step (counting from 0).
struct LearningRateSchedule {
  enum class Kind { constant, step, cosine } kind = Kind::constant;
  double base = 1e-3;
  int64_t step_size = 1000;  // step: multiply by gamma every step_size steps
  double gamma = 0.1;
  int64_t total_steps = 0;   // cosine: decay from base to minimum over total_steps
  double minimum = 0;
  int64_t warmup_steps = 0;  // linear warm-up from 0 before either schedule
  double at(int64_t step) const;
  // The schedules the training commands offer by name over `steps` steps: constant, cosine
  // (to 0 at the last step) or step (x0.1 every third of the steps); UsageError otherwise.
  static LearningRateSchedule named(const std::string& name, double base, int64_t steps);
};

}  // namespace uniem
