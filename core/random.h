// Reproducible random numbers, identical on every compiler and thread count.
//
// std::normal_distribution and friends are implementation-defined, so uniem draws its own from
// std::mt19937_64 (whose output the standard fixes). For per-voxel noise in parallel loops,
// hash_uniform / hash_normal derive a value from (seed, index) alone (splitmix64), so the result
// does not depend on which thread computed which voxel.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

#include "core/host_device.h"

// splitmix64 and hash_uniform also run on the GPU (the CUDA backend's random fills), so a tensor
// drawn there holds the same values as one drawn on the CPU.

namespace uniem {

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int64_t integer(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(uniform() * static_cast<double>(hi - lo + 1)); }
  double normal() {  // Box-Muller, one of the pair
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

UNIEM_HOST_DEVICE inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

UNIEM_HOST_DEVICE inline double hash_uniform(uint64_t seed, uint64_t index) {
  return static_cast<double>(splitmix64(seed ^ splitmix64(index)) >> 11) * 0x1.0p-53;
}

inline double hash_normal(uint64_t seed, uint64_t index) {
  const double u1 = 1.0 - hash_uniform(seed, 2 * index), u2 = hash_uniform(seed, 2 * index + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace uniem
