#include <doctest/doctest.h>

#include <cmath>

#include <vector>

#include "io/png.h"
#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;
using uniem::test::TempDir;
namespace fs = std::filesystem;

TEST_CASE("PNG folders, TIFF folders and multi-page TIFF round trip every depth they hold") {
  TempDir dir;
  struct Case {
    StackFormat format;
    std::vector<DType> types;
    const char* name;
  };
  const Case cases[] = {{StackFormat::png_folder, {DType::u8, DType::u16}, "png"},
                        {StackFormat::tiff_folder, {DType::u8, DType::u16, DType::u32, DType::f32}, "tiffs"},
                        {StackFormat::multipage_tiff, {DType::u8, DType::u16, DType::u32, DType::f32}, "multi.tif"}};
  for (const auto& c : cases)
    for (DType t : c.types) {
      CAPTURE(c.name);
      CAPTURE(dtype_name(t));
      Volume v = test::pattern_volume(t, 12, 20, 30);
      v.voxel_size = {30, 6, 6, true};
      WriteOptions w;
      w.format = c.format;
      w.overwrite = true;
      const fs::path out = dir / c.name;
      write_volume(out, v, w);
      StackInfo info;
      const Volume back = read_volume(out, {}, &info);
      CHECK(test::same_voxels(v, back));
      CHECK(back.voxel_size.known);
      CHECK(back.voxel_size.x == doctest::Approx(6).epsilon(1e-3));
      CHECK(back.voxel_size.z == doctest::Approx(30));
      if (c.format == StackFormat::png_folder) {
        CHECK(fs::exists(out / "0000.png"));
        CHECK(fs::exists(out / "0011.png"));
      }
    }
}

TEST_CASE("folders are read in natural order and ignore files that are not images") {
  TempDir dir;
  for (int z : {1, 2, 10, 11}) {
    Volume v(DType::u8, 1, 2, 2);
    v.data<uint8_t>()[0] = static_cast<uint8_t>(z);
    write_png(dir / ("s" + std::to_string(z) + ".png"), v, 0);
  }
  test::write_text(dir / "notes.txt", "not an image");
  test::write_text(dir / ".hidden.png", "editor backup");
  const Volume v = read_volume(dir.path());
  REQUIRE(v.nz() == 4);
  CHECK(v.at<uint8_t>(0, 0, 0) == 1);
  CHECK(v.at<uint8_t>(1, 0, 0) == 2);
  CHECK(v.at<uint8_t>(2, 0, 0) == 10);
  CHECK(v.at<uint8_t>(3, 0, 0) == 11);
}

TEST_CASE("a PNG folder without voxel-size.json knows x and y from pHYs but not z") {
  TempDir dir;
  Volume v = test::pattern_volume(DType::u8, 2, 4, 4);
  v.voxel_size = {50, 4, 4, true};
  write_volume(dir / "s", v, {});
  CHECK(read_volume(dir / "s").voxel_size.known);
  fs::remove(dir / "s" / "voxel-size.json");
  const VoxelSize partial = read_volume(dir / "s").voxel_size;
  CHECK_FALSE(partial.known);
  CHECK(partial.x == doctest::Approx(4).epsilon(1e-3));
  test::write_text(dir / "s" / "voxel-size.json", "{oops");
  CHECK(test::input_error_message([&] { read_volume(dir / "s"); }).find("voxel-size.json") != std::string::npos);
}

TEST_CASE("bad stacks are refused with the file and the problem") {
  TempDir dir;
  auto message = [](const fs::path& p) { return test::input_error_message([&] { read_volume(p); }); };
  CHECK(message(dir / "nowhere").find("no such file or folder") != std::string::npos);
  fs::create_directory(dir / "empty");
  CHECK(message(dir / "empty").find("holds no PNG or TIFF images") != std::string::npos);
  fs::create_directory(dir / "mixed");
  write_png(dir / "mixed" / "0.png", Volume(DType::u8, 1, 8, 8), 0);
  write_png(dir / "mixed" / "1.png", Volume(DType::u8, 1, 8, 9), 0);
  const std::string mixed = message(dir / "mixed");
  CHECK(mixed.find("1.png") != std::string::npos);
  CHECK(mixed.find("same size") != std::string::npos);
  fs::create_directory(dir / "depths");
  write_png(dir / "depths" / "0.png", Volume(DType::u8, 1, 8, 8), 0);
  write_png(dir / "depths" / "1.png", Volume(DType::u16, 1, 8, 8), 0);
  CHECK(message(dir / "depths").find("uint16") != std::string::npos);
  test::write_text(dir / "x.jpg", "");
  CHECK(message(dir / "x.jpg").find("neither a PNG nor a TIFF") != std::string::npos);
}

TEST_CASE("StackReader gives the same voxels as read_volume, a few sections at a time, with the same refusals") {
  TempDir dir;
  Volume v = test::pattern_volume(DType::u16, 11, 17, 23);
  v.voxel_size = {30, 6, 5, true};
  auto same_size = [](const VoxelSize& a, const VoxelSize& b) {
    return a.known == b.known && std::abs(a.z - b.z) < 1e-3 && std::abs(a.y - b.y) < 1e-3 && std::abs(a.x - b.x) < 1e-3;
  };
  for (StackFormat format : {StackFormat::png_folder, StackFormat::tiff_folder, StackFormat::multipage_tiff}) {
    WriteOptions w;
    w.format = format;
    const fs::path out = dir / (format == StackFormat::multipage_tiff ? "stack.tif" : format == StackFormat::png_folder ? "png" : "tiffs");
    write_volume(out, v, w);
    for (int64_t step : {1, 4, 11, 50}) {
      CAPTURE(out.filename().string());
      CAPTURE(step);
      StackReader reader(out);
      CHECK(reader.nz() == 11);
      CHECK(reader.ny() == 17);
      CHECK(reader.nx() == 23);
      CHECK(reader.dtype() == DType::u16);
      CHECK(same_size(reader.voxel_size(), read_volume(out).voxel_size));
      int64_t z = 0;
      for (Volume part = reader.next(step); !part.empty(); part = reader.next(step)) {
        CHECK(part.nz() == std::min<int64_t>(step, 11 - z));
        for (int64_t i = 0; i < part.elements(); ++i) REQUIRE(part.data<uint16_t>()[i] == v.data<uint16_t>()[z * 17 * 23 + i]);
        z += part.nz();
      }
      CHECK(z == 11);
    }
  }
  CHECK(StackReader(dir / "png").voxel_size().z == 30);
  fs::remove(dir / "png" / "voxel-size.json");  // then the PNGs' pHYs: x and y, z unknown
  CHECK(same_size(StackReader(dir / "png").voxel_size(), read_volume(dir / "png").voxel_size));
  CHECK(StackReader(dir / "png").voxel_size().x == doctest::Approx(5).epsilon(0.01));
  write_png(dir / "one.png", Volume(DType::u8, 1, 8, 8), 0);
  CHECK(StackReader(dir / "one.png").next(5).nz() == 1);
  auto message = [](const fs::path& p) { return test::input_error_message([&] { StackReader r(p); }); };
  CHECK(message(dir / "nowhere").find("no such file or folder") != std::string::npos);
  fs::create_directory(dir / "mixed");
  write_png(dir / "mixed" / "0.png", Volume(DType::u8, 1, 8, 8), 0);
  write_png(dir / "mixed" / "1.png", Volume(DType::u8, 1, 8, 9), 0);
  CHECK(message(dir / "mixed").find("same size") != std::string::npos);
}

TEST_CASE("outputs: refused when they exist, replaced with overwrite, never half-written") {
  TempDir dir;
  const Volume v = test::pattern_volume(DType::u8, 3, 8, 8);
  WriteOptions w;
  write_volume(dir / "out", v, w);
  CHECK_THROWS_WITH_AS(write_volume(dir / "out", v, w), doctest::Contains("--overwrite"), InputError);
  fs::create_directory(dir / "empty");
  write_volume(dir / "empty", v, w);  // an empty folder may be written into
  CHECK(fs::exists(dir / "empty" / "0002.png"));
  const Volume other = test::pattern_volume(DType::u8, 5, 8, 8);
  w.overwrite = true;
  write_volume(dir / "out", other, w);
  CHECK(read_volume(dir / "out").nz() == 5);

  // PNG cannot hold 32 bits: refused before anything is written, with the fix.
  const Volume labels = test::pattern_volume(DType::u32, 2, 4, 4);
  CHECK_THROWS_WITH_AS(write_volume(dir / "labels", labels, {}), doctest::Contains("--bits 16"), InputError);
  CHECK_FALSE(fs::exists(dir / "labels"));
  // A file output where a folder is, and the other way round, are refused even with overwrite.
  fs::create_directory(dir / "folder.tif");
  WriteOptions tiff;
  tiff.format = StackFormat::multipage_tiff;
  tiff.overwrite = true;
  CHECK_THROWS_WITH_AS(check_output_writable(dir / "folder.tif", tiff), doctest::Contains("is a folder"), InputError);
  test::write_text(dir / "file", "x");
  CHECK_THROWS_WITH_AS(write_volume(dir / "file", v, w), doctest::Contains("is a file"), InputError);
  CHECK_THROWS_WITH_AS(write_volume(dir / "no" / "such" / "parent", v, w), doctest::Contains("no such folder"), InputError);
  // Nothing with a temporary name is left anywhere.
  for (const auto& entry : fs::directory_iterator(dir.path())) CHECK(entry.path().string().find(".tmp-") == std::string::npos);
}

TEST_CASE("paths with spaces and non-ASCII characters work") {
  TempDir dir;
  const fs::path folder = dir / "Zellkern Überblick – 電子顕微鏡";
  const Volume v = test::pattern_volume(DType::u16, 2, 5, 5);
  write_volume(folder, v, {});
  CHECK(test::same_voxels(v, read_volume(folder)));
  WriteOptions w;
  w.format = StackFormat::multipage_tiff;
  write_volume(dir / "stapel mit Ä.tif", v, w);
  CHECK(test::same_voxels(v, read_volume(dir / "stapel mit Ä.tif")));
}
