// Labelling in slabs (io/blockwise_label.h) gives exactly the ids of labelling the whole volume
// (core/image/label.h): on random volumes whose components wind across many slab faces, for every
// connectivity, both modes and slabs of 1 to 7 sections, through files (a TIFF folder in, a
// multi-page TIFF or an HDF5 dataset out).
#include <doctest/doctest.h>

#include <random>

#include "core/image/convert.h"
#include "io/blockwise_label.h"
#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;
using uniem::test::TempDir;

namespace {

// Voxels nonzero with probability `p`; in label mode the nonzero values are 1..`values`.
Volume random_volume(int64_t nz, int64_t ny, int64_t nx, double p, int values, uint32_t seed) {
  Volume v(DType::u8, nz, ny, nx);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (int64_t i = 0; i < v.voxels(); ++i) v.data<uint8_t>()[i] = u(rng) < p ? static_cast<uint8_t>(1 + rng() % values) : 0;
  return v;
}

}  // namespace

TEST_CASE("labelling in slabs gives the ids of labelling in memory, for every connectivity and slab size") {
  TempDir dir;
  const Volume masks = random_volume(13, 17, 19, 0.45, 1, 7), labels = random_volume(13, 17, 19, 0.6, 3, 8);
  write_volume(dir / "mask", masks, {.format = StackFormat::tiff_folder});
  write_volume(dir / "labels", labels, {.format = StackFormat::tiff_folder});
  for (const Connectivity c : {Connectivity::c6, Connectivity::c18, Connectivity::c26, Connectivity::c4, Connectivity::c8})
    for (const bool preserve : {false, true})
      for (const int64_t slab : {1, 2, 3, 7}) {
        CAPTURE(static_cast<int>(c));
        CAPTURE(preserve);
        CAPTURE(slab);
        const Volume& v = preserve ? labels : masks;
        const LabelResult expected = label_components(v, c, preserve);
        const auto out = dir / "out.tif";
        const auto r = label_blockwise(dir / (preserve ? "labels" : "mask"), {}, out, {.format = StackFormat::multipage_tiff, .overwrite = true}, c,
                                       preserve ? 1 : 0, slab);
        CHECK(r.count == expected.count);
        CHECK(r.slabs == (13 + slab - 1) / slab);
        const Volume got = read_volume(out), want = shrink_to_fit(expected.labels);
        REQUIRE(got.dtype() == want.dtype());
        CHECK(std::equal(got.raw(), got.raw() + got.bytes(), want.raw()));
      }
}

TEST_CASE("labelling in slabs decides the mode as the command does, and writes an HDF5 dataset") {
  TempDir dir;
  const Volume labels = random_volume(9, 20, 20, 0.7, 4, 3);
  write_volume(dir / "labels.tif", labels, {.format = StackFormat::multipage_tiff});
  const auto r = label_blockwise(dir / "labels.tif", {}, dir / "out.h5:ids", {.format = StackFormat::hdf5}, Connectivity::c26, -1, 4);
  CHECK(r.preserved);  // several nonzero values: label mode
  const Volume got = read_volume(dir / "out.h5:ids");
  const Volume want = shrink_to_fit(label_components(labels, Connectivity::c26, true).labels);
  REQUIRE(got.dtype() == want.dtype());
  CHECK(std::equal(got.raw(), got.raw() + got.bytes(), want.raw()));
}
