// Tensor: the n-dimensional array under every network in uniem.
//
// Contract:
// - Up to 5 dimensions, conventionally (N, C, D, H, W) for volumes and (N, C, H, W) for images.
// - Always contiguous, row-major. A tensor is a handle: copies share the same storage and autograd
//   state. Views that need no copy (reshape, detach, narrow along dimension 0) share the storage
//   with the original; everything else allocates.
// - dtype: float32 for everything learned; float64 on the CPU for gradient checks; int32 for class
//   labels and pooling indices; uint8 for masks.
// - device: where the storage lives. Every op runs on its inputs' device through the one backend
//   registered for it (core/backend.h); moving between devices is explicit (to()).
// - Autograd state (requires_grad, grad, the node that produced it) is described in core/autograd.h.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace uniem {

enum class ScalarType : uint8_t { f32, f64, i32, u8 };
size_t scalar_size(ScalarType t);
const char* scalar_name(ScalarType t);

enum class DeviceKind : uint8_t { cpu, cuda };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;
  static Device cpu() { return {}; }
  static Device cuda(int i = 0) { return {DeviceKind::cuda, i}; }
  bool operator==(const Device&) const = default;
  std::string str() const;  // "cpu", "cuda:0"
};

// A shape of rank 0..5. Rank 0 is a scalar with one element.
class Shape {
 public:
  static constexpr int max_rank = 5;
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);
  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(i < 0 ? i + rank_ : i)]; }
  int64_t& operator[](int i) { return dims_[static_cast<size_t>(i < 0 ? i + rank_ : i)]; }
  int64_t numel() const;
  std::vector<int64_t> vec() const { return {dims_.begin(), dims_.begin() + rank_}; }
  bool operator==(const Shape& o) const;
  std::string str() const;  // "(2, 3, 7, 5)"

 private:
  std::array<int64_t, max_rank> dims_{};
  int rank_ = 0;
};

// Raw memory on one device, freed by whoever allocated it (the backend's deleter).
struct Storage {
  std::shared_ptr<void> data;
  size_t bytes = 0;
  Device device;
};

struct Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false

  // Allocation. Contents of empty() are unspecified.
  static Tensor empty(const Shape& shape, ScalarType dtype = ScalarType::f32, Device device = {});
  static Tensor zeros(const Shape& shape, ScalarType dtype = ScalarType::f32, Device device = {});
  static Tensor ones(const Shape& shape, ScalarType dtype = ScalarType::f32, Device device = {});
  static Tensor full(const Shape& shape, double value, ScalarType dtype = ScalarType::f32, Device device = {});
  static Tensor scalar(double value, ScalarType dtype = ScalarType::f32, Device device = {});
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device = {});
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape, Device device = {});
  static Tensor from_vector(const std::vector<int32_t>& values, const Shape& shape, Device device = {});
  static Tensor from_vector(const std::vector<uint8_t>& values, const Shape& shape, Device device = {});

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int rank() const { return shape().rank(); }
  int64_t size(int dim) const { return shape()[dim]; }
  int64_t numel() const { return shape().numel(); }
  ScalarType dtype() const;
  Device device() const;
  size_t bytes() const { return static_cast<size_t>(numel()) * scalar_size(dtype()); }

  // Host access; the tensor must be on the CPU and of type T.
  template <typename T> T* data();
  template <typename T> const T* data() const;
  void* raw_data();  // any device
  const void* raw_data() const;
  // The values as doubles / one value, copied to the host from any device.
  std::vector<double> to_vector() const;
  double item() const;  // numel() must be 1

  // Views sharing storage (no copy). reshape accepts one -1 dimension.
  Tensor reshape(const Shape& shape) const;
  Tensor narrow0(int64_t start, int64_t length) const;  // rows [start, start + length) of dimension 0
  Tensor detach() const;  // same storage, outside the graph

  // Copies.
  Tensor clone() const;  // same device, same dtype, new storage, outside the graph
  Tensor to(Device device) const;
  Tensor to(ScalarType dtype) const;
  void copy_from(const Tensor& src);  // same shape; converts dtype and device
  // Moves this tensor's storage (and gradient) to `device` in place: every handle to it sees the
  // move, so a network's layers and its parameter list move together. Views made earlier keep
  // the old storage.
  void move_to(Device device);

  // Autograd (core/autograd.h).
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on = true);  // leaves only
  Tensor grad() const;                        // undefined until a backward pass reaches this leaf
  void zero_grad();                           // drops the accumulated gradient
  const std::shared_ptr<Node>& grad_fn() const;
  void backward() const;  // from a scalar (numel() == 1); see core/autograd.h

  bool same_storage(const Tensor& o) const;
  TensorImpl* impl() const { return impl_.get(); }
  long impl_use_count() const { return impl_.use_count(); }
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  ScalarType dtype = ScalarType::f32;
  bool requires_grad = false;
  Tensor grad;                    // accumulated gradient of a leaf
  std::shared_ptr<Node> grad_fn;  // the op that produced this tensor; null for leaves
};

// A tensor with the name it is saved under ("enc1.conv.weight").
struct NamedTensor {
  std::string name;
  Tensor tensor;
};
using NamedTensors = std::vector<NamedTensor>;

// move_to for every tensor of the list.
void move_to(const NamedTensors& tensors, Device device);

// Human-readable "f32 (2, 3, 7, 5) on cpu" for messages.
std::string describe(const Tensor& t);

}  // namespace uniem
