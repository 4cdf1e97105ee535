#include "core/image/affinities.h"

#include "core/threads.h"

namespace uniem {

void check_affinities(const Volume& affinities) {
  if (affinities.channels() != 3)
    throw InputError("affinities need 3 channels (x, y and z affinities, e.g. an RGB TIFF), this has " +
                     std::to_string(affinities.channels()) +
                     (affinities.channels() == 1 ? " (a grey stack: a boundary map? use uniem watershed for those)" : ""));
  const DType t = affinities.dtype();
  if (t != DType::u8 && t != DType::u16 && t != DType::f32)
    throw InputError(std::string("affinities must be uint8, uint16 or float32 values, this is ") + dtype_name(t));
}

double affinity_unit(DType type) {
  switch (type) {
    case DType::u8: return 1.0 / 255;
    case DType::u16: return 1.0 / 65535;
    default: return 1.0;
  }
}

namespace {

template <class L, class A>
void fill_affinities(const Volume& labels, Volume& out, A one) {
  const int64_t nz = labels.nz(), ny = labels.ny(), nx = labels.nx();
  const L* l = labels.data<L>();
  A* a = out.data<A>();
  parallel_for(0, nz * ny, 16, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t z = row / ny, y = row % ny;
      for (int64_t x = 0; x < nx; ++x) {
        const int64_t i = row * nx + x;
        const L v = l[i];
        A* px = a + i * 3;
        px[0] = v != 0 && x > 0 && l[i - 1] == v ? one : A{0};
        px[1] = v != 0 && y > 0 && l[i - nx] == v ? one : A{0};
        px[2] = v != 0 && z > 0 && l[i - nx * ny] == v ? one : A{0};
      }
    }
  });
}

}  // namespace

Volume affinities_from_labels(const Volume& labels, DType type) {
  UNIEM_CHECK(type == DType::u8 || type == DType::f32, "affinities_from_labels: uint8 or float32");
  if (labels.channels() != 1) throw InputError("labels must have one channel");
  if (labels.dtype() == DType::f32) throw InputError("labels must be integers, not float32");
  Volume out(type, labels.nz(), labels.ny(), labels.nx(), 3);
  out.voxel_size = labels.voxel_size;
  visit_dtype(labels.dtype(), [&](auto l) {
    using L = decltype(l);
    if constexpr (!std::is_floating_point_v<L>) {
      if (type == DType::u8) fill_affinities<L, uint8_t>(labels, out, 255);
      else fill_affinities<L, float>(labels, out, 1.0f);
    }
  });
  return out;
}

}  // namespace uniem
