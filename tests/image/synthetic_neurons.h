// The neurons of a small synthetic EM volume (core/image/synth.h): some 30 thin objects separated
// by membranes (label 0), 12 x 96 x 96 voxels, for the affinity watershed and agglomeration tests.
#pragma once

#include <cstdint>

#include "core/image/synth.h"

namespace uniem::test {

inline Volume synthetic_neurons(uint64_t seed) {
  SynthOptions o;
  o.nz = 12;
  o.ny = o.nx = 96;
  o.seed = seed;
  o.radius_min_nm = 40;  // thin neurites: some 30 objects
  o.radius_max_nm = 120;
  return synthesize(o).neurons;
}

}  // namespace uniem::test
