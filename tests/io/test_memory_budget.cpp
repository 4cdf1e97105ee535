// The memory budget: files and stacks that announce more than it are refused, naming the file and
// the limit, before anything of their size is allocated or decoded.
#include <doctest/doctest.h>

#include <chrono>

#include "core/memory_budget.h"
#include "io/png.h"
#include "io/stack.h"
#include "io/tiff.h"
#include "tests/io/file_bombs.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::test;  // TempDir, run_uniem, quote, ...
namespace fs = std::filesystem;

namespace {
// Sets the budget for one test and restores the default after it.
struct Budget {
  explicit Budget(int64_t bytes) { set_memory_budget(bytes); }
  ~Budget() { set_memory_budget(0); }
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

TEST_CASE("the budget: a share of the RAM by default, set and restored; sizes read as people write them") {
  const int64_t fallback = memory_budget();
  CHECK(fallback > 0);
  if (physical_memory() > 0 && !std::getenv("UNIEM_MEMORY")) CHECK(fallback == physical_memory() / 2);
  {
    Budget b(int64_t{64} << 20);
    CHECK(memory_budget() == int64_t{64} << 20);
  }
  CHECK(memory_budget() == fallback);
  CHECK(format_bytes(2.5e9) == "2.3 GiB");
  CHECK(format_bytes(double(int64_t{1} << 30)) == "1.0 GiB");
  CHECK(format_bytes(64.0 * 1024 * 1024) == "64 MiB");
  CHECK(format_bytes(100) == "100 bytes");
}

TEST_CASE("a compressed TIFF announcing 50000 x 50000 pixels is refused, named, at once") {
  TempDir dir;
  const fs::path bomb = dir / "big.tif";
  test::write_tiff_bomb(bomb, 50000, 50000);
  CHECK(fs::file_size(bomb) < 10000);
  Budget b(int64_t{1} << 30);
  const auto start = std::chrono::steady_clock::now();
  const std::string expected = bomb.string() +
                               ": announces 50000 x 50000 pixels (2.3 GiB as 8-bit grey), more than the memory limit of "
                               "1.0 GiB; give more with --memory MB, or crop the file";
  CHECK(input_error_message([&] { probe_tiff(bomb, ColorPolicy::grey); }) == expected);
  CHECK(input_error_message([&] { read_volume(bomb); }) == expected);
  CHECK(input_error_message([&] { StackReader reader(bomb); }) == expected);
  CHECK(input_error_message([&] { TiffPageReader(bomb, ColorPolicy::grey); }) == "no error");  // opening reads no pixels
  Volume small(DType::u8, 1, 1, 1);
  CHECK(input_error_message([&] { TiffPageReader(bomb, ColorPolicy::grey).read_next(small, 0); }) == expected);
  // As 3 channels the voxels take three times the memory.
  ReadOptions rgb;
  rgb.color = ColorPolicy::channels;
  CHECK(input_error_message([&] { read_volume(bomb, rgb); }).find("(7.0 GiB as 8-bit grey)") != std::string::npos);
  CHECK(seconds_since(start) < 5);
  // In a folder, the file is named.
  fs::create_directory(dir / "stack");
  test::write_tiff_bomb(dir / "stack" / "0001.tif", 50000, 50000);
  CHECK(input_error_message([&] { read_volume(dir / "stack"); }).starts_with((dir / "stack" / "0001.tif").string() + ": announces"));
}

TEST_CASE("a PNG whose header announces 50000 x 50000 pixels is refused before it is inflated") {
  TempDir dir;
  const fs::path bomb = dir / "big.png";
  test::write_png_bomb(bomb, 50000, 50000);
  Budget b(int64_t{1} << 30);
  const auto start = std::chrono::steady_clock::now();
  const std::string expected = bomb.string() +
                               ": announces 50000 x 50000 pixels (2.3 GiB as 8-bit grey), more than the memory limit of "
                               "1.0 GiB; give more with --memory MB, or crop the file";
  CHECK(input_error_message([&] { probe_png(bomb, ColorPolicy::grey); }) == expected);
  CHECK(input_error_message([&] { read_volume(bomb); }) == expected);
  Volume small(DType::u8, 1, 1, 1);
  CHECK(input_error_message([&] { read_png_into(bomb, ColorPolicy::grey, small, 0); }) == expected);
  CHECK(seconds_since(start) < 5);
}

TEST_CASE("pixel data that inflates to far more than the header announces is refused as corrupt") {
  TempDir dir;
  const fs::path bomb = dir / "small-header.png";
  test::write_png_bomb(bomb, 64, 64, test::zlib_stream(size_t{64} << 20));  // 64 MiB of zeros behind a 64 x 64 header
  CHECK(fs::file_size(bomb) < 200000);
  CHECK(input_error_message([&] { read_volume(bomb); }).find("not a readable PNG") != std::string::npos);
}

TEST_CASE("a stack whose images fit one by one but not together is refused, naming the stack") {
  TempDir dir;
  const Volume v = test::pattern_volume(DType::u8, 3, 64, 64);
  WriteOptions tiff;
  tiff.format = StackFormat::multipage_tiff;
  write_volume(dir / "pngs", v, WriteOptions());
  write_volume(dir / "pages.tif", v, tiff);
  Budget b(10000);  // one image is 4096 bytes, three are 12288
  CHECK(input_error_message([&] { read_volume(dir / "pngs"); }) ==
        (dir / "pngs").string() + ": announces 3 sections of 64 x 64 pixels (12 KiB as uint8), more than the memory limit of "
                                  "10 KiB; give more with --memory MB, or split the stack into smaller parts");
  CHECK(input_error_message([&] { read_volume(dir / "pages.tif"); })
            .starts_with((dir / "pages.tif").string() + ": announces 3 pages of 64 x 64 pixels (12 KiB as uint8)"));
  // A few sections at a time, they fit.
  StackReader pngs(dir / "pngs"), pages(dir / "pages.tif");
  CHECK(test::same_voxels(pngs.next(3), v));
  CHECK(test::same_voxels(pages.next(3), v));
  Budget small(4000);
  CHECK(input_error_message([&] { StackReader reader(dir / "pngs"); }).find(".png: announces 64 x 64 pixels") != std::string::npos);
}
