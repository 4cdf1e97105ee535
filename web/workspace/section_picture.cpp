#include "web/workspace/section_picture.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "io/png.h"
#include "io/stack.h"
#include "web/request_error.h"

namespace fs = std::filesystem;

namespace uniem::web {

uint32_t label_colour(uint64_t id) {
  if (id == 0) return 0;
  uint64_t h = id * 0x9E3779B97F4A7C15ull;  // a fixed mix of the id's bits (SplitMix64's finaliser)
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
  h ^= h >> 31;
  // bright enough to see on black: each channel in 64..255
  const uint32_t r = 64 + (h & 0xff) * 191 / 255, g = 64 + ((h >> 8) & 0xff) * 191 / 255, b = 64 + ((h >> 16) & 0xff) * 191 / 255;
  return (r << 16) | (g << 8) | b;
}

std::string section_png(const fs::path& input, const SectionView& view) {
  StackReader stack(input);
  if (view.z < 0 || view.z >= stack.nz())
    throw RequestError(404, "section " + std::to_string(view.z) + " is outside the stack (it has sections 0 to " +
                                std::to_string(stack.nz() - 1) + ")");
  stack.seek(view.z);
  return picture_png(stack.next(1), view);
}

std::string picture_png(const Volume& section, const SectionView& view) {
  const int64_t ny = section.ny(), nx = section.nx(), nc = section.channels();
  const int64_t f = view.size > 0 ? std::max<int64_t>(1, (std::max(ny, nx) + view.size - 1) / view.size) : 1;
  const int64_t oy = (ny + f - 1) / f, ox = (nx + f - 1) / f;
  return visit_dtype(section.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* in = section.slice<T>(0);
    if (view.labels) {
      Volume out(DType::u8, 1, oy, ox, 3);
      uint8_t* o = out.slice<uint8_t>(0);
      for (int64_t y = 0; y < oy; ++y)
        for (int64_t x = 0; x < ox; ++x) {
          const uint32_t c = label_colour(static_cast<uint64_t>(in[((y * f) * nx + x * f) * nc]));
          uint8_t* p = o + (y * ox + x) * 3;
          p[0] = static_cast<uint8_t>(c >> 16), p[1] = static_cast<uint8_t>(c >> 8), p[2] = static_cast<uint8_t>(c);
        }
      return encode_png(out, 0, 1);
    }
    double low = 0, high = 255;
    if (view.low && view.high) {
      low = *view.low, high = *view.high;
    } else if (section.dtype() != DType::u8) {
      std::vector<double> sample;
      const int64_t n = ny * nx * nc, step = std::max<int64_t>(1, n / 1000000);
      for (int64_t i = 0; i < n; i += step) sample.push_back(static_cast<double>(in[i]));
      auto at = [&](double q) {
        auto it = sample.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(sample.size() - 1));
        std::nth_element(sample.begin(), it, sample.end());
        return *it;
      };
      low = at(0.005), high = at(0.995);
    }
    Volume out(DType::u8, 1, oy, ox, nc);
    uint8_t* o = out.slice<uint8_t>(0);
    for (int64_t y = 0; y < oy; ++y)
      for (int64_t x = 0; x < ox; ++x)
        for (int64_t c = 0; c < nc; ++c) {
          double sum = 0;
          int64_t count = 0;
          for (int64_t yy = y * f; yy < std::min(ny, (y + 1) * f); ++yy)
            for (int64_t xx = x * f; xx < std::min(nx, (x + 1) * f); ++xx, ++count) sum += static_cast<double>(in[(yy * nx + xx) * nc + c]);
          const double v = high > low ? (sum / static_cast<double>(count) - low) * 255.0 / (high - low) : 0;
          o[(y * ox + x) * nc + c] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
        }
    return nc == 1 ? encode_png_for_display(out, 0) : encode_png(out, 0, 1);
  });
}

}  // namespace uniem::web
