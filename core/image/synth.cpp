#include "core/image/synth.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <numbers>
#include <vector>

#include "core/image/gaussian.h"
#include "core/random.h"
#include "core/progress.h"
#include "core/threads.h"

namespace uniem {
namespace {

constexpr double two_pi = 2 * std::numbers::pi;

struct Neurite {
  double x0, y0;                // nm, centre at z = 0
  double drift_x, drift_y;      // nm of lateral travel per nm of depth
  double meander, meander_period, phase_x, phase_y;
  double r0, swell, swell_period, swell_phase;
  double shade;                 // cytoplasm grey offset
  std::vector<int> mitochondria;

  double cx(double z) const { return x0 + drift_x * z + meander * std::sin(two_pi * z / meander_period + phase_x); }
  double cy(double z) const { return y0 + drift_y * z + meander * std::cos(two_pi * z / meander_period + phase_y); }
  double radius(double z) const { return r0 * (1 + swell * std::sin(two_pi * z / swell_period + swell_phase)); }
};

struct Mitochondrion {
  double z_centre, half_length;  // nm along z
  double radius;                 // nm, in-plane, at the middle
  double offset_x, offset_y;     // nm from the neurite's centre line
  double cristae_angle;
};

constexpr double wall_nm = 10;
constexpr float membrane_grey = 45, cytoplasm_grey = 172, wall_grey = 60, matrix_grey = 118;

}  // namespace

SynthVolume synthesize(const SynthOptions& o) {
  if (o.nz < 1 || o.ny < 8 || o.nx < 8) throw UsageError("synth: the volume must be at least 1 x 8 x 8 voxels");
  if (o.voxel_size.z <= 0 || o.voxel_size.y <= 0 || o.voxel_size.x <= 0)
    throw UsageError("synth: voxel sizes must be positive");
  if (o.radius_min_nm <= 0 || o.radius_min_nm > o.radius_max_nm)
    throw UsageError("synth: need 0 < radius_min <= radius_max");
  if (o.membrane_nm < 0 || o.blur_nm < 0 || o.noise < 0) throw UsageError("synth: membrane, blur and noise must be >= 0");

  const VoxelSize vs = o.voxel_size;
  const double depth = static_cast<double>(o.nz) * vs.z;
  const double height = static_cast<double>(o.ny) * vs.y, width = static_cast<double>(o.nx) * vs.x;
  Random rng(o.seed);

  // Neurites on a jittered grid, extended past the borders by the spacing and the drift, so the
  // volume is covered at every depth.
  const double r_mean = 0.5 * (o.radius_min_nm + o.radius_max_nm);
  const double spacing = 1.8 * r_mean;
  const double max_drift = 0.25;
  const double margin = spacing + max_drift * depth;
  std::vector<Neurite> neurites;
  for (double gy = -margin; gy < height + margin; gy += spacing) {
    for (double gx = -margin; gx < width + margin; gx += spacing) {
      Neurite n{};
      n.x0 = gx + rng.uniform(-0.4, 0.4) * spacing;
      n.y0 = gy + rng.uniform(-0.4, 0.4) * spacing;
      n.drift_x = std::clamp(0.1 * rng.normal(), -max_drift, max_drift);
      n.drift_y = std::clamp(0.1 * rng.normal(), -max_drift, max_drift);
      n.meander = rng.uniform(0, 0.3) * r_mean;
      n.meander_period = rng.uniform(800, 3000);
      n.phase_x = rng.uniform(0, two_pi);
      n.phase_y = rng.uniform(0, two_pi);
      n.r0 = rng.uniform(o.radius_min_nm, o.radius_max_nm);
      n.swell = rng.uniform(0, 0.25);
      n.swell_period = rng.uniform(600, 2400);
      n.swell_phase = rng.uniform(0, two_pi);
      n.shade = rng.uniform(-18, 18);
      neurites.push_back(std::move(n));
    }
  }
  std::vector<Mitochondrion> mitochondria;
  for (auto& n : neurites) {
    if (n.r0 < 100 || rng.uniform() >= o.mitochondria_fraction) continue;
    const int count = static_cast<int>(rng.integer(1, 2));
    for (int i = 0; i < count; ++i) {
      Mitochondrion m{};
      m.radius = std::min(0.45 * n.r0, rng.uniform(55, 110));
      const double room = std::max(0.0, 0.7 * n.r0 * (1 - n.swell) - m.radius);
      const double angle = rng.uniform(0, two_pi), distance = rng.uniform(0, room);
      m.offset_x = distance * std::cos(angle);
      m.offset_y = distance * std::sin(angle);
      m.z_centre = rng.uniform(-0.2, 1.2) * depth;
      m.half_length = rng.uniform(150, 600);
      m.cristae_angle = rng.uniform(0, std::numbers::pi);
      n.mitochondria.push_back(static_cast<int>(mitochondria.size()));
      mitochondria.push_back(m);
    }
  }
  const uint64_t noise_seed = rng.engine()();

  Volume owner(DType::u32, o.nz, o.ny, o.nx);
  Volume grey(DType::f32, o.nz, o.ny, o.nx);
  SynthVolume out;
  out.membranes = Volume(DType::u8, o.nz, o.ny, o.nx);
  out.mitochondria = Volume(DType::u8, o.nz, o.ny, o.nx);
  std::vector<uint8_t> mito_seen(mitochondria.size(), 0);
  std::mutex seen_mutex;

  // Each pixel looks only at neurites registered in its grid cell: those within `reach` of it.
  const double reach = 2.5 * spacing;
  const int64_t cell_px = 32;
  const int64_t cells_y = (o.ny + cell_px - 1) / cell_px, cells_x = (o.nx + cell_px - 1) / cell_px;

  Progress progress("synth: sections", o.nz);
  parallel_for(0, o.nz, 1, [&](int64_t z0, int64_t z1) {
    std::vector<std::vector<int>> cells(static_cast<size_t>(cells_y * cells_x));
    std::vector<double> cx(neurites.size()), cy(neurites.size()), r(neurites.size());
    std::vector<uint8_t> seen(mitochondria.size(), 0);
    for (int64_t z = z0; z < z1; ++z) {
      const double zn = (static_cast<double>(z) + 0.5) * vs.z;
      for (auto& c : cells) c.clear();
      for (size_t i = 0; i < neurites.size(); ++i) {
        cx[i] = neurites[i].cx(zn);
        cy[i] = neurites[i].cy(zn);
        r[i] = neurites[i].radius(zn);
        const auto cell_range = [&](double lo, double hi, double voxel, int64_t cells) {
          const int64_t a = std::max<int64_t>(0, static_cast<int64_t>(std::floor(lo / voxel / cell_px)));
          const int64_t b = std::min<int64_t>(cells - 1, static_cast<int64_t>(std::floor(hi / voxel / cell_px)));
          return std::pair{a, b};
        };
        const auto [ya, yb] = cell_range(cy[i] - reach, cy[i] + reach, vs.y, cells_y);
        const auto [xa, xb] = cell_range(cx[i] - reach, cx[i] + reach, vs.x, cells_x);
        for (int64_t gy = ya; gy <= yb; ++gy)
          for (int64_t gx = xa; gx <= xb; ++gx) cells[static_cast<size_t>(gy * cells_x + gx)].push_back(static_cast<int>(i));
      }
      uint32_t* own = owner.slice<uint32_t>(z);
      float* g = grey.slice<float>(z);
      uint8_t* mem = out.membranes.slice<uint8_t>(z);
      uint8_t* mito = out.mitochondria.slice<uint8_t>(z);
      for (int64_t y = 0; y < o.ny; ++y) {
        const double py = (static_cast<double>(y) + 0.5) * vs.y;
        for (int64_t x = 0; x < o.nx; ++x) {
          const double px = (static_cast<double>(x) + 0.5) * vs.x;
          double best = std::numeric_limits<double>::max(), second = best;
          int best_i = -1;
          const auto consider = [&](int i) {
            const auto u = static_cast<size_t>(i);
            const double d = std::hypot(px - cx[u], py - cy[u]) - r[u];
            if (d < best) {
              second = best;
              best = d;
              best_i = i;
            } else if (d < second) {
              second = d;
            }
          };
          const auto& candidates = cells[static_cast<size_t>((y / cell_px) * cells_x + x / cell_px)];
          for (int i : candidates) consider(i);
          if (candidates.size() < 2)  // drift opened a gap wider than `reach` (deep volumes): look at all
            for (size_t i = 0; i < neurites.size(); ++i) consider(static_cast<int>(i));
          const int64_t at = y * o.nx + x;
          own[at] = static_cast<uint32_t>(best_i + 1);
          if (second - best < o.membrane_nm) {
            mem[at] = 255;
            g[at] = membrane_grey;
            continue;
          }
          const Neurite& n = neurites[static_cast<size_t>(best_i)];
          float value = cytoplasm_grey + static_cast<float>(n.shade);
          for (int m_index : n.mitochondria) {
            const Mitochondrion& m = mitochondria[static_cast<size_t>(m_index)];
            const double t = (zn - m.z_centre) / m.half_length;
            if (std::abs(t) >= 1) continue;
            const double rho = m.radius * std::sqrt(1 - t * t);
            const double dx = px - (cx[static_cast<size_t>(best_i)] + m.offset_x);
            const double dy = py - (cy[static_cast<size_t>(best_i)] + m.offset_y);
            const double d = std::hypot(dx, dy);
            if (d >= rho) continue;
            mito[at] = 255;
            seen[static_cast<size_t>(m_index)] = 1;
            if (d > rho - wall_nm) {
              value = wall_grey;
            } else {
              const double along = dx * std::cos(m.cristae_angle) + dy * std::sin(m.cristae_angle);
              value = matrix_grey + 22 * static_cast<float>(std::sin(two_pi * along / 35.0));
            }
            break;
          }
          g[at] = value;
        }
      }
      progress.advance();
    }
    std::lock_guard lock(seen_mutex);
    for (size_t i = 0; i < seen.size(); ++i) mito_seen[i] |= seen[i];
  });

  // Consecutive ids 1..N for the neurites that appear, in neurite order; 0 on membranes.
  std::vector<uint32_t> new_id(neurites.size() + 1, 0);
  {
    const uint32_t* own = owner.data<uint32_t>();
    const uint8_t* mem = out.membranes.data<uint8_t>();
    for (int64_t i = 0; i < owner.voxels(); ++i)
      if (!mem[i]) new_id[own[i]] = 1;
    uint32_t next = 0;
    for (size_t i = 1; i < new_id.size(); ++i)
      if (new_id[i]) new_id[i] = ++next;
    out.neuron_count = next;
  }
  out.neurons = Volume(out.neuron_count > 65535 ? DType::u32 : DType::u16, o.nz, o.ny, o.nx);
  visit_dtype(out.neurons.dtype(), [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_integral_v<T>) {
      T* dst = out.neurons.data<T>();
      const uint32_t* own = owner.data<uint32_t>();
      const uint8_t* mem = out.membranes.data<uint8_t>();
      for (int64_t i = 0; i < owner.voxels(); ++i) dst[i] = mem[i] ? 0 : static_cast<T>(new_id[own[i]]);
    }
  });
  out.mitochondria_count = std::count(mito_seen.begin(), mito_seen.end(), uint8_t{1});

  gaussian_filter(grey, {0, o.blur_nm / vs.y, o.blur_nm / vs.x});
  out.image = Volume(DType::u8, o.nz, o.ny, o.nx);
  const float* gs = grey.data<float>();
  uint8_t* img = out.image.data<uint8_t>();
  parallel_for(0, grey.voxels(), 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double v = gs[i] + o.noise * hash_normal(noise_seed, static_cast<uint64_t>(i));
      img[i] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
    }
  });
  out.image.voxel_size = out.neurons.voxel_size = out.membranes.voxel_size = out.mitochondria.voxel_size = vs;
  return out;
}

}  // namespace uniem
