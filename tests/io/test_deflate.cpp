#include <doctest/doctest.h>
#include <lodepng.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "io/deflate.h"
#include "io/png.h"

using namespace uniem;

namespace {

// zlib's own inflate must give the bytes back.
std::string inflated(const std::string& stream, size_t size) {
  std::string out(size + 16, '\0');
  uLongf n = static_cast<uLongf>(out.size());
  REQUIRE(uncompress(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(stream.data()),
                     static_cast<uLong>(stream.size())) == Z_OK);
  out.resize(n);
  return out;
}

std::string roundtrip(const std::string& data) {
  std::string z = "prefix";  // appends: what was there stays
  zlib_huffman_only(reinterpret_cast<const uint8_t*>(data.data()), data.size(), z);
  REQUIRE(z.substr(0, 6) == "prefix");
  return inflated(z.substr(6), data.size());
}

}  // namespace

TEST_CASE("Huffman-only deflate: zlib inflates every kind of input back") {
  CHECK(roundtrip("").empty());
  CHECK(roundtrip("x") == "x");
  CHECK(roundtrip(std::string(300000, 'a')) == std::string(300000, 'a'));  // one symbol: a partner keeps the code complete
  std::mt19937 rng(7);
  std::string uniform(200000, '\0'), skewed(400000, '\0');
  for (auto& c : uniform) c = static_cast<char>(rng());
  for (auto& c : skewed) {  // geometric: about 1.6 bits of entropy per byte
    int s = 0;
    while (s < 40 && rng() % 8 < 3) ++s;
    c = static_cast<char>(s);
  }
  // Fibonacci counts (1, 1, 2, 3, 5, ...) for 26 symbols make the deepest Huffman tree there is,
  // 25 levels: the lengths must be limited to 15.
  std::string fibonacci;
  for (int64_t s = 0, a = 1, b = 1; s < 26; ++s, b = a + b, a = b - a) fibonacci.append(static_cast<size_t>(a), static_cast<char>(s));
  std::shuffle(fibonacci.begin(), fibonacci.end(), rng);
  CHECK(roundtrip(uniform) == uniform);
  CHECK(roundtrip(skewed) == skewed);
  CHECK(roundtrip(fibonacci) == fibonacci);
  std::string z;
  zlib_huffman_only(reinterpret_cast<const uint8_t*>(uniform.data()), uniform.size(), z);
  CHECK(z.size() < uniform.size() + 40);  // incompressible data goes in stored blocks
  z.clear();
  zlib_huffman_only(reinterpret_cast<const uint8_t*>(skewed.data()), skewed.size(), z);
  CHECK(z.size() < skewed.size() / 3);  // about 1.6 bits of entropy per byte
}

TEST_CASE("PNG for display: lodepng decodes the section exactly, no larger than zlib's PNG on EM-like data") {
  for (const auto& [ny, nx] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 1}, {1, 5}, {257, 300}, {600, 1031}}) {
    Volume v(DType::u8, 2, ny, nx);
    std::mt19937 rng(static_cast<unsigned>(ny * nx));
    for (int64_t y = 0; y < ny; ++y)
      for (int64_t x = 0; x < nx; ++x)  // smooth shading plus noise, like a micrograph
        v.at<uint8_t>(1, y, x) = static_cast<uint8_t>(100 + 60 * std::sin(0.05 * static_cast<double>(x + y)) + rng() % 24);
    const std::string png = encode_png_for_display(v, 1);
    unsigned char* pixels = nullptr;
    unsigned w = 0, h = 0;
    REQUIRE(lodepng_decode_memory(&pixels, &w, &h, reinterpret_cast<const unsigned char*>(png.data()), png.size(), LCT_GREY, 8) == 0);
    CHECK(w == nx);
    CHECK(h == ny);
    CHECK(std::memcmp(pixels, v.slice<uint8_t>(1), static_cast<size_t>(ny * nx)) == 0);
    std::free(pixels);
    if (ny * nx > 10000) CHECK(png.size() <= encode_png(v, 1, 1).size());
  }
}
