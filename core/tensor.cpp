#include "core/tensor.h"

#include <cstring>
#include <sstream>

#include "core/autograd.h"
#include "core/backend.h"
#include "core/error.h"

namespace uniem {

size_t scalar_size(ScalarType t) {
  switch (t) {
    case ScalarType::f32: return 4;
    case ScalarType::f64: return 8;
    case ScalarType::i32: return 4;
    case ScalarType::u8: return 1;
  }
  return 0;
}

const char* scalar_name(ScalarType t) {
  switch (t) {
    case ScalarType::f32: return "f32";
    case ScalarType::f64: return "f64";
    case ScalarType::i32: return "i32";
    case ScalarType::u8: return "u8";
  }
  return "?";
}

std::string Device::str() const {
  return kind == DeviceKind::cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
}

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::vector<int64_t>(dims)) {}

Shape::Shape(const std::vector<int64_t>& dims) {
  if (dims.size() > static_cast<size_t>(max_rank))
    throw Error("tensor shapes have at most 5 dimensions, got " + std::to_string(dims.size()));
  rank_ = static_cast<int>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < -1) throw Error("negative tensor dimension " + std::to_string(dims[i]));  // -1: reshape infers it
    dims_[i] = dims[i];
  }
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<size_t>(i)];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[static_cast<size_t>(i)] != o.dims_[static_cast<size_t>(i)]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "(";
  for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(dims_[static_cast<size_t>(i)]);
  return s + ")";
}

std::string describe(const Tensor& t) {
  if (!t.defined()) return "undefined tensor";
  return std::string(scalar_name(t.dtype())) + " " + t.shape().str() + " on " + t.device().str();
}

// ---------------------------------------------------------------- construction

Tensor Tensor::empty(const Shape& shape, ScalarType dtype, Device device) {
  for (int i = 0; i < shape.rank(); ++i)
    if (shape[i] < 0) throw Error("cannot allocate a tensor of shape " + shape.str());
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->dtype = dtype;
  impl->storage = backend(device).allocate(static_cast<size_t>(shape.numel()) * scalar_size(dtype), device);
  return Tensor(std::move(impl));
}

Tensor Tensor::full(const Shape& shape, double value, ScalarType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  backend(device).fill(t, value);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, ScalarType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor Tensor::ones(const Shape& shape, ScalarType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor Tensor::scalar(double value, ScalarType dtype, Device device) { return full(Shape{}, value, dtype, device); }

namespace {
template <typename T>
Tensor from_host(const std::vector<T>& values, const Shape& shape, ScalarType dtype, Device device) {
  if (static_cast<int64_t>(values.size()) != shape.numel())
    throw Error("from_vector: " + std::to_string(values.size()) + " values for shape " + shape.str());
  Tensor t = Tensor::empty(shape, dtype, device);
  backend(device).copy_from_host(values.data(), t);
  return t;
}
}  // namespace

Tensor Tensor::from_vector(const std::vector<float>& v, const Shape& s, Device d) { return from_host(v, s, ScalarType::f32, d); }
Tensor Tensor::from_vector(const std::vector<double>& v, const Shape& s, Device d) { return from_host(v, s, ScalarType::f64, d); }
Tensor Tensor::from_vector(const std::vector<int32_t>& v, const Shape& s, Device d) { return from_host(v, s, ScalarType::i32, d); }
Tensor Tensor::from_vector(const std::vector<uint8_t>& v, const Shape& s, Device d) { return from_host(v, s, ScalarType::u8, d); }

// ---------------------------------------------------------------- access

const Shape& Tensor::shape() const {
  UNIEM_CHECK(impl_, "shape() of an undefined tensor");
  return impl_->shape;
}
ScalarType Tensor::dtype() const {
  UNIEM_CHECK(impl_, "dtype() of an undefined tensor");
  return impl_->dtype;
}
Device Tensor::device() const {
  UNIEM_CHECK(impl_, "device() of an undefined tensor");
  return impl_->storage->device;
}

void* Tensor::raw_data() {
  return static_cast<char*>(impl_->storage->data.get()) + impl_->offset * static_cast<int64_t>(scalar_size(impl_->dtype));
}
const void* Tensor::raw_data() const { return const_cast<Tensor*>(this)->raw_data(); }

namespace {
template <typename T> constexpr ScalarType dtype_of();
template <> constexpr ScalarType dtype_of<float>() { return ScalarType::f32; }
template <> constexpr ScalarType dtype_of<double>() { return ScalarType::f64; }
template <> constexpr ScalarType dtype_of<int32_t>() { return ScalarType::i32; }
template <> constexpr ScalarType dtype_of<uint8_t>() { return ScalarType::u8; }
}  // namespace

template <typename T> T* Tensor::data() {
  UNIEM_CHECK(defined() && dtype() == dtype_of<T>() && device().kind == DeviceKind::cpu,
              "host data<" + std::string(scalar_name(dtype_of<T>())) + ">() of " + describe(*this));
  return static_cast<T*>(raw_data());
}
template <typename T> const T* Tensor::data() const { return const_cast<Tensor*>(this)->data<T>(); }
template float* Tensor::data<float>();
template double* Tensor::data<double>();
template int32_t* Tensor::data<int32_t>();
template uint8_t* Tensor::data<uint8_t>();
template const float* Tensor::data<float>() const;
template const double* Tensor::data<double>() const;
template const int32_t* Tensor::data<int32_t>() const;
template const uint8_t* Tensor::data<uint8_t>() const;

std::vector<double> Tensor::to_vector() const {
  Tensor host = to(Device::cpu()).to(ScalarType::f64);
  const double* p = host.data<double>();
  return {p, p + host.numel()};
}

double Tensor::item() const {
  if (numel() != 1) throw Error("item() of a tensor with " + std::to_string(numel()) + " elements");
  return to_vector()[0];
}

// ---------------------------------------------------------------- views and copies

Tensor Tensor::reshape(const Shape& shape) const {
  Shape s = shape;
  int free_dim = -1;
  int64_t known = 1;
  for (int i = 0; i < s.rank(); ++i) {
    if (s[i] == -1) {
      UNIEM_CHECK(free_dim < 0, "reshape with two -1 dimensions");
      free_dim = i;
    } else {
      known *= s[i];
    }
  }
  if (free_dim >= 0) s[free_dim] = known ? numel() / known : 0;
  if (s.numel() != numel())
    throw Error("cannot reshape " + describe(*this) + " to " + shape.str());
  Tensor out = detach();
  out.impl()->shape = s;
  // The view is differentiable: its gradient is the incoming one reshaped back.
  const Shape original = this->shape();
  record(out, "reshape", {*this}, [original](const Tensor& g) { return std::vector<Tensor>{g.reshape(original)}; });
  return out;
}

Tensor Tensor::narrow0(int64_t start, int64_t length) const {
  UNIEM_CHECK(rank() >= 1 && start >= 0 && length >= 0 && start + length <= size(0), "narrow0 out of range");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->dtype = impl_->dtype;
  impl->shape = impl_->shape;
  impl->shape[0] = length;
  impl->offset = impl_->offset + start * (numel() / std::max<int64_t>(1, size(0)));
  return Tensor(std::move(impl));
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = impl_->shape;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  backend(device()).copy(*this, out);
  return out;
}

Tensor Tensor::to(Device target) const {
  if (device() == target) return *this;
  Tensor out = empty(shape(), dtype(), target);
  out.copy_from(*this);
  return out;
}

Tensor Tensor::to(ScalarType target) const {
  if (dtype() == target) return *this;
  Tensor out = empty(shape(), target, device());
  backend(device()).cast(*this, out);
  return out;
}

void Tensor::copy_from(const Tensor& src) {
  if (!(src.shape() == shape()))
    throw Error("copy_from: " + describe(src) + " into " + describe(*this));
  // Convert the type where the data is, then move it: explicit and synchronous.
  const Tensor s = src.to(dtype());
  if (s.device() == device()) {
    backend(device()).copy(s, *this);
    return;
  }
  std::vector<unsigned char> host(s.bytes());
  backend(s.device()).copy_to_host(s, host.data());
  backend(device()).copy_from_host(host.data(), *this);
}

void Tensor::move_to(Device target) {
  if (device() == target) return;
  const Tensor moved = detach().to(target);
  impl_->storage = moved.impl_->storage;
  impl_->offset = 0;
  if (impl_->grad.defined()) impl_->grad = impl_->grad.to(target);
}

void move_to(const NamedTensors& tensors, Device device) {
  for (const NamedTensor& t : tensors) {
    Tensor handle = t.tensor;
    handle.move_to(device);
  }
}

bool Tensor::same_storage(const Tensor& o) const {
  return defined() && o.defined() && impl_->storage == o.impl_->storage;
}

// ---------------------------------------------------------------- autograd state

bool Tensor::requires_grad() const { return impl_ && (impl_->requires_grad || impl_->grad_fn); }

Tensor& Tensor::set_requires_grad(bool on) {
  UNIEM_CHECK(!impl_->grad_fn, "set_requires_grad on a non-leaf tensor");
  if (on && dtype() != ScalarType::f32 && dtype() != ScalarType::f64)
    throw Error("only floating-point tensors can require gradients, not " + describe(*this));
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return impl_->grad; }
void Tensor::zero_grad() { impl_->grad = Tensor(); }
const std::shared_ptr<Node>& Tensor::grad_fn() const { return impl_->grad_fn; }
void Tensor::backward() const { run_backward(*this); }

}  // namespace uniem
