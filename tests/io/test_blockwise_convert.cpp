// Converting in slabs (io/blockwise_convert.h) gives the stack converting it whole gives: the crop
// box, a depth change (exact or clipped) and the voxel size, slab by slab into a multi-page TIFF
// and an HDF5 dataset; a box outside the volume and --scale are refused, leaving nothing. An
// OME-Zarr image written a few sections at a time (io/zarr.h OmeZarrWriter) has the files of one
// written whole.
#include <doctest/doctest.h>

#include <fstream>
#include <map>

#include "io/blockwise_convert.h"
#include "io/stack.h"
#include "io/zarr.h"
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

namespace {

// Every file under `a` and `b`, by relative path, with its bytes.
std::map<std::string, std::string> files_of(const std::filesystem::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.is_regular_file()) {
      std::ifstream in(e.path(), std::ios::binary);
      out[std::filesystem::relative(e.path(), root).string()] = std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
  return out;
}

}  // namespace

TEST_CASE("an OME-Zarr image written a few sections at a time has the files of one written whole") {
  TempDir dir;
  Volume v(DType::u16, 70, 300, 290);
  for (int64_t i = 0; i < v.voxels(); ++i) v.data<uint16_t>()[i] = static_cast<uint16_t>((i / 7) % 5000);
  v.voxel_size = {6, 6, 6, true};  // isotropic: z is halved with y and x
  for (const int version : {2, 3})
    for (const bool labels : {false, true}) {
      CAPTURE(version);
      CAPTURE(labels);
      const auto whole = dir / ("whole-" + std::to_string(version) + (labels ? "l" : "i"));
      const auto slabs = dir / ("slabs-" + std::to_string(version) + (labels ? "l" : "i"));
      write_ome_zarr(whole, v, labels, version);
      OmeZarrWriter writer(slabs, v, v.nz(), labels, version);
      for (int64_t z = 0; z < v.nz(); z += 5) writer.append(crop(v, {z, 0, 0}, {std::min<int64_t>(5, v.nz() - z), v.ny(), v.nx()}));
      writer.finish();
      auto a = files_of(whole), b = files_of(slabs);
      CHECK(a.size() >= 6);  // two levels of chunks (or shards) and the metadata
      for (auto* f : {&a, &b})  // the image's name is its folder's
        for (const char* meta : {".zattrs", "zarr.json"}) f->erase(meta);
      CHECK(a == b);
    }
}
