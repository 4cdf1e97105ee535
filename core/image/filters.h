// Classic filters for `uniem filter`: smoothing, order statistics, edges, thresholds and binary
// morphology, in 2D (each section on its own) or 3D.
//
// Neighbourhoods are given per axis in voxels (Extent). Borders mirror as scipy.ndimage's
// "reflect" mode (d c b a | a b c d). What each filter returns:
//   gaussian, mean, median, minimum, maximum, invert  -> the input's type; integer results are
//       rounded to nearest and never leave the input's range (they are averages or order values)
//   normalise, sobel                                  -> float32
//   threshold, binary morphology, fill_holes,
//   remove_small_objects                              -> uint8 mask, 0 or 255
// Filters that make sense only on images refuse 32/64-bit label volumes, and binary morphology
// refuses volumes that are not masks (more than one nonzero value), with InputError.
//
// Median: windows of at most 128 values (up to 11x11 or 5x5x5) by a selection network across many
// voxels at a time (core/image/median_network.h); larger ones by the sliding-histogram median (Huang, Yang, Tang, "A fast two-dimensional median filtering
// algorithm", IEEE TASSP 27(1), 1979), extended to 3D boxes: moving the window one voxel along x
// removes one face and adds one, and the median moves incrementally; O(face) per voxel. Histogram
// path for 8 and 16-bit volumes, a partial sort of the window for float32.
// Binary morphology with a ball of radius R (in nm, so 3D balls are round in anisotropic data) is
// exact through the Euclidean distance transform: dilation = distance to the mask <= R, erosion =
// distance to the background > R. Outside the volume is neither: objects at the border are not
// eroded from it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/image/label.h"
#include "core/image/volume.h"

namespace uniem {

struct Extent {
  double z = 0, y = 0, x = 0;  // voxels; z = 0 filters each section on its own
};

Volume gaussian(const Volume& v, Extent sigma);
enum class BoxStatistic { mean, minimum, maximum };
Volume box_filter(const Volume& v, BoxStatistic statistic, Extent radius);  // radii rounded to whole voxels
Volume median(const Volume& v, Extent radius);                              // box of (2r + 1) per axis
Volume invert(const Volume& v);  // integers: type maximum - v; float32: (min + max) - v
Volume normalise(const Volume& v, double low_percent, double high_percent);  // to [0, 1], clipped
Volume sobel(const Volume& v, bool three_d);                                // gradient magnitude

// Edge-preserving smoothing (Tomasi and Manduchi, "Bilateral filtering for gray and color images",
// ICCV 1998): each voxel becomes the mean of its neighbours within round(1.5 sigma_space) (a disc,
// or a ball in nm in 3D), weighted by exp(-d^2 / 2 sigma_space^2) * exp(-dv^2 / 2 sigma_range^2),
// d the distance in voxels of x and dv the grey-level difference. The same type comes back.
Volume bilateral(const Volume& v, double sigma_space, double sigma_range, VoxelSize spacing, bool three_d);

// Contrast-limited adaptive histogram equalisation (Zuiderveld, "Contrast Limited Adaptive
// Histogram Equalization", Graphics Gems IV, 1994), each pixel mapped through the clipped
// cumulative histogram of the block centred on it, as ImageJ's CLAHE plugin computes it exactly
// (its parameters: block size, histogram bins, maximum slope; SNEMI3D used 127, 256, 1.5).
// Blocks are cut at the image border, not mirrored. 8-bit images only; each section on its own.
// O(pixels * (block + bins)).
struct ClaheOptions {
  int block_size = 127;
  int bins = 256;
  double max_slope = 3.0;
};
Volume clahe(const Volume& v, const ClaheOptions& options);

// scikit-image's threshold_otsu: one bin per value for integer images, 256 bins for float32.
double otsu_threshold(const Volume& v);
// The same from a histogram: hist[i] values at centre[i] (ascending), for volumes read in slabs.
double otsu_from_histogram(const std::vector<double>& hist, const std::vector<double>& centre);
Volume threshold(const Volume& v, double level);  // 255 where v > level

enum class Morphology { dilate, erode, open, close };
Volume binary_morphology(const Volume& mask, Morphology op, double radius_nm, VoxelSize spacing, bool three_d);
Volume fill_holes(const Volume& mask, bool three_d);  // background not connected to the border (4/6-conn)
Volume remove_small_objects(const Volume& mask, int64_t min_voxels, Connectivity connectivity);

}  // namespace uniem
