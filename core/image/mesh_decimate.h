// Quadric-error decimation (M. Garland and P. Heckbert, "Surface simplification using quadric
// error metrics", SIGGRAPH 1997): edges are collapsed cheapest first, each into the point that
// is closest in the squared-distance sense to the planes of the triangles around both ends.
//
// A collapse is refused when it would change the topology or fold the surface: the two ends must
// share exactly the two neighbours of their edge (the link condition), no triangle may end up
// twice, and no remaining triangle may turn by more than about 78 degrees or lose its area. So a
// closed surface stays closed with the same Euler characteristic; the decimation stops early when
// no allowed collapse is left. Deterministic: ties are broken by vertex numbers.
#pragma once

#include <cstdint>

#include "core/image/mesh.h"

namespace uniem {

struct DecimateOptions {
  double ratio = 1.0;      // keep this fraction of the triangles (0 < ratio <= 1)
  int64_t triangles = 0;   // or this many (when > 0; takes precedence)
};

// Returns the number of triangles left. Throws InputError for a ratio outside (0, 1].
int64_t decimate(Mesh& mesh, const DecimateOptions& options);

}  // namespace uniem
