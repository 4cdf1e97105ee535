#include "core/image/volume.h"

#include <cstring>
#include <new>
#include <sstream>

namespace uniem {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::u8: return "uint8";
    case DType::u16: return "uint16";
    case DType::u32: return "uint32";
    case DType::u64: return "uint64";
    case DType::f32: return "float32";
  }
  return "?";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::u8: return 1;
    case DType::u16: return 2;
    case DType::u32: return 4;
    case DType::u64: return 8;
    case DType::f32: return 4;
  }
  return 0;
}

bool dtype_is_integer(DType t) { return t != DType::f32; }

std::string VoxelSize::to_string() const {
  std::ostringstream s;
  s << z << " x " << y << " x " << x << " nm";
  return known ? s.str() : "unknown (" + s.str() + " assumed; set it with --voxel-size Z,Y,X)";
}

// 64-byte alignment: whole cache lines, and aligned loads for the vector kernels.
constexpr std::align_val_t volume_alignment{64};

void Volume::AlignedFree::operator()(std::byte* p) const { ::operator delete[](p, volume_alignment); }

Volume::Volume(DType dtype, int64_t nz, int64_t ny, int64_t nx, int64_t channels)
    : dtype_(dtype), nz_(nz), ny_(ny), nx_(nx), nc_(channels) {
  UNIEM_CHECK(nz >= 0 && ny >= 0 && nx >= 0 && channels >= 1, "negative volume shape");
  const size_t n = bytes();
  data_.reset(static_cast<std::byte*>(::operator new[](n == 0 ? 1 : n, volume_alignment)));
  std::memset(data_.get(), 0, n);
}

Volume::Volume(const Volume& other)
    : voxel_size(other.voxel_size), dtype_(other.dtype_), nz_(other.nz_), ny_(other.ny_), nx_(other.nx_),
      nc_(other.nc_) {
  if (other.data_) {
    const size_t n = bytes();
    data_.reset(static_cast<std::byte*>(::operator new[](n == 0 ? 1 : n, volume_alignment)));
    std::memcpy(data_.get(), other.data_.get(), n);
  }
}

Volume& Volume::operator=(const Volume& other) {
  if (this != &other) {
    Volume copy(other);
    *this = std::move(copy);
  }
  return *this;
}

double Volume::value(int64_t i) const {
  return visit_dtype(dtype_, [&](auto t) {
    using T = decltype(t);
    return static_cast<double>(reinterpret_cast<const T*>(data_.get())[i]);
  });
}

}  // namespace uniem
