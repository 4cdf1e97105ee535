#include <doctest/doctest.h>
#include <lodepng.h>

#include <array>
#include <fstream>
#include <vector>

#include "io/png.h"
#include "tests/test_support.h"

using namespace uniem;
using uniem::test::TempDir;

namespace {

// Encodes raw samples with lodepng exactly in the given colour type (no conversion).
void encode(const std::filesystem::path& p, const std::vector<unsigned char>& raw, unsigned w, unsigned h,
            LodePNGColorType type, unsigned depth, const std::vector<std::array<unsigned char, 4>>& palette = {}) {
  lodepng::State s;
  s.info_raw.colortype = s.info_png.color.colortype = type;
  s.info_raw.bitdepth = s.info_png.color.bitdepth = depth;
  for (const auto& c : palette) {
    lodepng_palette_add(&s.info_raw, c[0], c[1], c[2], c[3]);
    lodepng_palette_add(&s.info_png.color, c[0], c[1], c[2], c[3]);
  }
  s.encoder.auto_convert = 0;
  std::vector<unsigned char> out;
  REQUIRE(lodepng::encode(out, raw, w, h, s) == 0);
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
}

Volume read(const std::filesystem::path& p, ColorPolicy policy = ColorPolicy::grey) {
  const ImageHeader h = probe_png(p, policy);
  Volume v(h.dtype, 1, h.height, h.width, h.channels);
  read_png_into(p, policy, v, 0);
  return v;
}

}  // namespace

TEST_CASE("8 and 16-bit grey and RGB round trip exactly, with the pixel size") {
  TempDir dir;
  for (DType t : {DType::u8, DType::u16})
    for (int64_t c : {1, 3}) {
      Volume v = test::pattern_volume(t, 1, 13, 17, c);
      v.voxel_size = {50, 4, 5, true};
      const auto file = dir / "x.png";
      write_png(file, v, 0);
      const Volume back = read(file, c == 3 ? ColorPolicy::channels : ColorPolicy::grey);
      CHECK(test::same_voxels(v, back));
      const VoxelSize vs = read_png_into(file, c == 3 ? ColorPolicy::channels : ColorPolicy::grey, const_cast<Volume&>(back), 0);
      CHECK(vs.known);
      CHECK(vs.x == doctest::Approx(5).epsilon(1e-6));
      CHECK(vs.y == doctest::Approx(4).epsilon(1e-6));
    }
}

TEST_CASE("1-bit grey scales to 0/255, 4-bit to 0..255, grey+alpha drops alpha") {
  TempDir dir;
  encode(dir / "b.png", {0b10100000}, 3, 1, LCT_GREY, 1);
  Volume v = read(dir / "b.png");
  CHECK(v.dtype() == DType::u8);
  CHECK(v.at<uint8_t>(0, 0, 0) == 255);
  CHECK(v.at<uint8_t>(0, 0, 1) == 0);
  CHECK(v.at<uint8_t>(0, 0, 2) == 255);

  encode(dir / "n.png", {0x0f, 0x50}, 3, 1, LCT_GREY, 4);
  v = read(dir / "n.png");
  CHECK(v.at<uint8_t>(0, 0, 0) == 0);
  CHECK(v.at<uint8_t>(0, 0, 1) == 255);
  CHECK(v.at<uint8_t>(0, 0, 2) == 85);

  encode(dir / "ga.png", {10, 255, 200, 0}, 2, 1, LCT_GREY_ALPHA, 8);
  v = read(dir / "ga.png");
  CHECK(v.at<uint8_t>(0, 0, 0) == 10);
  CHECK(v.at<uint8_t>(0, 0, 1) == 200);

  encode(dir / "ga16.png", {0x12, 0x34, 0xff, 0xff}, 1, 1, LCT_GREY_ALPHA, 16);
  v = read(dir / "ga16.png");
  CHECK(v.dtype() == DType::u16);
  CHECK(v.at<uint16_t>(0, 0, 0) == 0x1234);
}

TEST_CASE("RGB: equal channels keep their value, colours become BT.601 luminance, or stay as channels") {
  TempDir dir;
  encode(dir / "c.png", {90, 90, 90, 255, 0, 0, 0, 0, 255}, 3, 1, LCT_RGB, 8);
  Volume grey = read(dir / "c.png");
  CHECK(grey.at<uint8_t>(0, 0, 0) == 90);
  CHECK(grey.at<uint8_t>(0, 0, 1) == 76);  // 0.299 * 255 = 76.2
  CHECK(grey.at<uint8_t>(0, 0, 2) == 29);  // 0.114 * 255 = 29.1
  Volume colour = read(dir / "c.png", ColorPolicy::channels);
  CHECK(colour.channels() == 3);
  CHECK(colour.at<uint8_t>(0, 0, 1, 0) == 255);
  CHECK(colour.at<uint8_t>(0, 0, 2, 2) == 255);

  encode(dir / "rgba.png", {7, 7, 7, 0, 1, 2, 3, 255}, 2, 1, LCT_RGBA, 8);
  grey = read(dir / "rgba.png");
  CHECK(grey.at<uint8_t>(0, 0, 0) == 7);
  CHECK(grey.at<uint8_t>(0, 0, 1) == 2);  // 0.299 + 1.174 + 0.342 = 1.8
}

TEST_CASE("palette: a grey palette gives grey values, a coloured one gives label indices") {
  TempDir dir;
  encode(dir / "g.png", {0, 1, 2}, 3, 1, LCT_PALETTE, 8, {{{0, 0, 0, 255}}, {{128, 128, 128, 255}}, {{250, 250, 250, 255}}});
  Volume v = read(dir / "g.png");
  CHECK(v.at<uint8_t>(0, 0, 1) == 128);
  CHECK(v.at<uint8_t>(0, 0, 2) == 250);
  encode(dir / "l.png", {0x1b}, 4, 1, LCT_PALETTE, 2,
         {{{0, 0, 0, 255}}, {{255, 0, 0, 255}}, {{0, 255, 0, 255}}, {{0, 0, 255, 255}}});
  v = read(dir / "l.png");
  CHECK(v.at<uint8_t>(0, 0, 0) == 0);
  CHECK(v.at<uint8_t>(0, 0, 1) == 1);
  CHECK(v.at<uint8_t>(0, 0, 2) == 2);
  CHECK(v.at<uint8_t>(0, 0, 3) == 3);
  v = read(dir / "l.png", ColorPolicy::channels);
  CHECK(v.at<uint8_t>(0, 0, 3, 2) == 255);
}

TEST_CASE("a truncated, corrupt or missing PNG is an InputError naming the file") {
  TempDir dir;
  Volume v = test::pattern_volume(DType::u8, 1, 64, 64);
  write_png(dir / "good.png", v, 0);
  std::ifstream in(dir / "good.png", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  test::write_text(dir / "cut.png", bytes.substr(0, bytes.size() / 2));
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x55;
  test::write_text(dir / "flip.png", flipped);
  test::write_text(dir / "text.png", "hello, I am not a PNG");
  for (const std::string name : {"cut.png", "flip.png", "text.png", "missing.png"}) {
    CAPTURE(name);
    CHECK(test::input_error_message([&] { read(dir / name); }).find(name) != std::string::npos);
  }
}
