// Synthetic EM-like volumes with exact ground truth, for the demo, the tests and the benchmarks.
//
// The model, in physical units (nm):
// - Neurites are tubes running through the stack, mostly along z as in serial-section EM, each
//   with a drifting, meandering centre line and a radius that swells and narrows. Every voxel
//   belongs to the neurite whose surface is nearest (an additively weighted Voronoi partition of
//   each section, |p - c_i(z)| - r_i(z)), so the neuropil is densely packed as in real tissue.
// - Membranes are the voxels within `membrane_nm / 2` of a boundary between two neurites.
// - Mitochondria are elongated ellipsoids inside some neurites, with a dark outer wall and a
//   mid-grey, striped (cristae) interior.
// - The image is cytoplasm (light, a slightly different shade per neurite), dark membranes and
//   mitochondria, blurred in-plane by a Gaussian point-spread function and given Gaussian noise.
// Everything is a function of the seed: the same options give the same volume, bit for bit,
// whatever the thread count. Cost: O(voxels * neurites near a voxel), parallel over sections.
#pragma once

#include <cstdint>

#include "core/image/volume.h"

namespace uniem {

struct SynthOptions {
  int64_t nz = 48, ny = 256, nx = 256;
  VoxelSize voxel_size{30, 6, 6, true};  // nm, (z, y, x): anisotropic like ATUM/ssEM
  uint64_t seed = 1;
  double radius_min_nm = 80, radius_max_nm = 260;  // neurite radii
  double membrane_nm = 24;                         // apparent membrane thickness
  double mitochondria_fraction = 0.35;             // share of neurites that hold mitochondria
  double blur_nm = 6;                              // in-plane point-spread sigma
  double noise = 12;                               // grey levels, standard deviation
};

struct SynthVolume {
  Volume image;          // uint8 EM-like image
  Volume neurons;        // uint16 (uint32 past 65535) instance ids 1..N, 0 on membranes
  Volume membranes;      // uint8, 255 on membranes, 0 elsewhere
  Volume mitochondria;   // uint8, 255 inside mitochondria (wall included), 0 elsewhere
  int64_t neuron_count = 0;
  int64_t mitochondria_count = 0;
};

// Throws UsageError for impossible options (empty shape, radius_min > radius_max, ...).
SynthVolume synthesize(const SynthOptions& options);

}  // namespace uniem
