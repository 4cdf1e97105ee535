#include "core/image/filters.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "core/image/convert.h"
#include "core/image/distance.h"
#include "core/image/gaussian.h"
#include "core/image/median_network.h"
#include "core/image/statistics.h"
#include "core/image/border.h"
#include "core/threads.h"

namespace uniem {
namespace {

void refuse_labels(const Volume& v, const char* filter) {
  if (v.channels() != 1) throw InputError(std::string(filter) + " needs a one-channel image, not colour");
  if (v.dtype() == DType::u32 || v.dtype() == DType::u64)
    throw InputError(std::string(filter) + " works on images, and this is a " + dtype_name(v.dtype()) +
                     " volume (label ids?); convert it to 8 or 16 bits first if it really is an image");
}

// 0/1 view of a mask; throws when there is more than one nonzero value.
std::vector<uint8_t> mask_bits(const Volume& v, const char* filter) {
  if (v.channels() != 1) throw InputError(std::string(filter) + " needs a one-channel mask");
  std::vector<uint8_t> bits(static_cast<size_t>(v.elements()));
  double on = 0;
  for (int64_t i = 0; i < v.elements(); ++i) {
    const double x = v.value(i);
    if (x == 0) continue;
    if (on == 0) on = x;
    else if (x != on)
      throw InputError(std::string(filter) + " needs a mask (0 and one other value), and this volume has several values; "
                                             "threshold it first (--threshold otsu)");
    bits[static_cast<size_t>(i)] = 1;
  }
  return bits;
}

Volume mask_volume(const Volume& like, const std::vector<uint8_t>& bits) {
  Volume out(DType::u8, like.nz(), like.ny(), like.nx());
  out.voxel_size = like.voxel_size;
  for (int64_t i = 0; i < out.elements(); ++i) out.data<uint8_t>()[i] = bits[static_cast<size_t>(i)] ? 255 : 0;
  return out;
}

// Back to v's type, rounding to nearest and clamping to the type's range.
Volume back_to(const Volume& f, DType type) {
  if (type == DType::f32) return f;
  Volume out(type, f.nz(), f.ny(), f.nx());
  out.voxel_size = f.voxel_size;
  visit_dtype(type, [&](auto t) {
    using T = decltype(t);
    const float hi = static_cast<float>(std::numeric_limits<T>::max());
    const float* in = f.data<float>();
    T* o = out.data<T>();
    parallel_for(0, f.elements(), 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = static_cast<T>(std::clamp(std::nearbyint(in[i]), 0.0f, hi));
    });
  });
  return out;
}

// Applies fn(line_in, line_out, n) to every line along one axis of a float volume.
template <class F>
void along_axis(Volume& f, int axis, F fn) {
  const int64_t nz = f.nz(), ny = f.ny(), nx = f.nx();
  const int64_t n = axis == 0 ? nz : axis == 1 ? ny : nx;
  const int64_t stride = axis == 0 ? ny * nx : axis == 1 ? nx : 1;
  const int64_t lines = f.voxels() / n;
  float* d = f.data<float>();
  parallel_for(0, lines, 64, [&](int64_t b, int64_t e) {
    std::vector<float> in(static_cast<size_t>(n)), out(static_cast<size_t>(n));
    for (int64_t j = b; j < e; ++j) {
      int64_t base;
      if (axis == 2) base = j * nx;
      else if (axis == 1) base = (j / nx) * ny * nx + j % nx;
      else base = j;
      for (int64_t i = 0; i < n; ++i) in[static_cast<size_t>(i)] = d[base + i * stride];
      fn(in.data(), out.data(), n);
      for (int64_t i = 0; i < n; ++i) d[base + i * stride] = out[static_cast<size_t>(i)];
    }
  });
}

template <class T>
Volume median_histogram(const Volume& v, int64_t rz, int64_t ry, int64_t rx) {
  constexpr size_t bins = size_t{1} << (8 * sizeof(T));
  const int64_t nz = v.nz(), ny = v.ny(), nx = v.nx();
  const int64_t window = (2 * rz + 1) * (2 * ry + 1) * (2 * rx + 1);
  const int64_t rank = (window - 1) / 2;  // odd windows: the middle value
  Volume out(v.dtype(), nz, ny, nx);
  out.voxel_size = v.voxel_size;
  const T* in = v.data<T>();
  T* o = out.data<T>();
  parallel_for(0, nz * ny, 8, [&](int64_t b, int64_t e) {
    std::vector<int32_t> hist(bins);
    std::vector<int64_t> rows;  // offsets of the window's rows (z, y) for this output row
    for (int64_t r = b; r < e; ++r) {
      const int64_t z = r / ny, y = r % ny;
      rows.clear();
      for (int64_t dz = -rz; dz <= rz; ++dz)
        for (int64_t dy = -ry; dy <= ry; ++dy) rows.push_back((reflect(z + dz, nz) * ny + reflect(y + dy, ny)) * nx);
      std::fill(hist.begin(), hist.end(), 0);
      for (int64_t row : rows)
        for (int64_t dx = -rx; dx <= rx; ++dx) ++hist[in[row + reflect(dx, nx)]];
      // Smallest value whose cumulative count passes the rank; `below` counts values < med.
      size_t med = 0;
      int64_t below = 0;
      while (below + hist[med] <= rank) below += hist[med++];
      o[r * nx] = static_cast<T>(med);
      for (int64_t x = 1; x < nx; ++x) {
        const int64_t leave = reflect(x - rx - 1, nx), enter = reflect(x + rx, nx);
        for (int64_t row : rows) {
          const T gone = in[row + leave], come = in[row + enter];
          --hist[gone];
          below -= gone < med;
          ++hist[come];
          below += come < med;
        }
        while (below > rank) below -= hist[--med];
        while (below + hist[med] <= rank) below += hist[med++];
        o[r * nx + x] = static_cast<T>(med);
      }
    }
  });
  return out;
}

Volume median_sorting(const Volume& v, int64_t rz, int64_t ry, int64_t rx) {
  const int64_t nz = v.nz(), ny = v.ny(), nx = v.nx();
  Volume out(DType::f32, nz, ny, nx);
  out.voxel_size = v.voxel_size;
  const float* in = v.data<float>();
  parallel_for(0, nz * ny, 8, [&](int64_t b, int64_t e) {
    std::vector<float> window;
    for (int64_t r = b; r < e; ++r) {
      const int64_t z = r / ny, y = r % ny;
      for (int64_t x = 0; x < nx; ++x) {
        window.clear();
        for (int64_t dz = -rz; dz <= rz; ++dz)
          for (int64_t dy = -ry; dy <= ry; ++dy)
            for (int64_t dx = -rx; dx <= rx; ++dx)
              window.push_back(in[(reflect(z + dz, nz) * ny + reflect(y + dy, ny)) * nx + reflect(x + dx, nx)]);
        auto mid = window.begin() + static_cast<std::ptrdiff_t>(window.size() / 2);
        std::nth_element(window.begin(), mid, window.end());
        out.data<float>()[r * nx + x] = *mid;
      }
    }
  });
  return out;
}

int64_t whole(double r) { return static_cast<int64_t>(std::lround(r)); }

}  // namespace

Volume gaussian(const Volume& v, Extent sigma) {
  refuse_labels(v, "gaussian");
  if (sigma.z < 0 || sigma.y < 0 || sigma.x < 0) throw InputError("gaussian: sigma must not be negative");
  if ((sigma.z == 0 || v.nz() == 1) && (v.dtype() == DType::u8 || v.dtype() == DType::u16 || v.dtype() == DType::f32)) {
    Volume out(v.dtype(), v.nz(), v.ny(), v.nx());
    out.voxel_size = v.voxel_size;
    separable_filter_sections(v, out, gaussian_kernel(sigma.y), gaussian_kernel(sigma.x));
    return out;
  }
  Volume f = as_float32(v);
  gaussian_filter(f, {sigma.z, sigma.y, sigma.x});
  return back_to(f, v.dtype());
}

Volume box_filter(const Volume& v, BoxStatistic statistic, Extent radius) {
  refuse_labels(v, statistic == BoxStatistic::mean ? "mean" : statistic == BoxStatistic::minimum ? "minimum" : "maximum");
  if (radius.z < 0 || radius.y < 0 || radius.x < 0) throw InputError("a filter radius must not be negative");
  Volume f = as_float32(v);
  const int64_t radii[3] = {whole(radius.z), whole(radius.y), whole(radius.x)};
  for (int axis = 2; axis >= 0; --axis) {
    const int64_t r = radii[axis];
    if (r == 0) continue;
    along_axis(f, axis, [&](const float* in, float* out, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        double acc = statistic == BoxStatistic::mean ? 0 : in[reflect(i, n)];
        for (int64_t k = -r; k <= r; ++k) {
          const float x = in[reflect(i + k, n)];
          if (statistic == BoxStatistic::mean) acc += x;
          else if (statistic == BoxStatistic::minimum) acc = std::min<double>(acc, x);
          else acc = std::max<double>(acc, x);
        }
        out[i] = static_cast<float>(statistic == BoxStatistic::mean ? acc / static_cast<double>(2 * r + 1) : acc);
      }
    });
  }
  return back_to(f, v.dtype());
}

Volume median(const Volume& v, Extent radius) {
  refuse_labels(v, "median");
  if (radius.z < 0 || radius.y < 0 || radius.x < 0) throw InputError("median: the radius must not be negative");
  const int64_t rz = whole(radius.z), ry = whole(radius.y), rx = whole(radius.x);
  if (median_network_fits(rz, ry, rx) && (v.dtype() == DType::u8 || v.dtype() == DType::u16 || v.dtype() == DType::f32))
    return median_network(v, rz, ry, rx);
  switch (v.dtype()) {
    case DType::u8: return median_histogram<uint8_t>(v, rz, ry, rx);
    case DType::u16: return median_histogram<uint16_t>(v, rz, ry, rx);
    default: return median_sorting(v, rz, ry, rx);
  }
}

Volume invert(const Volume& v) {
  if (v.channels() != 1) throw InputError("invert needs a one-channel image");
  Volume out(v.dtype(), v.nz(), v.ny(), v.nx());
  out.voxel_size = v.voxel_size;
  const auto s = v.dtype() == DType::f32 ? value_range(v) : ValueRange{};
  visit_dtype(v.dtype(), [&](auto t) {
    using T = decltype(t);
    for (int64_t i = 0; i < v.elements(); ++i) {
      if constexpr (std::is_floating_point_v<T>) out.data<T>()[i] = static_cast<T>(s.min + s.max) - v.data<T>()[i];
      else out.data<T>()[i] = static_cast<T>(std::numeric_limits<T>::max() - v.data<T>()[i]);
    }
  });
  return out;
}

Volume normalise(const Volume& v, double low_percent, double high_percent) {
  refuse_labels(v, "normalise");
  if (!(low_percent >= 0 && low_percent < high_percent && high_percent <= 100))
    throw InputError("normalise needs percentiles 0 <= low < high <= 100");
  std::vector<float> sorted(static_cast<size_t>(v.elements()));
  for (int64_t i = 0; i < v.elements(); ++i) sorted[static_cast<size_t>(i)] = static_cast<float>(v.value(i));
  std::sort(sorted.begin(), sorted.end());
  // Linear interpolation between closest ranks, as numpy.percentile.
  const auto percentile = [&](double p) {
    const double pos = p / 100 * static_cast<double>(sorted.size() - 1);
    const auto i = static_cast<size_t>(std::floor(pos));
    const double frac = pos - static_cast<double>(i);
    return i + 1 < sorted.size() ? sorted[i] * (1 - frac) + sorted[i + 1] * frac : static_cast<double>(sorted[i]);
  };
  const double lo = percentile(low_percent), hi = percentile(high_percent);
  const double scale = hi > lo ? 1 / (hi - lo) : 0;
  Volume out = as_float32(v);
  for (int64_t i = 0; i < out.elements(); ++i)
    out.data<float>()[i] = static_cast<float>(std::clamp((out.data<float>()[i] - lo) * scale, 0.0, 1.0));
  return out;
}

Volume sobel(const Volume& v, bool three_d) {
  refuse_labels(v, "sobel");
  Volume magnitude(DType::f32, v.nz(), v.ny(), v.nx());
  magnitude.voxel_size = v.voxel_size;
  const bool use_z = three_d && v.nz() > 1;
  // scipy.ndimage.sobel: derivative [-1, 0, 1] along the axis, smoothing [1, 2, 1] along the others.
  const std::vector<float> derivative{-1, 0, 1}, smooth{1, 2, 1}, none{1};
  float* m = magnitude.data<float>();
  if (!use_z && (v.dtype() == DType::u8 || v.dtype() == DType::u16 || v.dtype() == DType::f32)) {
    Volume gy(DType::f32, v.nz(), v.ny(), v.nx());
    separable_filter_sections(v, magnitude, smooth, derivative);  // gx
    separable_filter_sections(v, gy, derivative, smooth);
    const float* g = gy.data<float>();
    parallel_for(0, v.elements(), 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) m[i] = std::sqrt(m[i] * m[i] + g[i] * g[i]);
    });
    return magnitude;
  }
  const Volume f = as_float32(v);
  for (int axis = use_z ? 0 : 1; axis <= 2; ++axis) {
    Volume g = f;
    separable_filter(g, !use_z ? none : axis == 0 ? derivative : smooth, axis == 1 ? derivative : smooth,
                     axis == 2 ? derivative : smooth);
    const float* gd = g.data<float>();
    for (int64_t i = 0; i < g.elements(); ++i) m[i] += gd[i] * gd[i];
  }
  for (int64_t i = 0; i < magnitude.elements(); ++i) m[i] = std::sqrt(m[i]);
  return magnitude;
}

Volume bilateral(const Volume& v, double sigma_space, double sigma_range, VoxelSize spacing, bool three_d) {
  refuse_labels(v, "bilateral");
  if (!(sigma_space > 0 && sigma_range > 0)) throw InputError("bilateral needs positive spatial and range sigmas");
  const int64_t nz = v.nz(), ny = v.ny(), nx = v.nx();
  const auto radius = static_cast<int64_t>(std::lround(1.5 * sigma_space));
  // The window: offsets within the radius (measured in x voxels, z scaled by the voxel size).
  struct Tap {
    int64_t dz, dy, dx;
    float weight;
  };
  std::vector<Tap> taps;
  const double zscale = three_d && nz > 1 ? spacing.z / spacing.x : 0, yscale = spacing.y / spacing.x;
  const int64_t rz = zscale > 0 ? static_cast<int64_t>(radius / zscale) : 0;
  for (int64_t dz = -rz; dz <= rz; ++dz)
    for (int64_t dy = -radius; dy <= radius; ++dy)
      for (int64_t dx = -radius; dx <= radius; ++dx) {
        const double d2 = dz * zscale * dz * zscale + dy * yscale * dy * yscale + double(dx * dx);
        if (d2 <= double(radius * radius))
          taps.push_back({dz, dy, dx, static_cast<float>(std::exp(-0.5 * d2 / (sigma_space * sigma_space)))});
      }
  const Volume f = as_float32(v);
  const float* in = f.data<float>();
  Volume out(DType::f32, nz, ny, nx);
  out.voxel_size = v.voxel_size;
  float* o = out.data<float>();
  const double range_coefficient = -0.5 / (sigma_range * sigma_range);
  std::vector<float> range_table;  // by |difference| for 8-bit input
  if (v.dtype() == DType::u8)
    for (int d = 0; d < 256; ++d) range_table.push_back(static_cast<float>(std::exp(d * d * range_coefficient)));
  parallel_for(0, nz * ny, 4, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const int64_t z = row / ny, y = row % ny;
      for (int64_t x = 0; x < nx; ++x) {
        const float centre = in[row * nx + x];
        double sum = 0, total = 0;
        for (const Tap& t : taps) {
          const float value = in[(reflect(z + t.dz, nz) * ny + reflect(y + t.dy, ny)) * nx + reflect(x + t.dx, nx)];
          const float difference = std::abs(value - centre);
          const double w = t.weight * (range_table.empty() ? std::exp(difference * difference * range_coefficient)
                                                           : range_table[static_cast<size_t>(difference)]);
          sum += w * value;
          total += w;
        }
        o[row * nx + x] = static_cast<float>(sum / total);
      }
    }
  });
  return back_to(out, v.dtype());
}

namespace {

// Clips the histogram at `limit`, spreading what was cut evenly over all bins (the rest over
// every (bins / rest)-th bin), again until nothing more is cut.
void clip_histogram(const std::vector<int>& hist, std::vector<int>& clipped, int limit) {
  clipped = hist;
  const int n = static_cast<int>(hist.size());
  int cut = 0, cut_before = 0;
  do {
    cut_before = cut;
    cut = 0;
    for (int& c : clipped)
      if (c > limit) {
        cut += c - limit;
        c = limit;
      }
    const int each = cut / n, rest = cut % n;
    for (int& c : clipped) c += each;
    if (rest != 0) {
      const int step = std::max(1, (n - 1) / rest);
      for (int i = 0; i < n; i += step) ++clipped[static_cast<size_t>(i)];
    }
  } while (cut != cut_before);
}

}  // namespace

Volume clahe(const Volume& v, const ClaheOptions& o) {
  if (v.dtype() != DType::u8 || v.channels() != 1)
    throw InputError(std::string("CLAHE works on 8-bit grey images, this is ") + dtype_name(v.dtype()) +
                     "; convert with --bits 8 --scale first");
  if (o.block_size < 3 || o.bins < 2 || o.bins > 256 || o.max_slope < 1)
    throw InputError("CLAHE needs a block size of at least 3, 2 to 256 bins and a maximum slope of at least 1");
  const int radius = (o.block_size - 1) / 2, bins = o.bins - 1;  // bin indices 0..bins
  const int64_t ny = v.ny(), nx = v.nx();
  Volume out(DType::u8, v.nz(), ny, nx);
  out.voxel_size = v.voxel_size;
  std::array<int, 256> bin_of{};
  for (int i = 0; i < 256; ++i) bin_of[static_cast<size_t>(i)] = static_cast<int>(std::lround(i / 255.0 * bins));
  parallel_for(0, v.nz() * ny, 4, [&](int64_t b, int64_t e) {
    std::vector<int> hist(static_cast<size_t>(bins) + 1), clipped;
    for (int64_t row = b; row < e; ++row) {
      const int64_t z = row / ny, y = row % ny;
      const uint8_t* in = v.slice<uint8_t>(z);
      uint8_t* dst = out.slice<uint8_t>(z);
      const int64_t y0 = std::max<int64_t>(0, y - radius), y1 = std::min<int64_t>(ny, y + radius + 1);
      std::fill(hist.begin(), hist.end(), 0);
      for (int64_t yi = y0; yi < y1; ++yi)
        for (int64_t xi = 0; xi < std::min<int64_t>(nx, radius); ++xi) ++hist[static_cast<size_t>(bin_of[in[yi * nx + xi]])];
      for (int64_t x = 0; x < nx; ++x) {
        // Slide the block: drop the column that left, add the one that entered.
        if (x - radius - 1 >= 0)
          for (int64_t yi = y0; yi < y1; ++yi) --hist[static_cast<size_t>(bin_of[in[yi * nx + x - radius - 1]])];
        if (x + radius < nx)
          for (int64_t yi = y0; yi < y1; ++yi) ++hist[static_cast<size_t>(bin_of[in[yi * nx + x + radius]])];
        const int64_t width = std::min<int64_t>(nx, x + radius + 1) - std::max<int64_t>(0, x - radius);
        const int limit = static_cast<int>(o.max_slope * static_cast<double>((y1 - y0) * width) / bins + 0.5);
        clip_histogram(hist, clipped, limit);
        const int value = bin_of[in[y * nx + x]];
        int first = 0;
        while (first < bins && clipped[static_cast<size_t>(first)] == 0) ++first;
        int64_t cdf = 0, total = 0;
        for (int i = first; i <= bins; ++i) {
          if (i <= value) cdf += clipped[static_cast<size_t>(i)];
          total += clipped[static_cast<size_t>(i)];
        }
        const int64_t lowest = clipped[static_cast<size_t>(first)];
        const double mapped = total > lowest ? static_cast<double>(cdf - lowest) / static_cast<double>(total - lowest) : 0.0;
        dst[y * nx + x] = static_cast<uint8_t>(std::clamp(std::lround(mapped * 255.0), 0L, 255L));
      }
    }
  });
  return out;
}

double otsu_threshold(const Volume& v) {
  refuse_labels(v, "otsu");
  const auto s = value_range(v);
  if (s.max <= s.min) return s.min;
  // Bins and their centres: one per integer value, or 256 over [min, max] for float32.
  const bool per_value = dtype_is_integer(v.dtype());
  const size_t bins = per_value ? static_cast<size_t>(s.max - s.min + 1) : 256;
  std::vector<double> hist(bins, 0), centre(bins);
  const double width = per_value ? 1 : (s.max - s.min) / 256.0;
  for (size_t i = 0; i < bins; ++i) centre[i] = per_value ? s.min + static_cast<double>(i) : s.min + width * (static_cast<double>(i) + 0.5);
  for (int64_t i = 0; i < v.elements(); ++i) {
    const double x = v.value(i);
    const auto b = per_value ? static_cast<size_t>(x - s.min) : std::min<size_t>(bins - 1, static_cast<size_t>((x - s.min) / width));
    hist[b] += 1;
  }
  return otsu_from_histogram(hist, centre);
}

double otsu_from_histogram(const std::vector<double>& hist, const std::vector<double>& centre) {
  const size_t bins = hist.size();
  if (bins == 0) return 0;
  std::vector<double> w1(bins), w2(bins), m1(bins), m2(bins);
  double cw = 0, cm = 0;
  for (size_t i = 0; i < bins; ++i) {
    cw += hist[i];
    cm += hist[i] * centre[i];
    w1[i] = cw;
    m1[i] = cw > 0 ? cm / cw : 0;
  }
  cw = cm = 0;
  for (size_t i = bins; i-- > 0;) {
    cw += hist[i];
    cm += hist[i] * centre[i];
    w2[i] = cw;
    m2[i] = cw > 0 ? cm / cw : 0;
  }
  size_t best = 0;
  double best_variance = -1;
  for (size_t i = 0; i + 1 < bins; ++i) {
    const double variance = w1[i] * w2[i + 1] * (m1[i] - m2[i + 1]) * (m1[i] - m2[i + 1]);
    if (variance > best_variance) {
      best_variance = variance;
      best = i;
    }
  }
  return centre[best];
}

Volume threshold(const Volume& v, double level) {
  refuse_labels(v, "threshold");
  Volume out(DType::u8, v.nz(), v.ny(), v.nx());
  out.voxel_size = v.voxel_size;
  uint8_t* o = out.data<uint8_t>();
  visit_dtype(v.dtype(), [&](auto t) {
    const auto* in = v.data<decltype(t)>();
    parallel_for(0, v.elements(), 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = static_cast<double>(in[i]) > level ? 255 : 0;
    });
  });
  return out;
}

Volume binary_morphology(const Volume& mask, Morphology op, double radius_nm, VoxelSize spacing, bool three_d) {
  if (radius_nm < 0) throw InputError("a morphology radius must not be negative");
  if (op == Morphology::open) {
    return binary_morphology(binary_morphology(mask, Morphology::erode, radius_nm, spacing, three_d), Morphology::dilate,
                             radius_nm, spacing, three_d);
  }
  if (op == Morphology::close) {
    return binary_morphology(binary_morphology(mask, Morphology::dilate, radius_nm, spacing, three_d), Morphology::erode,
                             radius_nm, spacing, three_d);
  }
  const std::vector<uint8_t> bits = mask_bits(mask, op == Morphology::dilate ? "dilate" : "erode");
  // Distance of the background to the mask (dilate) or of the mask to the background (erode).
  Volume source(DType::u8, mask.nz(), mask.ny(), mask.nx());
  for (size_t i = 0; i < bits.size(); ++i) source.data<uint8_t>()[i] = (op == Morphology::dilate) != (bits[i] != 0);
  const Volume d = distance_transform(source, spacing, !three_d);
  const double limit = radius_nm * (1 + 1e-9);
  std::vector<uint8_t> result(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) {
    const float dist = d.data<float>()[static_cast<int64_t>(i)];
    result[i] = op == Morphology::dilate ? (bits[i] || dist <= limit) : (bits[i] && dist > limit);
  }
  return mask_volume(mask, result);
}

Volume fill_holes(const Volume& mask, bool three_d) {
  const std::vector<uint8_t> bits = mask_bits(mask, "fill-holes");
  Volume background(DType::u8, mask.nz(), mask.ny(), mask.nx());
  for (size_t i = 0; i < bits.size(); ++i) background.data<uint8_t>()[i] = !bits[i];
  const auto parts = label_components(background, three_d ? Connectivity::c6 : Connectivity::c4, false);
  std::vector<uint8_t> touches(static_cast<size_t>(parts.count) + 1, 0);
  const int64_t nz = mask.nz(), ny = mask.ny(), nx = mask.nx();
  for (int64_t z = 0; z < nz; ++z)
    for (int64_t y = 0; y < ny; ++y)
      for (int64_t x = 0; x < nx; ++x) {
        const bool border = x == 0 || y == 0 || x == nx - 1 || y == ny - 1 || (three_d && (z == 0 || z == nz - 1));
        if (border) touches[parts.labels.at<uint32_t>(z, y, x)] = 1;
      }
  std::vector<uint8_t> result(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) {
    const uint32_t part = parts.labels.data<uint32_t>()[static_cast<int64_t>(i)];
    result[i] = bits[i] || (part != 0 && !touches[part]);
  }
  return mask_volume(mask, result);
}

Volume remove_small_objects(const Volume& mask, int64_t min_voxels, Connectivity connectivity) {
  const std::vector<uint8_t> bits = mask_bits(mask, "remove-small");
  if (min_voxels < 0) throw InputError("remove-small needs a size of at least 0 voxels");
  const auto parts = label_components(mask, connectivity, false);
  std::vector<int64_t> size(static_cast<size_t>(parts.count) + 1, 0);
  for (int64_t i = 0; i < parts.labels.elements(); ++i) ++size[parts.labels.data<uint32_t>()[i]];
  std::vector<uint8_t> result(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) {
    const uint32_t part = parts.labels.data<uint32_t>()[static_cast<int64_t>(i)];
    result[i] = part != 0 && size[part] >= min_voxels;
  }
  return mask_volume(mask, result);
}

}  // namespace uniem
