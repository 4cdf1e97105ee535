// The watershed in overlapping slabs (io/blockwise_watershed.h) against the watershed in memory,
// on a synthetic EM volume's smoothed, inverted image (the classic segmentation of uniem demo):
// with 8 sections of overlap the partition agrees (V_rand >= 0.999, here exactly 1); without
// overlap the slabs' regions cannot be joined and the agreement drops; --markers keeps the
// markers' ids; Otsu's threshold of a stack read in slabs equals that of the whole volume.
#include <doctest/doctest.h>

#include "core/image/filters.h"
#include "core/image/metrics.h"
#include "core/image/synth.h"
#include "core/image/watershed.h"
#include "io/blockwise_watershed.h"
#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;
using uniem::test::TempDir;

namespace {

double v_rand(const Volume& a, const Volume& b) { return instance_scores(contingency_table(a, b, false)).v_rand; }

}  // namespace

TEST_CASE("the watershed in overlapping slabs agrees with the watershed in memory") {
  TempDir dir;
  SynthOptions so;
  so.nz = 40, so.ny = 96, so.nx = 96, so.seed = 4;
  const SynthVolume s = synthesize(so);
  Volume boundary = gaussian(s.image, {0, 1.5, 1.5});
  boundary = invert(boundary);
  write_volume(dir / "b.tif", boundary, {.format = StackFormat::multipage_tiff});
  const double level = otsu_threshold(boundary);
  CHECK(stack_otsu_threshold(dir / "b.tif", {}, 3) == level);
  const Volume whole = watershed(boundary, markers_below(boundary, level, Connectivity::c6), nullptr, {Connectivity::c6, false});

  BlockwiseWatershedOptions o;
  o.seeds_below_otsu = true;
  o.slab_sections = 9, o.overlap = 8;
  const auto r = watershed_blockwise(dir / "b.tif", {}, dir / "slabs.tif", {.format = StackFormat::multipage_tiff}, o);
  CHECK(r.slabs == 5);
  CHECK(r.level == level);
  const Volume slabs = read_volume(dir / "slabs.tif");
  CHECK(v_rand(slabs, whole) >= 0.999);
  MESSAGE("V_rand of 5 slabs with 8 sections of overlap against the run in memory: ", v_rand(slabs, whole));

  o.overlap = 0;  // nothing to join them by: every region crossing a face is cut in two
  watershed_blockwise(dir / "b.tif", {}, dir / "cut.tif", {.format = StackFormat::multipage_tiff}, o);
  CHECK(v_rand(read_volume(dir / "cut.tif"), whole) < 0.99);

  // Markers from a stack: the regions keep the markers' ids.
  write_volume(dir / "markers.tif", markers_below(boundary, level, Connectivity::c6), {.format = StackFormat::multipage_tiff});
  BlockwiseWatershedOptions m;
  m.markers = dir / "markers.tif";
  m.slab_sections = 9, m.overlap = 8;
  watershed_blockwise(dir / "b.tif", {}, dir / "marked.tif", {.format = StackFormat::multipage_tiff}, m);
  const Volume marked = read_volume(dir / "marked.tif");
  int64_t same = 0;
  for (int64_t i = 0; i < whole.voxels(); ++i) same += marked.value(i) == whole.value(i);
  CHECK(static_cast<double>(same) / static_cast<double>(whole.voxels()) > 0.999);
}
