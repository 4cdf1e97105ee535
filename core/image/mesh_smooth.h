// Taubin's non-shrinking mesh smoothing (G. Taubin, "A signal processing approach to fair surface
// design", SIGGRAPH 1995): each iteration moves every vertex towards the mean of its neighbours
// by lambda, then away from it by mu (mu < -lambda < 0). Together the two steps are a low-pass
// filter: surface wiggles shorter than about 1 / pass_band edges are smoothed away (the staircase
// of voxel faces), longer shapes keep their size, so an object neither shrinks nor grows.
// mu follows from lambda and the pass band: 1 / lambda + 1 / mu = pass_band.
//
// Connectivity is untouched, so a closed mesh stays closed. The result does not depend on the
// thread count.
#pragma once

#include "core/image/mesh.h"

namespace uniem {

struct SmoothOptions {
  int iterations = 20;      // lambda/mu pairs
  double lambda = 0.5;      // 0 < lambda < 1
  double pass_band = 0.05;  // 0 < pass_band < 1 / lambda; smaller keeps less detail
};

// Throws InputError for parameters outside their ranges.
void smooth(Mesh& mesh, const SmoothOptions& options = {});

}  // namespace uniem
