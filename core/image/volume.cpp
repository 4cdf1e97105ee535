#include "core/image/volume.h"

#include <cstring>
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

Volume::Volume(DType dtype, int64_t nz, int64_t ny, int64_t nx, int64_t channels)
    : dtype_(dtype), nz_(nz), ny_(ny), nx_(nx), nc_(channels) {
  UNIEM_CHECK(nz >= 0 && ny >= 0 && nx >= 0 && channels >= 1, "negative volume shape");
  data_ = allocate_zeroed_storage(bytes());
}

Volume Volume::uninitialized(DType dtype, int64_t nz, int64_t ny, int64_t nx, int64_t channels) {
  UNIEM_CHECK(nz >= 0 && ny >= 0 && nx >= 0 && channels >= 1, "negative volume shape");
  Volume v;
  v.dtype_ = dtype;
  v.nz_ = nz;
  v.ny_ = ny;
  v.nx_ = nx;
  v.nc_ = channels;
  v.data_ = std::unique_ptr<std::byte[], StorageDeleter>(allocate_storage(v.bytes()), StorageDeleter{v.bytes()});
  return v;
}

Volume::Volume(const Volume& other)
    : voxel_size(other.voxel_size), dtype_(other.dtype_), nz_(other.nz_), ny_(other.ny_), nx_(other.nx_),
      nc_(other.nc_) {
  if (other.data_) {
    data_ = std::unique_ptr<std::byte[], StorageDeleter>(allocate_storage(bytes()), StorageDeleter{bytes()});
    std::memcpy(data_.get(), other.data_.get(), bytes());
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

Volume crop(const Volume& v, const std::array<int64_t, 3>& origin, const std::array<int64_t, 3>& size) {
  const auto shape = v.shape();
  for (int a = 0; a < 3; ++a)
    if (origin[a] < 0 || size[a] < 1 || origin[a] + size[a] > shape[a])
      throw InputError("the crop of " + std::to_string(size[0]) + " x " + std::to_string(size[1]) + " x " +
                       std::to_string(size[2]) + " voxels at z,y,x " + std::to_string(origin[0]) + "," +
                       std::to_string(origin[1]) + "," + std::to_string(origin[2]) + " does not fit in the volume of " +
                       std::to_string(shape[0]) + " x " + std::to_string(shape[1]) + " x " + std::to_string(shape[2]));
  Volume out(v.dtype(), size[0], size[1], size[2], v.channels());
  out.voxel_size = v.voxel_size;
  const size_t element = dtype_size(v.dtype()) * static_cast<size_t>(v.channels());
  for (int64_t z = 0; z < size[0]; ++z)
    for (int64_t y = 0; y < size[1]; ++y)
      std::memcpy(out.raw() + static_cast<size_t>((z * size[1] + y) * size[2]) * element,
                  v.raw() + static_cast<size_t>(((origin[0] + z) * shape[1] + origin[1] + y) * shape[2] + origin[2]) * element,
                  static_cast<size_t>(size[2]) * element);
  return out;
}

}  // namespace uniem
