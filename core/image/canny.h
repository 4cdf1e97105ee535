// Canny edge detection (Canny, "A computational approach to edge detection", IEEE PAMI 8(6), 1986),
// each section on its own, for `uniem filter --canny`.
//
// Steps: optional Gaussian smoothing (sigma in voxels, 0 = none, as cv2.Canny which smooths
// nothing); the 3x3 Sobel gradient (gx, gy; borders repeat the edge pixel, as OpenCV); the gradient
// magnitude, sqrt(gx^2 + gy^2), or |gx| + |gy| with `l1` (cv2.Canny's default); non-maximum
// suppression along the gradient direction quantised to 0, 45, 90 or 135 degrees (a pixel is kept
// when it is larger than the neighbour before it and not smaller than the one after, so a ridge
// two pixels wide keeps one); hysteresis: pixels above `high` are edges, and so is every pixel
// above `low` 8-connected to one of them through such pixels. Outside the image the magnitude is 0.
// With sigma 0 and 8-bit input the result equals cv2.Canny(image, low, high, L2gradient=!l1).
// Returns a uint8 mask, 255 on edges. Throws InputError for label volumes, colour, thresholds that
// are negative or low > high.
#pragma once

#include "core/image/volume.h"

namespace uniem {

struct CannyOptions {
  double low = 50, high = 150;  // on the gradient magnitude of the (smoothed) image, in grey levels
  double sigma = 0;             // Gaussian smoothing first, in pixels; 0 = none
  bool l1 = false;              // |gx| + |gy| instead of the Euclidean magnitude
};

Volume canny(const Volume& image, const CannyOptions& options);

}  // namespace uniem
