// Filtering in slabs (io/blockwise_filter.h) gives exactly the volume that filtering it whole gives
// (core/image/filter_steps.h): every step that reads its neighbours in 3D, and pipelines of them,
// on isotropic and anisotropic voxels, with slabs of 1 to 5 sections; steps that need the whole
// volume are refused with their name.
#include <doctest/doctest.h>

#include <random>

#include "io/blockwise_filter.h"
#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;
using uniem::test::TempDir;

namespace {

std::vector<ParsedFilterStep> parse(const std::vector<FilterStep>& steps) {
  std::vector<ParsedFilterStep> out;
  for (const auto& s : steps) out.push_back(parse_filter_step(s, true));
  return out;
}

}  // namespace

TEST_CASE("filtering in slabs gives the volume filtering it whole gives") {
  TempDir dir;
  Volume v(DType::u8, 15, 24, 28);
  std::mt19937 rng(5);
  for (int64_t z = 0, i = 0; z < v.nz(); ++z)  // smooth structure and noise, so every filter changes something
    for (int64_t y = 0; y < v.ny(); ++y)
      for (int64_t x = 0; x < v.nx(); ++x, ++i)
        v.data<uint8_t>()[i] = static_cast<uint8_t>(std::min<int64_t>(255, 40 + ((x / 5 + y / 7 + z / 3) % 3) * 70 + rng() % 40));
  const std::vector<std::vector<FilterStep>> pipelines = {
      {{"gaussian", "1.5"}}, {{"median", "1"}}, {{"mean", "2"}}, {{"min", "1"}, {"max", "1"}}, {{"sobel", ""}},
      {{"bilateral", "2,30"}}, {{"threshold", "120"}, {"open", "2"}}, {{"threshold", "120"}, {"close", "1"}, {"dilate", "1"}},
      {{"invert", ""}, {"gaussian", "1"}, {"erode", "0"}}, {{"gaussian", "20nm"}, {"max", "1"}}};
  for (const VoxelSize vs : {VoxelSize{6, 6, 6, true}, VoxelSize{30, 6, 6, true}}) {
    v.voxel_size = vs;
    write_volume(dir / "in", v, {.format = StackFormat::tiff_folder, .overwrite = true});
    for (const auto& pipeline : pipelines) {
      std::string name;
      for (const auto& s : pipeline) name += s.name + " " + s.value + "; ";
      CAPTURE(name);
      CAPTURE(vs.z);
      const auto steps = parse(pipeline);
      Volume whole = v;
      bool ok = true;
      try {
        for (const auto& s : steps) whole = apply_filter_step(s, whole, true);
      } catch (const InputError&) {
        ok = false;  // e.g. erode of a non-mask: not a pipeline a user can run
      }
      if (!ok) continue;
      for (const int64_t slab : {1, 2, 5}) {
        CAPTURE(slab);
        const auto r = filter_blockwise(dir / "in", {}, dir / "out.tif", {.format = StackFormat::multipage_tiff, .overwrite = true}, steps, true, slab);
        CHECK(r.slabs == (15 + slab - 1) / slab);
        const Volume got = read_volume(dir / "out.tif");
        REQUIRE(got.dtype() == whole.dtype());
        CHECK(std::equal(got.raw(), got.raw() + got.bytes(), whole.raw()));
      }
    }
  }
}

TEST_CASE("filtering in slabs refuses steps that need the whole volume, naming them") {
  TempDir dir;
  write_volume(dir / "in.tif", Volume(DType::u8, 4, 8, 8), {.format = StackFormat::multipage_tiff});
  for (const char* step : {"normalise", "distance", "fill-holes"}) {
    const std::vector<FilterStep> pipeline = {{"threshold", "0"}, {step, std::string(step) == "normalise" ? "1,99" : ""}};
    std::string message;
    try {
      filter_blockwise(dir / "in.tif", {}, dir / "out.tif", {.format = StackFormat::multipage_tiff}, parse(pipeline), true, 2);
    } catch (const InputError& e) {
      message = e.what();
    }
    CHECK(message.find(std::string("--") + step + " needs the whole volume") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(dir / "out.tif"));
}
