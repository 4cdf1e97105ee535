// Volume: an owning container for a 2D or 3D image, the type io/ reads and writes and every image
// algorithm takes.
//
// Axis order is (z, y, x) everywhere in uniem, with an optional trailing channel axis c (1 for
// grey and labels, 3 for RGB kept as colour). A 2D image is a volume with nz = 1. Storage is
// contiguous, x fastest: element (z, y, x, c) is at ((z * ny + y) * nx + x) * channels + c, which
// strides() returns. Voxel types: uint8, uint16, uint32, uint64 (labels) and float32. The voxel
// size is in nanometres; `known` says whether it came from the file or an option, or is the
// 1 x 1 x 1 assumption. Copying a Volume copies its voxels; moving it does not. Storage is
// 64-byte aligned.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "core/error.h"
#include "core/storage.h"

namespace uniem {

enum class DType : uint8_t { u8, u16, u32, u64, f32 };

const char* dtype_name(DType t);  // "uint8", "uint16", "uint32", "uint64", "float32"
size_t dtype_size(DType t);
bool dtype_is_integer(DType t);

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<uint8_t>() { return DType::u8; }
template <> constexpr DType dtype_of<uint16_t>() { return DType::u16; }
template <> constexpr DType dtype_of<uint32_t>() { return DType::u32; }
template <> constexpr DType dtype_of<uint64_t>() { return DType::u64; }
template <> constexpr DType dtype_of<float>() { return DType::f32; }

// Calls f(T{}) with T the C++ type of `t`, for templated algorithms on a run-time dtype.
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::u8: return f(uint8_t{});
    case DType::u16: return f(uint16_t{});
    case DType::u32: return f(uint32_t{});
    case DType::u64: return f(uint64_t{});
    case DType::f32: break;
  }
  return f(float{});
}

struct VoxelSize {
  double z = 1, y = 1, x = 1;  // nm
  bool known = false;
  std::string to_string() const;  // "30 x 6 x 6 nm" or "unknown (1 x 1 x 1 assumed)"
};


class Volume {
 public:
  Volume() = default;
  // Zero-filled.
  Volume(DType dtype, int64_t nz, int64_t ny, int64_t nx, int64_t channels = 1);
  // Voxels undefined until written, for a reader that fills every one (io/chunk_store.cpp: the
  // memset was a tenth of reading a label chunk).
  static Volume uninitialized(DType dtype, int64_t nz, int64_t ny, int64_t nx, int64_t channels = 1);
  Volume(const Volume& other);
  Volume& operator=(const Volume& other);
  Volume(Volume&&) noexcept = default;
  Volume& operator=(Volume&&) noexcept = default;
  ~Volume() = default;

  DType dtype() const { return dtype_; }
  int64_t nz() const { return nz_; }
  int64_t ny() const { return ny_; }
  int64_t nx() const { return nx_; }
  int64_t channels() const { return nc_; }
  std::array<int64_t, 3> shape() const { return {nz_, ny_, nx_}; }
  // Element strides of (z, y, x, c).
  std::array<int64_t, 4> strides() const { return {ny_ * nx_ * nc_, nx_ * nc_, nc_, 1}; }
  int64_t voxels() const { return nz_ * ny_ * nx_; }
  int64_t elements() const { return voxels() * nc_; }
  int64_t slice_elements() const { return ny_ * nx_ * nc_; }
  size_t bytes() const { return static_cast<size_t>(elements()) * dtype_size(dtype_); }
  bool empty() const { return elements() == 0; }

  std::byte* raw() { return data_.get(); }
  const std::byte* raw() const { return data_.get(); }
  std::byte* raw_slice(int64_t z) { return raw() + static_cast<size_t>(z * slice_elements()) * dtype_size(dtype_); }
  const std::byte* raw_slice(int64_t z) const {
    return raw() + static_cast<size_t>(z * slice_elements()) * dtype_size(dtype_);
  }

  template <class T> T* data() {
    UNIEM_CHECK(dtype_of<T>() == dtype_, "Volume::data<T>() with the wrong voxel type");
    return reinterpret_cast<T*>(data_.get());
  }
  template <class T> const T* data() const {
    UNIEM_CHECK(dtype_of<T>() == dtype_, "Volume::data<T>() with the wrong voxel type");
    return reinterpret_cast<const T*>(data_.get());
  }
  template <class T> T* slice(int64_t z) { return data<T>() + z * slice_elements(); }
  template <class T> const T* slice(int64_t z) const { return data<T>() + z * slice_elements(); }
  template <class T> T& at(int64_t z, int64_t y, int64_t x, int64_t c = 0) {
    return data<T>()[((z * ny_ + y) * nx_ + x) * nc_ + c];
  }
  template <class T> const T& at(int64_t z, int64_t y, int64_t x, int64_t c = 0) const {
    return data<T>()[((z * ny_ + y) * nx_ + x) * nc_ + c];
  }

  // Element i as a double, whatever the voxel type (for statistics and conversions).
  double value(int64_t i) const;

  VoxelSize voxel_size;

 private:
  DType dtype_ = DType::u8;
  int64_t nz_ = 0, ny_ = 0, nx_ = 0, nc_ = 1;
  std::unique_ptr<std::byte[], StorageDeleter> data_;
};

// The box of `size` voxels (z, y, x) starting at `origin`; throws InputError when it does not lie
// inside the volume, saying both.
Volume crop(const Volume& v, const std::array<int64_t, 3>& origin, const std::array<int64_t, 3>& size);

}  // namespace uniem
