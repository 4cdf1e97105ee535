#include "io/png.h"

#include "core/memory_budget.h"
#include "io/deflate.h"

#include <lodepng.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

namespace fs = std::filesystem;

namespace uniem {
namespace {

std::vector<unsigned char> read_bytes(const fs::path& path, size_t limit = 0) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, fs::exists(path) ? "cannot be opened for reading" : "no such file");
  in.seekg(0, std::ios::end);
  size_t size = static_cast<size_t>(in.tellg());
  if (limit) size = std::min(size, limit);
  in.seekg(0);
  std::vector<unsigned char> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (!in) throw InputError(path, "could not be read completely");
  return bytes;
}

[[noreturn]] void png_error(const fs::path& path, unsigned code) {
  throw InputError(path, std::string("not a readable PNG (") + lodepng_error_text(code) + ")");
}

struct InflateContext {
  size_t expected;
};

// zlib instead of lodepng's own inflate/deflate: several times faster on EM images.
unsigned zlib_inflate(unsigned char** out, size_t* outsize, const unsigned char* in, size_t insize,
                      const LodePNGDecompressSettings* settings) {
  const auto* context = static_cast<const InflateContext*>(settings->custom_context);
  size_t capacity = (context ? context->expected : insize * 4) + 64;
  // Rows never inflate to more than the header announces (Adam7's extra filter bytes included):
  // more is a deflate bomb behind a small header, refused before it takes the memory.
  const size_t limit = context ? 2 * context->expected + 4096 : SIZE_MAX;
  auto* buffer = static_cast<unsigned char*>(std::malloc(capacity));
  if (!buffer) return 83;
  z_stream z{};
  if (inflateInit(&z) != Z_OK) {
    std::free(buffer);
    return 83;
  }
  z.next_in = const_cast<unsigned char*>(in);
  z.avail_in = static_cast<uInt>(insize);
  int status = Z_OK;
  size_t written = 0;
  while (status == Z_OK) {
    if (written == capacity) {
      if (capacity >= limit) {
        status = Z_DATA_ERROR;
        break;
      }
      capacity = std::min(capacity * 2, limit);
      auto* grown = static_cast<unsigned char*>(std::realloc(buffer, capacity));
      if (!grown) {
        status = Z_MEM_ERROR;
        break;
      }
      buffer = grown;
    }
    z.next_out = buffer + written;
    z.avail_out = static_cast<uInt>(capacity - written);
    status = inflate(&z, Z_NO_FLUSH);
    written = capacity - z.avail_out;
    if (status == Z_BUF_ERROR && z.avail_out != 0) break;  // input ended early: truncated
    if (status == Z_BUF_ERROR) status = Z_OK;
  }
  inflateEnd(&z);
  if (status != Z_STREAM_END) {
    std::free(buffer);
    return 95;  // lodepng's "corrupt or truncated compressed data"
  }
  *out = buffer;
  *outsize = written;
  return 0;
}

unsigned zlib_deflate(unsigned char** out, size_t* outsize, const unsigned char* in, size_t insize,
                      const LodePNGCompressSettings* settings) {
  const int level = *static_cast<const int*>(settings->custom_context);
  uLongf size = compressBound(static_cast<uLong>(insize));
  auto* buffer = static_cast<unsigned char*>(std::malloc(size));
  if (!buffer) return 83;
  if (compress2(buffer, &size, in, static_cast<uLong>(insize), level) != Z_OK) {
    std::free(buffer);
    return 111;
  }
  *out = buffer;
  *outsize = size;
  return 0;
}

struct StateGuard {
  LodePNGState state;
  StateGuard() { lodepng_state_init(&state); }
  ~StateGuard() { lodepng_state_cleanup(&state); }
};

bool palette_is_grey(const LodePNGColorMode& c) {
  for (size_t i = 0; i < c.palettesize; ++i)
    if (c.palette[4 * i] != c.palette[4 * i + 1] || c.palette[4 * i] != c.palette[4 * i + 2]) return false;
  return true;
}

const char* color_name(LodePNGColorType t) {
  switch (t) {
    case LCT_GREY: return "grey";
    case LCT_GREY_ALPHA: return "grey+alpha";
    case LCT_RGB: return "RGB";
    case LCT_RGBA: return "RGBA";
    case LCT_PALETTE: return "palette";
    default: return "unknown-colour";
  }
}

ImageHeader header_from(const LodePNGState& state, unsigned w, unsigned h, ColorPolicy policy) {
  const LodePNGColorMode& c = state.info_png.color;
  ImageHeader hdr;
  hdr.width = w;
  hdr.height = h;
  hdr.dtype = (c.bitdepth == 16) ? DType::u16 : DType::u8;
  hdr.channels = policy == ColorPolicy::channels ? 3 : 1;
  hdr.format = std::to_string(c.bitdepth) + "-bit " + color_name(c.colortype) + " PNG";
  return hdr;
}

// What the header announces against the memory budget (core/memory_budget.h), before the pixels
// are inflated: the larger of the decoded rows and the voxels they become.
void check_budget(const fs::path& path, const LodePNGState& state, const ImageHeader& h) {
  const LodePNGColorMode& c = state.info_png.color;
  const double decoded = static_cast<double>(lodepng_get_channels(&c)) * c.bitdepth / 8;
  const double voxels = static_cast<double>(dtype_size(h.dtype) * h.channels);
  check_memory_budget(path, "announces " + std::to_string(h.width) + " x " + std::to_string(h.height) + " pixels",
                      static_cast<double>(h.width) * static_cast<double>(h.height) * std::max(decoded, voxels),
                      std::to_string(c.bitdepth) + "-bit " + color_name(c.colortype), "crop the file");
}

}  // namespace

ImageHeader probe_png(const fs::path& path, ColorPolicy policy) {
  const auto bytes = read_bytes(path, 64);
  StateGuard g;
  unsigned w = 0, h = 0;
  if (unsigned e = lodepng_inspect(&w, &h, &g.state, bytes.data(), bytes.size())) png_error(path, e);
  const ImageHeader header = header_from(g.state, w, h, policy);
  check_budget(path, g.state, header);
  return header;
}

VoxelSize read_png_into(const fs::path& path, ColorPolicy policy, Volume& dst, int64_t z) {
  const auto bytes = read_bytes(path);
  StateGuard g;
  LodePNGState& state = g.state;
  unsigned w = 0, h = 0;
  if (unsigned e = lodepng_inspect(&w, &h, &state, bytes.data(), bytes.size())) png_error(path, e);
  check_budget(path, state, header_from(state, w, h, policy));
  const unsigned depth = state.info_png.color.bitdepth;
  const unsigned samples = lodepng_get_channels(&state.info_png.color);
  InflateContext context{static_cast<size_t>(h) * (1 + (static_cast<size_t>(w) * samples * depth + 7) / 8)};
  state.decoder.zlibsettings.custom_zlib = zlib_inflate;
  state.decoder.zlibsettings.custom_context = &context;
  state.decoder.color_convert = 0;  // raw samples; the conversion below is ours
  unsigned char* raw = nullptr;
  const unsigned e = lodepng_decode(&raw, &w, &h, &state, bytes.data(), bytes.size());
  std::unique_ptr<unsigned char, decltype(&std::free)> owned(raw, &std::free);
  if (e) png_error(path, e);
  UNIEM_CHECK(w == dst.nx() && h == dst.ny(), "read_png_into: size differs from the probe");
  const LodePNGColorMode& c = state.info_png.color;
  const int64_t n = int64_t{w} * h;
  const int64_t channels = dst.channels();
  const size_t row_bytes = (static_cast<size_t>(w) * samples * depth + 7) / 8;

  // Sample s of pixel (y, x) as an integer in the file's bit depth.
  auto sample = [&](int64_t y, int64_t x, unsigned s) -> unsigned {
    const unsigned char* row = raw + static_cast<size_t>(y) * row_bytes;
    const size_t index = static_cast<size_t>(x) * samples + s;
    if (depth == 8) return row[index];
    if (depth == 16) return (unsigned{row[2 * index]} << 8) | row[2 * index + 1];
    const size_t bit = index * depth;
    return (row[bit / 8] >> (8 - depth - bit % 8)) & ((1u << depth) - 1);
  };
  auto store = [&](auto* out) {
    using T = std::remove_pointer_t<decltype(out)>;
    const bool grey_palette = c.colortype == LCT_PALETTE && palette_is_grey(c);
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) {
        unsigned r, gr, b;
        switch (c.colortype) {
          case LCT_PALETTE: {
            const unsigned i = sample(y, x, 0);
            if (i >= c.palettesize) throw InputError(path, "a pixel indexes past the end of the palette");
            if (policy == ColorPolicy::grey && !grey_palette) {
              r = gr = b = i;
            } else {
              r = c.palette[4 * i];
              gr = c.palette[4 * i + 1];
              b = c.palette[4 * i + 2];
            }
            break;
          }
          case LCT_RGB:
          case LCT_RGBA:
            r = sample(y, x, 0);
            gr = sample(y, x, 1);
            b = sample(y, x, 2);
            break;
          default: {  // grey, grey+alpha: low bit depths scaled to the full 8-bit range
            unsigned v = sample(y, x, 0);
            if (depth < 8) v = v * 255 / ((1u << depth) - 1);
            r = gr = b = v;
          }
        }
        T* px = out + (y * w + x) * channels;
        if (channels == 1) {
          px[0] = luminance<T>(static_cast<T>(r), static_cast<T>(gr), static_cast<T>(b));
        } else {
          px[0] = static_cast<T>(r);
          px[1] = static_cast<T>(gr);
          px[2] = static_cast<T>(b);
        }
      }
    }
  };
  if (c.colortype == LCT_GREY && depth == 8 && channels == 1) {
    std::memcpy(dst.slice<uint8_t>(z), raw, static_cast<size_t>(n));  // the common case, kept fast
  } else if (dst.dtype() == DType::u16) {
    store(dst.slice<uint16_t>(z));
  } else {
    store(dst.slice<uint8_t>(z));
  }
  // pHYs in metres gives the pixel size, unless it is a print resolution (72 dpi and the like:
  // pixels of hundreds of micrometres) that image editors write by default.
  constexpr double largest_microscope_pixel_nm = 10000;
  VoxelSize size;
  if (state.info_png.phys_defined && state.info_png.phys_unit == 1 && state.info_png.phys_x && state.info_png.phys_y) {
    const double x = 1e9 / state.info_png.phys_x, y = 1e9 / state.info_png.phys_y;
    if (x <= largest_microscope_pixel_nm && y <= largest_microscope_pixel_nm) {
      size.x = x;
      size.y = y;
      size.z = x;
      size.known = true;
    }
  }
  return size;
}

std::string encode_png(const Volume& v, int64_t z, int compression_level) {
  UNIEM_CHECK(v.dtype() == DType::u8 || v.dtype() == DType::u16, "encode_png: uint8 or uint16 only");
  UNIEM_CHECK(v.channels() == 1 || v.channels() == 3, "encode_png: 1 or 3 channels only");
  const unsigned depth = v.dtype() == DType::u16 ? 16 : 8;
  const LodePNGColorType type = v.channels() == 3 ? LCT_RGB : LCT_GREY;
  StateGuard g;
  LodePNGState& state = g.state;
  state.info_raw.colortype = state.info_png.color.colortype = type;
  state.info_raw.bitdepth = state.info_png.color.bitdepth = depth;
  state.encoder.auto_convert = 0;
  state.encoder.zlibsettings.custom_zlib = zlib_deflate;
  state.encoder.zlibsettings.custom_context = &compression_level;
  if (v.voxel_size.known) {
    state.info_png.phys_defined = 1;
    state.info_png.phys_unit = 1;  // pixels per metre
    state.info_png.phys_x = static_cast<unsigned>(1e9 / v.voxel_size.x + 0.5);
    state.info_png.phys_y = static_cast<unsigned>(1e9 / v.voxel_size.y + 0.5);
  }
  const unsigned char* pixels = reinterpret_cast<const unsigned char*>(v.raw_slice(z));
  std::vector<unsigned char> big_endian;
  if (depth == 16) {  // PNG stores 16-bit samples most significant byte first
    const uint16_t* s = v.slice<uint16_t>(z);
    big_endian.resize(static_cast<size_t>(v.slice_elements()) * 2);
    for (int64_t i = 0; i < v.slice_elements(); ++i) {
      big_endian[2 * static_cast<size_t>(i)] = static_cast<unsigned char>(s[i] >> 8);
      big_endian[2 * static_cast<size_t>(i) + 1] = static_cast<unsigned char>(s[i] & 0xff);
    }
    pixels = big_endian.data();
  }
  unsigned char* encoded = nullptr;
  size_t size = 0;
  const unsigned e = lodepng_encode(&encoded, &size, pixels, static_cast<unsigned>(v.nx()), static_cast<unsigned>(v.ny()), &state);
  std::unique_ptr<unsigned char, decltype(&std::free)> owned(encoded, &std::free);
  UNIEM_CHECK(e == 0, std::string("PNG encoding failed: ") + lodepng_error_text(e));
  return std::string(reinterpret_cast<const char*>(encoded), size);
}

std::string encode_png_for_display(const Volume& v, int64_t z) {
  UNIEM_CHECK(v.dtype() == DType::u8 && v.channels() == 1, "encode_png_for_display: uint8 grey only");
  const int64_t h = v.ny(), w = v.nx();
  // The filtered rows: a filter-type byte, then each byte minus its Paeth prediction from the
  // left, upper and upper-left bytes (PNG 9.4; zeros outside the image).
  std::vector<uint8_t> rows(static_cast<size_t>(h * (w + 1)));
  std::vector<uint8_t> zero(static_cast<size_t>(w), 0);
  std::vector<int16_t> a(static_cast<size_t>(w), 0), b(a), c(a);  // widened: the loops vectorise
  const uint8_t* section = v.slice<uint8_t>(z);
  for (int64_t y = 0; y < h; ++y) {
    const uint8_t* r = section + y * w;
    const uint8_t* up = y > 0 ? r - w : zero.data();
    for (int64_t x = 1; x < w; ++x) a[static_cast<size_t>(x)] = r[x - 1];
    for (int64_t x = 0; x < w; ++x) b[static_cast<size_t>(x)] = up[x];
    for (int64_t x = 1; x < w; ++x) c[static_cast<size_t>(x)] = up[x - 1];
    uint8_t* __restrict d = &rows[static_cast<size_t>(y * (w + 1))];
    d[0] = 4;  // Paeth
    const int16_t* __restrict pa_ = a.data();
    const int16_t* __restrict pb_ = b.data();
    const int16_t* __restrict pc_ = c.data();
    for (int64_t x = 0; x < w; ++x) {
      const int16_t l = pa_[x], u = pb_[x], ul = pc_[x];
      const int16_t da = static_cast<int16_t>(std::abs(u - ul)), db = static_cast<int16_t>(std::abs(l - ul)),
                    dc = static_cast<int16_t>(std::abs(l + u - 2 * ul));
      const int16_t prediction = da <= db && da <= dc ? l : db <= dc ? u : ul;
      d[x + 1] = static_cast<uint8_t>(r[x] - prediction);
    }
  }
  static constexpr uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::string png(reinterpret_cast<const char*>(signature), 8);
  auto put_u32 = [&png](uint32_t value) {
    for (int k = 3; k >= 0; --k) png.push_back(static_cast<char>(value >> (8 * k)));
  };
  // A chunk: length, type and data, CRC-32 of type and data (PNG 5.3).
  auto chunk = [&](const char* type, auto&& write_data) {
    const size_t at = png.size();
    put_u32(0);
    png.append(type, 4);
    write_data();
    const size_t length = png.size() - at - 8;
    for (int k = 0; k < 4; ++k) png[at + static_cast<size_t>(k)] = static_cast<char>(length >> (8 * (3 - k)));
    put_u32(static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(png.data() + at + 4), length + 4)));
  };
  chunk("IHDR", [&] {
    put_u32(static_cast<uint32_t>(w));
    put_u32(static_cast<uint32_t>(h));
    png.append("\x08\x00\x00\x00\x00", 5);  // 8 bits, grey, deflate, adaptive filters, no interlace
  });
  chunk("IDAT", [&] { zlib_huffman_only(rows.data(), rows.size(), png); });
  chunk("IEND", [] {});
  return png;
}

void write_png(const fs::path& path, const Volume& v, int64_t z, int compression_level) {
  const std::string encoded = encode_png(v, z, compression_level);
  std::ofstream out(path, std::ios::binary);
  out.write(encoded.data(), static_cast<std::streamsize>(encoded.size()));
  out.close();
  if (!out) throw InputError(path, "could not be written (disk full or no permission?)");
}

}  // namespace uniem
