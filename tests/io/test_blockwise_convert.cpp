// Converting in slabs (io/blockwise_convert.h) gives the stack converting it whole gives: the crop
// box, a depth change (exact or clipped) and the voxel size, slab by slab into a multi-page TIFF
// and an HDF5 dataset; a box outside the volume and --scale are refused, leaving nothing.
#include <doctest/doctest.h>

#include "io/blockwise_convert.h"
#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;
using uniem::test::TempDir;

TEST_CASE("converting in slabs gives what converting the whole stack gives") {
  TempDir dir;
  Volume v(DType::u16, 11, 30, 40);
  for (int64_t i = 0; i < v.voxels(); ++i) v.data<uint16_t>()[i] = static_cast<uint16_t>((i * 37) % 700);
  v.voxel_size = {40, 4, 4, true};
  write_volume(dir / "in", v, {.format = StackFormat::png_folder});
  const ConvertBox box{{2, 5, 7}, {8, 20, 25}};
  const Volume want = convert_dtype(crop(v, box.origin, box.size), DType::u8, DepthPolicy::clip);
  for (const char* out : {"out.tif", "out.h5:x"}) {
    CAPTURE(out);
    const auto r = convert_blockwise(dir / "in", {}, dir / out, {.format = format_for_output(out)}, box, DType::u8, DepthPolicy::clip, 3);
    CHECK(r.slabs == 3);
    const Volume got = read_volume(dir / out);
    REQUIRE(got.shape() == want.shape());
    CHECK(got.dtype() == DType::u8);
    CHECK(std::equal(got.raw(), got.raw() + got.bytes(), want.raw()));
    CHECK(got.voxel_size.z == 40);
  }
  CHECK_THROWS_AS(convert_blockwise(dir / "in", {}, dir / "bad.tif", {.format = StackFormat::multipage_tiff}, ConvertBox{{5, 0, 0}, {7, 1, 1}},
                                    std::nullopt, DepthPolicy::exact, 2),
                  InputError);
  CHECK_THROWS_AS(convert_blockwise(dir / "in", {}, dir / "bad.tif", {.format = StackFormat::multipage_tiff}, std::nullopt, DType::u8,
                                    DepthPolicy::scale, 2),
                  InputError);
  CHECK_FALSE(std::filesystem::exists(dir / "bad.tif"));
}
