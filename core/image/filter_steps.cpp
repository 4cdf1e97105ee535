#include "core/image/filter_steps.h"

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/image/canny.h"
#include "core/image/distance.h"
#include "core/image/filters.h"

namespace uniem {
namespace {

// Values beyond these are mistakes, and would make a filter run for hours or overflow its sizes.
constexpr double largest_size_voxels = 500, largest_size_nm = 100000, largest_number = 1e12;

double number(const FilterStep& s, const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v) && std::abs(v) <= largest_number) return v;
  } catch (const std::exception&) {
  }
  throw UsageError("--" + s.name + ": '" + s.value + "' is not a number (or not a sensible one)");
}

using Size = FilterSize;

Size size_of(const FilterStep& s, const std::string& text) {
  const bool nm = text.size() > 2 && text.ends_with("nm");
  const double v = number(s, nm ? text.substr(0, text.size() - 2) : text);
  if (v < 0) throw UsageError("--" + s.name + " must not be negative, got " + s.value);
  if (v > (nm ? largest_size_nm : largest_size_voxels))
    throw UsageError("--" + s.name + " " + s.value + " is too large: at most " +
                     (nm ? "100000nm" : "500 (voxels of the x/y plane)"));
  return {v, nm};
}

// The size as an extent per axis; z only in 3D, scaled by the voxel size so that the
// neighbourhood is as wide in nm along z as in x.
Extent extent(const Size& size, const VoxelSize& vs, bool three_d) {
  const double physical = size.nm ? size.value : size.value * vs.x;
  return {three_d ? physical / vs.z : 0, physical / vs.y, physical / vs.x};
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts{""};
  for (char c : text) {
    if (c == ',') parts.emplace_back();
    else parts.back().push_back(c);
  }
  return parts;
}

}  // namespace

ParsedFilterStep parse_filter_step(const FilterStep& s, bool three_d) {
  ParsedFilterStep p{s.name, {}, {}, false, false};
  const auto parts = split(s.value);
  if (s.name == "invert" || s.name == "sobel" || s.name == "distance" || s.name == "fill-holes") return p;
  if (s.name == "bilateral") {
    if (parts.size() != 2) throw UsageError("--bilateral takes SPACE,RANGE, e.g. 2,30 (sigmas: voxels or nm, grey levels)");
    p.size = size_of(s, parts[0]);
    p.numbers = {number(s, parts[1])};
  } else if (s.name == "clahe") {
    if (three_d) throw UsageError("CLAHE works on each section; leave out --3d");
    if (parts.size() != 3) throw UsageError("--clahe takes BLOCK,BINS,SLOPE, e.g. 127,256,1.5 (ImageJ's parameters)");
    for (const auto& part : parts) p.numbers.push_back(number(s, part));
    if (p.numbers[0] > 100000 || p.numbers[1] > 65536) throw UsageError("--clahe: the block is at most 100000 pixels, the bins at most 65536");
  } else if (s.name == "canny") {
    if (three_d) throw UsageError("Canny finds edges in each section; leave out --3d");
    p.l1 = parts.size() == 4 && parts[3] == "l1";
    if (parts.size() < 2 || parts.size() > 4 || (parts.size() == 4 && !p.l1))
      throw UsageError("--canny takes LOW,HIGH[,SIGMA[,l1]], e.g. 50,150 or 20,60,1.5 (gradient thresholds in grey levels)");
    p.numbers = {number(s, parts[0]), number(s, parts[1]), parts.size() >= 3 ? number(s, parts[2]) : 0};
    if (p.numbers[0] < 0 || p.numbers[1] < 0 || p.numbers[2] < 0) throw UsageError("--canny: thresholds and sigma must not be negative");
    if (p.numbers[2] > largest_size_voxels) throw UsageError("--canny: the smoothing sigma is at most 500 pixels");
  } else if (s.name == "normalise") {
    if (parts.size() != 2) throw UsageError("--normalise takes LOW,HIGH percentiles, e.g. 1,99");
    p.numbers = {number(s, parts[0]), number(s, parts[1])};
  } else if (s.name == "threshold") {
    p.otsu = s.value == "otsu";
    if (!p.otsu) p.numbers = {number(s, s.value)};
  } else if (s.name == "remove-small") {
    p.numbers = {number(s, s.value)};
  } else if (s.name == "gaussian" || s.name == "median" || s.name == "mean" || s.name == "min" || s.name == "max" ||
             s.name == "dilate" || s.name == "erode" || s.name == "open" || s.name == "close") {
    p.size = size_of(s, s.value);
  } else {
    throw UsageError("unknown filter step '" + s.name + "' (uniem filter --help lists them)");
  }
  return p;
}

Volume apply_filter_step(const ParsedFilterStep& s, const Volume& v, bool three_d) {
  const VoxelSize& vs = v.voxel_size;
  const Extent e = extent(s.size, vs, three_d);
  if (s.name == "gaussian") return gaussian(v, e);
  if (s.name == "median") return median(v, e);
  if (s.name == "mean") return box_filter(v, BoxStatistic::mean, e);
  if (s.name == "min") return box_filter(v, BoxStatistic::minimum, e);
  if (s.name == "max") return box_filter(v, BoxStatistic::maximum, e);
  if (s.name == "invert") return invert(v);
  if (s.name == "bilateral") return bilateral(v, extent(s.size, vs, false).x, s.numbers[0], vs, three_d);
  if (s.name == "clahe") return clahe(v, {static_cast<int>(s.numbers[0]), static_cast<int>(s.numbers[1]), s.numbers[2]});
  if (s.name == "sobel") return sobel(v, three_d);
  if (s.name == "canny") return canny(v, {.low = s.numbers[0], .high = s.numbers[1], .sigma = s.numbers[2], .l1 = s.l1});
  if (s.name == "distance") return distance_transform(v, vs, !three_d);
  if (s.name == "fill-holes") return fill_holes(v, three_d);
  if (s.name == "normalise") return normalise(v, s.numbers[0], s.numbers[1]);
  if (s.name == "threshold") return threshold(v, s.otsu ? otsu_threshold(v) : s.numbers[0]);
  if (s.name == "remove-small")
    return remove_small_objects(v, static_cast<int64_t>(s.numbers[0]), three_d ? Connectivity::c6 : Connectivity::c4);
  const Morphology op = s.name == "dilate" ? Morphology::dilate : s.name == "erode" ? Morphology::erode
                        : s.name == "open"  ? Morphology::open   : Morphology::close;
  return binary_morphology(v, op, e.x * vs.x, vs, three_d);
}

int64_t filter_step_z_reach(const ParsedFilterStep& s, const VoxelSize& vs, bool three_d, bool& is_float) {
  const std::string& n = s.name;
  const bool was_float = is_float;
  if (n == "sobel" || n == "normalise" || n == "distance") is_float = true;
  else if (n == "threshold" || n == "canny" || n == "clahe" || n == "dilate" || n == "erode" || n == "open" || n == "close" ||
           n == "fill-holes" || n == "remove-small")
    is_float = false;
  if (n == "normalise" || n == "distance" || n == "fill-holes" || n == "remove-small" || (n == "threshold" && s.otsu) ||
      (n == "invert" && was_float))
    return -1;
  if (!three_d || n == "invert" || n == "threshold" || n == "canny" || n == "clahe") return 0;
  if (n == "sobel") return 1;
  const double z = extent(s.size, vs, true).z;  // the step's reach in sections
  if (n == "gaussian") return static_cast<int64_t>(std::ceil(4.0 * z));
  if (n == "bilateral") return static_cast<int64_t>(std::ceil(1.5 * extent(s.size, vs, false).x * vs.x / vs.z)) + 1;
  if (n == "open" || n == "close") return 2 * static_cast<int64_t>(std::ceil(z));
  return static_cast<int64_t>(std::ceil(z));  // median, mean, min, max, dilate, erode
}

}  // namespace uniem
