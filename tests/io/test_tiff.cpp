#include <doctest/doctest.h>
#include <tiffio.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "io/stack.h"
#include "io/tiff.h"
#include "tests/test_support.h"

using namespace uniem;
using uniem::test::TempDir;

namespace {

Volume read(const std::filesystem::path& p, ColorPolicy policy = ColorPolicy::grey) {
  const ImageHeader h = probe_tiff(p, policy);
  Volume v(h.dtype, h.pages, h.height, h.width, h.channels);
  read_tiff_into(p, policy, v, 0);
  v.voxel_size = h.voxel_size;
  return v;
}

// Writes one page with libtiff directly, for layouts uniem itself does not write.
struct PageSpec {
  uint32_t w = 4, h = 3;
  uint16_t bits = 8, samples = 1, photometric = PHOTOMETRIC_MINISBLACK, format = SAMPLEFORMAT_UINT;
  uint16_t planar = PLANARCONFIG_CONTIG, compression = COMPRESSION_NONE;
  uint32_t tile = 0;  // tile size (multiple of 16) or 0 for strips
};
void write_raw(const std::filesystem::path& p, const PageSpec& s, const std::vector<unsigned char>& data, const char* mode = "w",
               const uint16_t* colormap = nullptr) {
  TIFF* t = TIFFOpen(p.c_str(), mode);
  REQUIRE(t);
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, s.w);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, s.h);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, s.bits);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, s.samples);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, s.photometric);
  TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, s.format);
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, s.planar);
  TIFFSetField(t, TIFFTAG_COMPRESSION, s.compression);
  if (colormap) TIFFSetField(t, TIFFTAG_COLORMAP, colormap, colormap + 256, colormap + 512);
  if (s.tile) {
    TIFFSetField(t, TIFFTAG_TILEWIDTH, s.tile);
    TIFFSetField(t, TIFFTAG_TILELENGTH, s.tile);
    // Scatter the contiguous image into tiles.
    const size_t bps = s.bits / 8 * s.samples;
    std::vector<unsigned char> tile(static_cast<size_t>(TIFFTileSize(t)));
    for (uint32_t y = 0; y < s.h; y += s.tile)
      for (uint32_t x = 0; x < s.w; x += s.tile) {
        std::fill(tile.begin(), tile.end(), 0);
        for (uint32_t r = 0; r < s.tile && y + r < s.h; ++r)
          for (uint32_t c = 0; c < s.tile && x + c < s.w; ++c)
            std::memcpy(&tile[(r * s.tile + c) * bps], &data[((y + r) * s.w + x + c) * bps], bps);
        REQUIRE(TIFFWriteTile(t, tile.data(), x, y, 0, 0) >= 0);
      }
  } else {
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 2u);  // several strips
    const size_t row = (size_t{s.w} * (s.planar == PLANARCONFIG_SEPARATE ? 1 : s.samples) * s.bits + 7) / 8;
    const uint16_t planes = s.planar == PLANARCONFIG_SEPARATE ? s.samples : 1;
    for (uint16_t p = 0; p < planes; ++p)
      for (uint32_t y = 0; y < s.h; ++y)
        REQUIRE(TIFFWriteScanline(t, const_cast<unsigned char*>(&data[(p * s.h + y) * row]), y, p) >= 0);
  }
  TIFFWriteDirectory(t);
  TIFFClose(t);
}

}  // namespace

TEST_CASE("multi-page TIFF round trips every voxel type and compression, with the voxel size") {
  TempDir dir;
  for (DType t : {DType::u8, DType::u16, DType::u32, DType::u64, DType::f32})
    for (TiffCompression c : {TiffCompression::none, TiffCompression::deflate, TiffCompression::lzw}) {
      CAPTURE(dtype_name(t));
      CAPTURE(static_cast<int>(c));
      Volume v = test::pattern_volume(t, 5, 33, 19);
      v.voxel_size = {40, 4.5, 3.25, true};
      write_tiff(dir / "v.tif", v, 0, v.nz(), c);
      const Volume back = read(dir / "v.tif");
      CHECK(test::same_voxels(v, back));
      CHECK(back.voxel_size.known);
      CHECK(back.voxel_size.z == doctest::Approx(40));
      CHECK(back.voxel_size.y == doctest::Approx(4.5));
      CHECK(back.voxel_size.x == doctest::Approx(3.25));
    }
  Volume rgb = test::pattern_volume(DType::u8, 2, 5, 6, 3);
  write_tiff(dir / "rgb.tif", rgb, 0, 2);
  CHECK(test::same_voxels(rgb, read(dir / "rgb.tif", ColorPolicy::channels)));
}

TEST_CASE("ImageJ descriptions in microns are understood") {
  TempDir dir;
  TIFF* t = TIFFOpen((dir / "ij.tif").c_str(), "w");
  const unsigned char row[2] = {1, 2};
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 2u);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, 1u);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, "ImageJ=1.53t\nimages=1\nunit=micron\nspacing=0.05\n");
  TIFFSetField(t, TIFFTAG_XRESOLUTION, 250.0f);  // pixels per micron: 4 nm pixels
  TIFFSetField(t, TIFFTAG_YRESOLUTION, 200.0f);
  TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_NONE);
  TIFFWriteScanline(t, const_cast<unsigned char*>(row), 0, 0);
  TIFFClose(t);
  const Volume v = read(dir / "ij.tif");
  CHECK(v.voxel_size.known);
  CHECK(v.voxel_size.x == doctest::Approx(4));
  CHECK(v.voxel_size.y == doctest::Approx(5));
  CHECK(v.voxel_size.z == doctest::Approx(50));
}

TEST_CASE("unusual layouts: bilevel, min-is-white, tiles, planar RGB, palettes, BigTIFF") {
  TempDir dir;
  PageSpec s;
  s.bits = 1;
  s.w = 10;
  s.h = 2;
  write_raw(dir / "bi.tif", s, {0b10000000, 0b01000000, 0xff, 0xc0});
  Volume v = read(dir / "bi.tif");
  CHECK(v.at<uint8_t>(0, 0, 0) == 255);
  CHECK(v.at<uint8_t>(0, 0, 1) == 0);
  CHECK(v.at<uint8_t>(0, 0, 9) == 255);
  CHECK(v.at<uint8_t>(0, 1, 9) == 255);

  PageSpec white;
  white.photometric = PHOTOMETRIC_MINISWHITE;
  write_raw(dir / "white.tif", white, std::vector<unsigned char>(12, 10));
  CHECK(read(dir / "white.tif").at<uint8_t>(0, 2, 3) == 245);

  PageSpec tiled;
  tiled.w = 40;
  tiled.h = 20;
  tiled.bits = 16;
  tiled.tile = 16;
  tiled.compression = COMPRESSION_ADOBE_DEFLATE;
  std::vector<unsigned char> data(40 * 20 * 2);
  for (size_t i = 0; i < data.size() / 2; ++i) reinterpret_cast<uint16_t*>(data.data())[i] = static_cast<uint16_t>(i * 37);
  write_raw(dir / "tiled.tif", tiled, data);
  v = read(dir / "tiled.tif");
  CHECK(v.dtype() == DType::u16);
  CHECK(v.at<uint16_t>(0, 19, 39) == static_cast<uint16_t>((19 * 40 + 39) * 37));
  CHECK(v.at<uint16_t>(0, 7, 21) == static_cast<uint16_t>((7 * 40 + 21) * 37));

  PageSpec planar;
  planar.samples = 3;
  planar.photometric = PHOTOMETRIC_RGB;
  planar.planar = PLANARCONFIG_SEPARATE;
  std::vector<unsigned char> planes(3 * 12);
  for (size_t i = 0; i < 12; ++i) planes[i] = 10, planes[12 + i] = 20, planes[24 + i] = static_cast<unsigned char>(i);
  write_raw(dir / "planar.tif", planar, planes);
  v = read(dir / "planar.tif", ColorPolicy::channels);
  CHECK(v.at<uint8_t>(0, 2, 3, 0) == 10);
  CHECK(v.at<uint8_t>(0, 2, 3, 1) == 20);
  CHECK(v.at<uint8_t>(0, 2, 3, 2) == 11);

  std::vector<uint16_t> map(768, 0);
  for (int i = 0; i < 256; ++i) map[static_cast<size_t>(i)] = map[256 + static_cast<size_t>(i)] = map[512 + static_cast<size_t>(i)] = static_cast<uint16_t>(i * 257);
  map[5] = 65535;  // index 5 red: a coloured palette, read as indices
  PageSpec pal;
  pal.photometric = PHOTOMETRIC_PALETTE;
  write_raw(dir / "pal.tif", pal, std::vector<unsigned char>(12, 5), "w", map.data());
  CHECK(read(dir / "pal.tif").at<uint8_t>(0, 0, 0) == 5);
  CHECK(read(dir / "pal.tif", ColorPolicy::channels).at<uint8_t>(0, 0, 0, 0) == 255);

  write_raw(dir / "big.tif", PageSpec{}, std::vector<unsigned char>(12, 77), "w8");
  CHECK(read(dir / "big.tif").at<uint8_t>(0, 1, 1) == 77);
}

TEST_CASE("signed and 64-bit float samples, truncation and junk are refused with the file named") {
  TempDir dir;
  PageSpec s;
  s.bits = 16;
  s.format = SAMPLEFORMAT_INT;
  write_raw(dir / "signed.tif", s, std::vector<unsigned char>(24, 1));
  s.bits = 64;
  s.format = SAMPLEFORMAT_IEEEFP;
  write_raw(dir / "double.tif", s, std::vector<unsigned char>(96, 0));
  Volume v = test::pattern_volume(DType::u8, 3, 64, 64);
  write_tiff(dir / "ok.tif", v, 0, 3);
  std::ifstream in(dir / "ok.tif", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  test::write_text(dir / "cut.tif", bytes.substr(0, bytes.size() / 2));
  test::write_text(dir / "junk.tif", "II*\0 this is no TIFF");
  for (const std::string name : {"signed.tif", "double.tif", "cut.tif", "junk.tif", "missing.tif"}) {
    CAPTURE(name);
    CHECK(test::input_error_message([&] { read(dir / name); }).find(name) != std::string::npos);
  }
}

TEST_CASE("three-channel float32 volumes (affinities) round-trip through a multi-page TIFF") {
  TempDir dir;
  Volume v(DType::f32, 3, 5, 7, 3);
  for (int64_t i = 0; i < v.elements(); ++i) v.data<float>()[i] = static_cast<float>(i) / 97.0f;
  write_volume(dir / "aff.tif", v, {.format = StackFormat::multipage_tiff});
  ReadOptions read;
  read.color = ColorPolicy::channels;
  const Volume back = read_volume(dir / "aff.tif", read);
  REQUIRE(back.channels() == 3);
  REQUIRE(back.dtype() == DType::f32);
  CHECK(std::equal(back.raw(), back.raw() + back.bytes(), v.raw()));
}
