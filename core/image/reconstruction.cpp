#include "core/image/reconstruction.h"

#include <algorithm>
#include <cmath>
#include <deque>

#include "core/image/convert.h"
#include "core/image/neighbourhood.h"

namespace uniem {

Volume reconstruct_by_dilation(const Volume& seed, const Volume& mask, Connectivity connectivity) {
  if (seed.shape() != mask.shape()) throw InputError("reconstruction: the seed and mask must have the same shape");
  if (seed.dtype() != DType::f32 || mask.dtype() != DType::f32 || seed.channels() != 1)
    throw InputError("reconstruction works on one-channel float32 volumes");
  const int64_t n = seed.elements();
  const float* limit = mask.data<float>();
  Volume out = seed;
  float* j = out.data<float>();
  for (int64_t i = 0; i < n; ++i)
    if (j[i] > limit[i]) throw InputError("reconstruction: the seed must not be above the mask anywhere");
  const Neighbourhood neighbours(connectivity, seed.nz(), seed.ny(), seed.nx());
  // Raster scan: each voxel takes the largest of itself and its already scanned neighbours,
  // never above the mask.
  for (int64_t i = 0; i < n; ++i) {
    float v = j[i];
    neighbours.for_each(i, [&](int64_t q) { v = std::max(v, j[q]); }, Neighbourhood::before);
    j[i] = std::min(v, limit[i]);
  }
  // Anti-raster scan, the same from the other side; voxels that could still raise a neighbour
  // start the propagation.
  std::deque<int64_t> fifo;
  for (int64_t i = n; i-- > 0;) {
    float v = j[i];
    neighbours.for_each(i, [&](int64_t q) { v = std::max(v, j[q]); }, Neighbourhood::after);
    j[i] = std::min(v, limit[i]);
    bool raises = false;
    neighbours.for_each(i, [&](int64_t q) { raises = raises || (j[q] < j[i] && j[q] < limit[q]); }, Neighbourhood::after);
    if (raises) fifo.push_back(i);
  }
  while (!fifo.empty()) {
    const int64_t p = fifo.front();
    fifo.pop_front();
    neighbours.for_each(p, [&](int64_t q) {
      if (j[q] < j[p] && j[q] != limit[q]) {
        j[q] = std::min(j[p], limit[q]);
        fifo.push_back(q);
      }
    });
  }
  return out;
}

Volume h_maxima(const Volume& values, double h, Connectivity connectivity) {
  if (values.channels() != 1) throw InputError("h-maxima needs a one-channel image");
  if (!(h > 0)) throw InputError("h-maxima: h must be positive");
  const int64_t n = values.elements();
  const Volume f = as_float32(values);
  Volume lowered(DType::f32, values.nz(), values.ny(), values.nx());
  for (int64_t i = 0; i < n; ++i) lowered.data<float>()[i] = static_cast<float>(values.value(i) - h);
  const Volume r = reconstruct_by_dilation(lowered, f, connectivity);
  // values - h is rounded to float: allow that rounding when comparing the residue with h.
  float top = 0;
  for (int64_t i = 0; i < n; ++i) top = std::max(top, std::abs(f.data<float>()[i]));
  const double slack = 4 * static_cast<double>(top) * 1.2e-7;
  Volume out(DType::u8, values.nz(), values.ny(), values.nx());
  out.voxel_size = values.voxel_size;
  for (int64_t i = 0; i < n; ++i)
    out.data<uint8_t>()[i] = static_cast<double>(f.data<float>()[i]) - r.data<float>()[i] >= h - slack;
  return out;
}

}  // namespace uniem
