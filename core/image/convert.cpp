#include "core/image/convert.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "core/image/statistics.h"
#include "core/threads.h"

namespace uniem {
namespace {

double type_max(DType t) {
  switch (t) {
    case DType::u8: return 255;
    case DType::u16: return 65535;
    case DType::u32: return 4294967295.0;
    case DType::u64: return 18446744073709551615.0;
    case DType::f32: break;
  }
  return std::numeric_limits<float>::max();
}

std::string number(double v) {
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

bool all_integral(const Volume& v) {
  if (v.dtype() != DType::f32) return true;
  const float* d = v.data<float>();
  for (int64_t i = 0; i < v.elements(); ++i)
    if (d[i] != std::nearbyint(d[i])) return false;
  return true;
}

}  // namespace

Volume convert_dtype(const Volume& v, DType target, DepthPolicy policy) {
  if (v.dtype() == target) return v;
  double lo = 0, hi = 0;
  if (!v.empty()) {
    const auto r = value_range(v);
    lo = r.min;
    hi = r.max;
  }
  const bool to_int = dtype_is_integer(target);
  const double max = type_max(target);
  if (policy == DepthPolicy::exact) {
    const std::string from = dtype_name(v.dtype()), to = dtype_name(target);
    if (to_int && (lo < 0 || hi > max))
      throw InputError("values span " + number(lo) + ".." + number(hi) + ", which " + to + " (0.." + number(max) +
                       ") cannot hold: pass --scale to map min..max onto 0.." + number(max) + ", or --clip to saturate" +
                       (dtype_is_integer(v.dtype()) ? "; for a label volume, --relabel numbers its ids 1..N" : ""));
    if (to_int && !all_integral(v))
      throw InputError("the " + from + " values have fractions; pass --scale or --clip to round them into " + to);
    if (!to_int && hi > 16777216.0)
      throw InputError("values up to " + number(hi) + " are not exact in float32 (24-bit mantissa); keep " + from);
  }
  const bool scale = policy == DepthPolicy::scale && to_int && hi > lo;
  const double factor = scale ? max / (hi - lo) : 1.0;
  const double offset = scale ? lo : 0.0;
  Volume out(target, v.nz(), v.ny(), v.nx(), v.channels());
  out.voxel_size = v.voxel_size;
  visit_dtype(v.dtype(), [&](auto in_type) {
    using In = decltype(in_type);
    visit_dtype(target, [&](auto out_type) {
      using Out = decltype(out_type);
      const In* src = v.data<In>();
      Out* dst = out.data<Out>();
      parallel_for(0, v.elements(), 1 << 16, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          if constexpr (std::is_integral_v<Out> && std::is_integral_v<In> && sizeof(Out) >= sizeof(In)) {
            dst[i] = static_cast<Out>(src[i]);  // widening: always exact
          } else if constexpr (std::is_integral_v<Out>) {
            const double x = (static_cast<double>(src[i]) - offset) * factor;
            dst[i] = static_cast<Out>(std::clamp(std::nearbyint(x), 0.0, max));
          } else {
            dst[i] = static_cast<Out>(src[i]);
          }
        }
      });
    });
  });
  return out;
}

Volume relabel_consecutive(const Volume& labels, int64_t* count) {
  if (!dtype_is_integer(labels.dtype())) throw InputError("relabeling needs integer labels, not float32");
  return visit_dtype(labels.dtype(), [&](auto type) -> Volume {
    using T = decltype(type);
    if constexpr (!std::is_integral_v<T>) {
      return Volume();
    } else {
      const T* src = labels.data<T>();
      std::vector<T> ids;
      {
        std::unordered_map<T, char> seen;
        T last = 0;
        bool have_last = false;
        for (int64_t i = 0; i < labels.elements(); ++i) {
          const T v = src[i];
          if (v == 0 || (have_last && v == last)) continue;  // runs are common in label volumes
          last = v;
          have_last = true;
          if (seen.emplace(v, 1).second) ids.push_back(v);
        }
      }
      std::sort(ids.begin(), ids.end());
      const auto n = static_cast<int64_t>(ids.size());
      if (count) *count = n;
      const DType out_type = n <= 255 ? DType::u8 : n <= 65535 ? DType::u16 : DType::u32;
      std::unordered_map<T, uint32_t> new_id;
      new_id.reserve(ids.size());
      for (size_t i = 0; i < ids.size(); ++i) new_id[ids[i]] = static_cast<uint32_t>(i + 1);
      Volume out(out_type, labels.nz(), labels.ny(), labels.nx(), labels.channels());
      out.voxel_size = labels.voxel_size;
      visit_dtype(out_type, [&](auto o) {
        using O = decltype(o);
        if constexpr (std::is_integral_v<O>) {
          O* dst = out.data<O>();
          T last = 0;
          O last_id = 0;
          for (int64_t i = 0; i < labels.elements(); ++i) {
            const T v = src[i];
            if (v == 0) continue;
            if (v != last || last_id == 0) {
              last = v;
              last_id = static_cast<O>(new_id.at(v));
            }
            dst[i] = last_id;
          }
        }
      });
      return out;
    }
  });
}

Volume as_float32(const Volume& v) {
  UNIEM_CHECK(v.channels() == 1, "as_float32: one channel");
  Volume f(DType::f32, v.nz(), v.ny(), v.nx());
  f.voxel_size = v.voxel_size;
  float* out = f.data<float>();
  visit_dtype(v.dtype(), [&](auto t) {
    const auto* in = v.data<decltype(t)>();
    parallel_for(0, v.elements(), 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] = static_cast<float>(in[i]);
    });
  });
  return f;
}

Volume shrink_to_fit(const Volume& labels) {
  if (!dtype_is_integer(labels.dtype())) throw InputError("shrink_to_fit needs integer labels");
  const double max = value_range(labels).max;
  const DType type = max <= 255 ? DType::u8 : max <= 65535 ? DType::u16 : max <= 4294967295.0 ? DType::u32 : DType::u64;
  return type == labels.dtype() ? labels : convert_dtype(labels, type, DepthPolicy::exact);
}

}  // namespace uniem
