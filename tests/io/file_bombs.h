// Files that announce far more pixels than they hold, written byte by byte in a millisecond: the
// inputs the memory budget (core/memory_budget.h) must refuse before it allocates anything.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace uniem::test {

inline std::string zlib_stream(size_t zeros) {
  const std::vector<unsigned char> raw(zeros, 0);
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string out(size, '\0');
  compress2(reinterpret_cast<Bytef*>(out.data()), &size, raw.data(), static_cast<uLong>(raw.size()), 9);
  out.resize(size);
  return out;
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A valid little-endian TIFF of one 8-bit grey page of width x height pixels in one deflate strip
// that holds a few hundred bytes (the rest of the page is missing: it is never meant to decode).
inline void write_tiff_bomb(const std::filesystem::path& path, uint32_t width, uint32_t height) {
  const std::string strip = zlib_stream(4096);
  std::string t = {'I', 'I', 42, 0, 8, 0, 0, 0};
  auto u16 = [&t](uint32_t v) { t.append({static_cast<char>(v & 0xff), static_cast<char>(v >> 8 & 0xff)}); };
  auto u32 = [&](uint32_t v) {
    u16(v & 0xffff);
    u16(v >> 16);
  };
  const uint16_t entries = 9;
  const uint32_t data_offset = 8 + 2 + entries * 12 + 4;
  u16(entries);
  auto entry = [&](uint16_t tag, uint16_t type, uint32_t value) {  // one value, left-justified
    u16(tag);
    u16(type);
    u32(1);
    u32(value);
  };
  constexpr uint16_t short_type = 3, long_type = 4;
  entry(256, long_type, width);                                   // ImageWidth
  entry(257, long_type, height);                                  // ImageLength
  entry(258, short_type, 8);                                      // BitsPerSample
  entry(259, short_type, 8);                                      // Compression: deflate
  entry(262, short_type, 1);                                      // Photometric: min-is-black
  entry(273, long_type, data_offset);                             // StripOffsets
  entry(277, short_type, 1);                                      // SamplesPerPixel
  entry(278, long_type, height);                                  // RowsPerStrip: one strip
  entry(279, long_type, static_cast<uint32_t>(strip.size()));     // StripByteCounts
  u32(0);                                                         // no next page
  write_bytes(path, t + strip);
}

// A valid PNG whose IHDR announces width x height 8-bit grey pixels, with a tiny IDAT.
inline void write_png_bomb(const std::filesystem::path& path, uint32_t width, uint32_t height,
                           const std::string& idat = zlib_stream(4096)) {
  std::string png = "\x89PNG\r\n\x1a\n";
  auto u32 = [](std::string& s, uint32_t v) {
    for (int k = 3; k >= 0; --k) s.push_back(static_cast<char>(v >> (8 * k) & 0xff));
  };
  auto chunk = [&](const char* type, const std::string& data) {
    u32(png, static_cast<uint32_t>(data.size()));
    const std::string body = std::string(type, 4) + data;
    png += body;
    u32(png, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
  };
  std::string ihdr;
  u32(ihdr, width);
  u32(ihdr, height);
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // 8 bits, grey, deflate, adaptive filters, no interlace
  chunk("IHDR", ihdr);
  chunk("IDAT", idat);
  chunk("IEND", "");
  write_bytes(path, png);
}

}  // namespace uniem::test
