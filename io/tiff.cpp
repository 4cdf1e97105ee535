#include "io/tiff.h"

#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "core/memory_budget.h"

namespace fs = std::filesystem;

namespace uniem {
namespace {

// libtiff reports through global handlers; keep each thread's last error for our message.
thread_local std::string last_tiff_error;

void on_tiff_error(const char* module, const char* fmt, va_list args) {
  char buffer[512];
  std::vsnprintf(buffer, sizeof buffer, fmt, args);
  last_tiff_error = module ? std::string(module) + ": " + buffer : buffer;
}
void on_tiff_warning(const char*, const char*, va_list) {}  // unknown tags and the like

void install_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    TIFFSetErrorHandler(on_tiff_error);
    TIFFSetWarningHandler(on_tiff_warning);
  });
}

struct TiffCloser {
  void operator()(TIFF* t) const { TIFFClose(t); }
};
using TiffHandle = std::unique_ptr<TIFF, TiffCloser>;

TiffHandle open_tiff(const fs::path& path, const char* mode) {
  install_handlers();
  last_tiff_error.clear();
  if (mode[0] == 'r' && !fs::exists(path)) throw InputError(path, "no such file");
  TIFF* t = TIFFOpen(path.c_str(), mode);
  if (!t) {
    throw InputError(path, std::string(mode[0] == 'r' ? "not a readable TIFF" : "cannot be created as a TIFF") +
                               (last_tiff_error.empty() ? "" : " (" + last_tiff_error + ")"));
  }
  return TiffHandle(t);
}

struct PageLayout {
  uint32_t width = 0, height = 0;
  uint16_t bits = 1, samples = 1, format = SAMPLEFORMAT_UINT, photometric = PHOTOMETRIC_MINISBLACK;
  uint16_t planar = PLANARCONFIG_CONTIG;
  bool tiled = false;
  uint16_t *red = nullptr, *green = nullptr, *blue = nullptr;  // palette, owned by libtiff

  bool same_pixels(const PageLayout& o) const {
    return width == o.width && height == o.height && bits == o.bits && samples == o.samples && format == o.format &&
           photometric == o.photometric;
  }
  std::string describe() const {
    std::string kind = photometric == PHOTOMETRIC_RGB       ? "RGB"
                       : photometric == PHOTOMETRIC_PALETTE ? "palette"
                       : format == SAMPLEFORMAT_IEEEFP      ? "float"
                                                            : "grey";
    return std::to_string(bits) + "-bit " + kind;
  }
};

bool is_reduced_image(TIFF* t) {
  uint32_t subfile = 0;
  return TIFFGetField(t, TIFFTAG_SUBFILETYPE, &subfile) && (subfile & FILETYPE_REDUCEDIMAGE);
}

PageLayout read_layout(TIFF* t, const fs::path& path, int64_t page) {
  PageLayout l;
  TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &l.width);
  TIFFGetField(t, TIFFTAG_IMAGELENGTH, &l.height);
  TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &l.bits);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &l.samples);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &l.format);
  TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &l.planar);
  if (!TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &l.photometric))
    l.photometric = l.samples >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
  l.tiled = TIFFIsTiled(t);
  const std::string where = "page " + std::to_string(page + 1) + ": ";
  if (l.width == 0 || l.height == 0) throw InputError(path, where + "has no pixels");
  if (l.format == SAMPLEFORMAT_INT)
    throw InputError(path, where + "signed " + std::to_string(l.bits) +
                               "-bit samples are not supported; save it as unsigned (Fiji: Image > Type)");
  if (l.format == SAMPLEFORMAT_IEEEFP && l.bits != 32)
    throw InputError(path, where + std::to_string(l.bits) + "-bit floating point is not supported; use 32-bit float");
  if (l.format != SAMPLEFORMAT_UINT && l.format != SAMPLEFORMAT_IEEEFP)
    throw InputError(path, where + "has an unsupported sample format (" + std::to_string(l.format) + ")");
  const bool bits_ok = l.bits == 1 || l.bits == 2 || l.bits == 4 || l.bits == 8 || l.bits == 16 || l.bits == 32 || l.bits == 64;
  if (!bits_ok) throw InputError(path, where + "has an unsupported bit depth of " + std::to_string(l.bits));
  switch (l.photometric) {
    case PHOTOMETRIC_MINISBLACK:
    case PHOTOMETRIC_MINISWHITE: break;
    case PHOTOMETRIC_RGB:
      // 32-bit float samples too: three-channel volumes such as affinities (uniem agglomerate).
      if (l.samples < 3 || !(l.bits == 8 || l.bits == 16 || (l.bits == 32 && l.format == SAMPLEFORMAT_IEEEFP)))
        throw InputError(path, where + "RGB needs 3 or 4 samples of 8 or 16 bits, or of 32-bit float");
      break;
    case PHOTOMETRIC_PALETTE:
      if (l.bits > 8 || !TIFFGetField(t, TIFFTAG_COLORMAP, &l.red, &l.green, &l.blue))
        throw InputError(path, where + "palette image without a usable colour map");
      break;
    default:
      throw InputError(path, where + "has an unsupported colour space (photometric " + std::to_string(l.photometric) +
                                 "); convert it to grey or RGB");
  }
  if (l.planar == PLANARCONFIG_SEPARATE && l.bits < 8 && l.samples > 1)
    throw InputError(path, where + "planar-separate samples below 8 bits are not supported");
  return l;
}

ImageHeader header_for(const PageLayout& l, ColorPolicy policy) {
  ImageHeader h;
  h.width = l.width;
  h.height = l.height;
  if (l.format == SAMPLEFORMAT_IEEEFP) h.dtype = DType::f32;
  else if (l.bits == 64) h.dtype = DType::u64;
  else if (l.bits == 32) h.dtype = DType::u32;
  else if (l.bits == 16) h.dtype = DType::u16;
  else h.dtype = DType::u8;
  h.channels = policy == ColorPolicy::channels ? 3 : 1;
  h.format = l.describe() + " TIFF";
  return h;
}

// What a page announces against the memory budget (core/memory_budget.h), before anything of it
// is allocated: the larger of the decoded samples and the voxels they become, and for a tiled
// page the tile buffer.
void check_page_budget(TIFF* t, const PageLayout& l, ColorPolicy policy, const fs::path& path, int64_t page) {
  const ImageHeader h = header_for(l, policy);
  const double decoded = static_cast<double>(l.samples) * l.bits / 8;
  const double voxels = static_cast<double>(dtype_size(h.dtype) * h.channels);
  const double pixels = static_cast<double>(l.width) * l.height;
  const std::string where = page == 0 ? "" : "page " + std::to_string(page + 1) + " ";
  check_memory_budget(path, where + "announces " + std::to_string(l.width) + " x " + std::to_string(l.height) + " pixels",
                      pixels * std::max(decoded, voxels), l.describe(), "crop the file");
  if (l.tiled) {
    uint32_t tw = 0, th = 0;
    TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(t, TIFFTAG_TILELENGTH, &th);
    check_memory_budget(path, where + "announces tiles of " + std::to_string(tw) + " x " + std::to_string(th) + " pixels",
                        static_cast<double>(tw) * th * decoded, l.describe(), "save it without tiles");
  }
}

double unit_in_nm(std::string unit) {
  if (unit == "nm" || unit == "nanometer" || unit == "nanometre") return 1;
  if (unit == "micron" || unit == "um" || unit == "\xC2\xB5m" || unit == "\xCE\xBCm" || unit == "microns") return 1e3;
  if (unit == "mm") return 1e6;
  if (unit == "cm") return 1e7;
  return 0;  // pixel, inch or unknown
}

VoxelSize read_voxel_size(TIFF* t) {
  VoxelSize v;
  std::map<std::string, std::string> imagej;
  char* description = nullptr;
  if (TIFFGetField(t, TIFFTAG_IMAGEDESCRIPTION, &description) && description && std::strncmp(description, "ImageJ=", 7) == 0) {
    std::istringstream lines(description);
    for (std::string line; std::getline(lines, line);) {
      const auto eq = line.find('=');
      if (eq != std::string::npos) imagej[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  float xres = 0, yres = 0;
  uint16_t res_unit = RESUNIT_NONE;
  TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &res_unit);
  const bool have_res = TIFFGetField(t, TIFFTAG_XRESOLUTION, &xres) && TIFFGetField(t, TIFFTAG_YRESOLUTION, &yres) &&
                        xres > 0 && yres > 0;
  double nm_per_unit = 0;
  if (imagej.count("unit")) nm_per_unit = unit_in_nm(imagej["unit"]);
  else if (res_unit == RESUNIT_CENTIMETER) nm_per_unit = 1e7;
  else if (res_unit == RESUNIT_INCH) nm_per_unit = 2.54e7;
  // TIFF stores resolutions as rationals that libtiff approximates in float: 1/6 nm comes back
  // as 5.9999998 nm. Six significant digits are more than any microscope's calibration.
  const auto tidy = [](double x) {
    const double scale = std::pow(10.0, 5 - std::floor(std::log10(x)));
    return std::round(x * scale) / scale;
  };
  if (have_res && nm_per_unit > 0) {
    v.x = tidy(nm_per_unit / xres);
    v.y = tidy(nm_per_unit / yres);
    v.z = v.x;
    v.known = true;
  }
  if (imagej.count("spacing") && nm_per_unit > 0) {
    const double spacing = std::atof(imagej["spacing"].c_str());
    if (spacing > 0) v.z = tidy(spacing * nm_per_unit);
  }
  return v;
}

// The page's samples, interleaved, rows of ceil(width * samples * bits / 8) bytes.
void read_page(TIFF* t, const PageLayout& l, const fs::path& path, int64_t page, std::vector<unsigned char>& out) {
  const size_t row_bytes = (size_t{l.width} * l.samples * l.bits + 7) / 8;
  out.resize(row_bytes * l.height);
  const auto fail = [&] {
    throw InputError(path, "page " + std::to_string(page + 1) + " cannot be decoded (" +
                               (last_tiff_error.empty() ? "truncated or corrupt" : last_tiff_error) + ")");
  };
  const size_t sample_bytes = l.bits / 8;
  const uint16_t planes = l.planar == PLANARCONFIG_SEPARATE ? l.samples : 1;
  const uint16_t per_plane = l.planar == PLANARCONFIG_SEPARATE ? 1 : l.samples;
  const size_t plane_row_bytes = (size_t{l.width} * per_plane * l.bits + 7) / 8;
  // Writes plane p's pixel run (row y, x from x0, count pixels) into the interleaved page.
  auto place = [&](uint16_t p, uint32_t y, uint32_t x0, uint32_t count, const unsigned char* src) {
    if (planes == 1) {
      std::memcpy(out.data() + y * row_bytes + (size_t{x0} * l.samples * l.bits) / 8, src,
                  (size_t{count} * l.samples * l.bits + 7) / 8);
      return;
    }
    for (uint32_t i = 0; i < count; ++i)
      std::memcpy(out.data() + y * row_bytes + (size_t{x0 + i} * l.samples + p) * sample_bytes, src + i * sample_bytes, sample_bytes);
  };
  if (l.tiled) {
    uint32_t tw = 0, th = 0;
    TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(t, TIFFTAG_TILELENGTH, &th);
    if (tw == 0 || th == 0) fail();
    std::vector<unsigned char> tile(static_cast<size_t>(TIFFTileSize(t)));
    const size_t tile_row = (size_t{tw} * per_plane * l.bits + 7) / 8;
    for (uint16_t p = 0; p < planes; ++p)
      for (uint32_t y = 0; y < l.height; y += th)
        for (uint32_t x = 0; x < l.width; x += tw) {
          if (TIFFReadEncodedTile(t, TIFFComputeTile(t, x, y, 0, p), tile.data(), static_cast<tmsize_t>(tile.size())) < 0) fail();
          if (l.bits < 8 && x % 8) fail();  // tiles of packed bits always start on a byte
          for (uint32_t r = 0; r < th && y + r < l.height; ++r)
            place(p, y + r, x, std::min(tw, l.width - x), tile.data() + r * tile_row);
        }
    return;
  }
  uint32_t rows_per_strip = l.height;
  TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
  rows_per_strip = std::min(rows_per_strip, l.height);
  const uint32_t strips_per_plane = (l.height + rows_per_strip - 1) / rows_per_strip;
  std::vector<unsigned char> strip(planes == 1 ? 0 : plane_row_bytes * rows_per_strip);
  for (uint16_t p = 0; p < planes; ++p)
    for (uint32_t s = 0; s < strips_per_plane; ++s) {
      const uint32_t y0 = s * rows_per_strip, rows = std::min(rows_per_strip, l.height - y0);
      const tmsize_t want = static_cast<tmsize_t>(plane_row_bytes * rows);
      unsigned char* target = planes == 1 ? out.data() + y0 * row_bytes : strip.data();
      if (TIFFReadEncodedStrip(t, p * strips_per_plane + s, target, want) < want) fail();
      if (planes > 1)
        for (uint32_t r = 0; r < rows; ++r) place(p, y0 + r, 0, l.width, strip.data() + r * plane_row_bytes);
    }
}

template <class T>
void convert_page(const std::vector<unsigned char>& page, const PageLayout& l, ColorPolicy policy, T* dst, int64_t channels) {
  const size_t row_bytes = (size_t{l.width} * l.samples * l.bits + 7) / 8;
  const bool invert = l.photometric == PHOTOMETRIC_MINISWHITE;
  bool palette_grey = true;  // as for PNG: a grey palette gives grey values, a coloured one indices
  if (l.photometric == PHOTOMETRIC_PALETTE)
    for (uint32_t i = 0; i < (1u << l.bits); ++i)
      palette_grey = palette_grey && l.red[i] == l.green[i] && l.green[i] == l.blue[i];
  auto sample = [&](uint32_t y, uint32_t x, uint16_t s) -> T {
    const unsigned char* row = page.data() + y * row_bytes;
    const size_t index = size_t{x} * l.samples + s;
    if (l.bits < 8) {
      const size_t bit = index * l.bits;
      const unsigned max = (1u << l.bits) - 1;
      const unsigned v = (row[bit / 8] >> (8 - l.bits - bit % 8)) & max;
      return static_cast<T>(v * 255 / max);
    }
    T v;
    std::memcpy(&v, row + index * sizeof(T), sizeof(T));
    return v;
  };
  for (uint32_t y = 0; y < l.height; ++y) {
    for (uint32_t x = 0; x < l.width; ++x) {
      T r, g, b;
      if (l.photometric == PHOTOMETRIC_RGB) {
        r = sample(y, x, 0);
        g = sample(y, x, 1);
        b = sample(y, x, 2);
      } else if (l.photometric == PHOTOMETRIC_PALETTE) {
        const auto i = static_cast<uint8_t>(sample(y, x, 0));
        if (policy == ColorPolicy::grey && !palette_grey) {
          r = g = b = static_cast<T>(i);
        } else {
          r = static_cast<T>(l.red[i] >> 8);
          g = static_cast<T>(l.green[i] >> 8);
          b = static_cast<T>(l.blue[i] >> 8);
        }
      } else {
        T v = sample(y, x, 0);
        if (invert) {
          if constexpr (std::is_floating_point_v<T>) v = -v;
          else v = static_cast<T>((l.bits < 8 ? T{255} : std::numeric_limits<T>::max()) - v);
        }
        r = g = b = v;
      }
      T* px = dst + (int64_t{y} * l.width + x) * channels;
      if (channels == 1) {
        px[0] = luminance<T>(r, g, b);
      } else {
        px[0] = r;
        px[1] = g;
        px[2] = b;
      }
    }
  }
}


// TIFFReadDirectory also stops when the next page's directory cannot be read (a file cut short);
// libtiff then reports an error through the handler.
void check_chain_complete(TIFF* t, const fs::path& path, int64_t pages_read) {
  if (!TIFFLastDirectory(t) || !last_tiff_error.empty())
    throw InputError(path, "is truncated or corrupt: the directory of page " + std::to_string(pages_read + 1) +
                               " cannot be read" + (last_tiff_error.empty() ? "" : " (" + last_tiff_error + ")"));
}

}  // namespace

ImageHeader probe_tiff(const fs::path& path, ColorPolicy policy) {
  TiffHandle t = open_tiff(path, "r");
  ImageHeader header;
  int64_t pages = 0;
  do {
    if (is_reduced_image(t.get())) continue;
    if (pages == 0) {
      const PageLayout layout = read_layout(t.get(), path, 0);
      check_page_budget(t.get(), layout, policy, path, 0);
      header = header_for(layout, policy);
      header.voxel_size = read_voxel_size(t.get());
    }
    ++pages;
  } while (TIFFReadDirectory(t.get()));
  check_chain_complete(t.get(), path, pages);
  header.pages = pages;
  return header;
}

struct TiffPageReader::State {
  fs::path path;
  ColorPolicy policy;
  TiffHandle tiff;
  PageLayout first;    // of the first page read (the first one unless pages were skipped)
  bool have_first = false;
  int64_t index = 0;  // pages read
  bool more = true;   // a page is waiting at the current directory
  std::vector<unsigned char> page;

  void skip_reduced() {  // thumbnails between pages are not sections
    while (more && is_reduced_image(tiff.get())) more = TIFFReadDirectory(tiff.get()) != 0;
  }
  void advance() {  // to the next page
    ++index;
    more = TIFFReadDirectory(tiff.get()) != 0;
    skip_reduced();
    if (!more) check_chain_complete(tiff.get(), path, index);
  }
};

TiffPageReader::TiffPageReader(const fs::path& path, ColorPolicy policy, bool map_file) : state_(std::make_unique<State>()) {
  state_->path = path;
  state_->policy = policy;
  state_->tiff = open_tiff(path, map_file ? "r" : "rm");  // "m": plain reads, no mapping
  state_->skip_reduced();
}

TiffPageReader::~TiffPageReader() = default;

bool TiffPageReader::done() const { return !state_->more; }

void TiffPageReader::read_next(Volume& dst, int64_t z) {
  State& st = *state_;
  UNIEM_CHECK(st.more, "TiffPageReader: no page left");
  TIFF* t = st.tiff.get();
  const fs::path& path = st.path;
  const int64_t index = st.index;
  const PageLayout l = read_layout(t, path, index);
  check_page_budget(t, l, st.policy, path, index);
  if (!st.have_first) st.first = l, st.have_first = true;
  if (!l.same_pixels(st.first))
    throw InputError(path, "page " + std::to_string(index + 1) + " is " + std::to_string(l.width) + " x " +
                               std::to_string(l.height) + " " + l.describe() + ", but page 1 is " +
                               std::to_string(st.first.width) + " x " + std::to_string(st.first.height) + " " +
                               st.first.describe() + "; a stack needs equal pages");
  UNIEM_CHECK(z < dst.nz() && l.width == dst.nx() && l.height == dst.ny(), "read_tiff_into: shape differs from the probe");
  const bool direct = l.samples == 1 && l.bits >= 8 && l.photometric == PHOTOMETRIC_MINISBLACK && !l.tiled && dst.channels() == 1;
  if (direct) {  // strips straight into the volume: the layouts agree
    uint32_t rows_per_strip = l.height;
    TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
    rows_per_strip = std::min(rows_per_strip, l.height);
    const size_t row_bytes = size_t{l.width} * l.bits / 8;
    auto* out = reinterpret_cast<unsigned char*>(dst.raw_slice(z));
    for (uint32_t s = 0, y0 = 0; y0 < l.height; ++s, y0 += rows_per_strip) {
      const tmsize_t want = static_cast<tmsize_t>(row_bytes * std::min(rows_per_strip, l.height - y0));
      if (TIFFReadEncodedStrip(t, s, out + y0 * row_bytes, want) < want)
        throw InputError(path, "page " + std::to_string(index + 1) + " cannot be decoded (" +
                                   (last_tiff_error.empty() ? "truncated or corrupt" : last_tiff_error) + ")");
    }
  } else {
    read_page(t, l, path, index, st.page);
    visit_dtype(dst.dtype(), [&](auto type) {
      using T = decltype(type);
      convert_page<T>(st.page, l, st.policy, dst.slice<T>(z), dst.channels());
    });
  }
  st.advance();
}

void TiffPageReader::skip_next() {
  UNIEM_CHECK(state_->more, "TiffPageReader: no page left");
  state_->advance();
}

void read_tiff_into(const fs::path& path, ColorPolicy policy, Volume& dst, int64_t z0, Progress* progress) {
  TiffPageReader pages(path, policy);
  for (int64_t z = z0; !pages.done(); ++z) {
    pages.read_next(dst, z);
    if (progress) progress->advance();
  }
}

struct TiffPageWriter::State {
  fs::path path;
  TiffHandle handle;
  int64_t pages = 0, written = 0;
  TiffCompression compression = TiffCompression::none;
  std::string description;
  std::vector<unsigned char> scratch;
};

TiffPageWriter::TiffPageWriter(const fs::path& path, int64_t pages, const Volume& like, TiffCompression compression)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.path = path, s.pages = pages, s.compression = compression;
  const uint64_t payload = static_cast<uint64_t>(like.slice_elements()) * dtype_size(like.dtype()) * static_cast<uint64_t>(pages);
  const bool big = compression == TiffCompression::none ? payload > (uint64_t{4000} << 20)
                                                        : payload > (uint64_t{3000} << 20);  // compressed size is unknown beforehand
  s.handle = open_tiff(path, big ? "w8" : "w");
  s.description = "ImageJ=1.11a\nimages=" + std::to_string(pages) + "\nslices=" + std::to_string(pages) + "\n";
  if (like.voxel_size.known) {
    std::ostringstream d;
    d.precision(10);
    d << "unit=nm\nspacing=" << like.voxel_size.z << "\n";
    s.description += d.str();
  }
  s.description += "loop=false\n";
}

TiffPageWriter::~TiffPageWriter() = default;

void TiffPageWriter::write(const Volume& v, int64_t z_begin, int64_t z_end, Progress* progress) {
  State& s = *state_;
  const uint16_t bits = static_cast<uint16_t>(dtype_size(v.dtype()) * 8);
  const size_t row_bytes = static_cast<size_t>(v.nx() * v.channels()) * dtype_size(v.dtype());
  const uint32_t rows_per_strip = s.compression == TiffCompression::none
                                      ? static_cast<uint32_t>(v.ny())
                                      : static_cast<uint32_t>(std::max<size_t>(1, (size_t{256} << 10) / std::max<size_t>(1, row_bytes)));
  for (int64_t z = z_begin; z < z_end; ++z, ++s.written) {
    UNIEM_CHECK(s.written < s.pages, "TiffPageWriter: more pages than announced");
    TIFF* h = s.handle.get();
    TIFFSetField(h, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(v.nx()));
    TIFFSetField(h, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(v.ny()));
    TIFFSetField(h, TIFFTAG_BITSPERSAMPLE, bits);
    TIFFSetField(h, TIFFTAG_SAMPLESPERPIXEL, static_cast<uint16_t>(v.channels()));
    TIFFSetField(h, TIFFTAG_SAMPLEFORMAT, v.dtype() == DType::f32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT);
    TIFFSetField(h, TIFFTAG_PHOTOMETRIC, v.channels() == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    TIFFSetField(h, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(h, TIFFTAG_ROWSPERSTRIP, rows_per_strip);
    if (s.pages > 1) {
      TIFFSetField(h, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
      TIFFSetField(h, TIFFTAG_PAGENUMBER, static_cast<uint16_t>(s.written), static_cast<uint16_t>(s.pages));
    }
    switch (s.compression) {
      case TiffCompression::none: TIFFSetField(h, TIFFTAG_COMPRESSION, COMPRESSION_NONE); break;
      case TiffCompression::deflate:
        TIFFSetField(h, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
        TIFFSetField(h, TIFFTAG_PREDICTOR, v.dtype() == DType::f32 ? PREDICTOR_FLOATINGPOINT : PREDICTOR_HORIZONTAL);
        break;
      case TiffCompression::lzw:
        TIFFSetField(h, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
        TIFFSetField(h, TIFFTAG_PREDICTOR, v.dtype() == DType::f32 ? PREDICTOR_FLOATINGPOINT : PREDICTOR_HORIZONTAL);
        break;
    }
    if (v.voxel_size.known) {
      TIFFSetField(h, TIFFTAG_RESOLUTIONUNIT, RESUNIT_NONE);
      TIFFSetField(h, TIFFTAG_XRESOLUTION, static_cast<float>(1.0 / v.voxel_size.x));
      TIFFSetField(h, TIFFTAG_YRESOLUTION, static_cast<float>(1.0 / v.voxel_size.y));
    }
    if (s.written == 0) TIFFSetField(h, TIFFTAG_IMAGEDESCRIPTION, s.description.c_str());
    TIFFSetField(h, TIFFTAG_SOFTWARE, "uniem");
    const auto* pixels = reinterpret_cast<const unsigned char*>(v.raw_slice(z));
    for (uint32_t strip = 0, y0 = 0; y0 < v.ny(); ++strip, y0 += rows_per_strip) {
      const size_t bytes = row_bytes * std::min<size_t>(rows_per_strip, static_cast<size_t>(v.ny() - y0));
      // libtiff may apply the predictor in place, so compressed strips go through a copy.
      unsigned char* data = const_cast<unsigned char*>(pixels + y0 * row_bytes);
      if (s.compression != TiffCompression::none) {
        s.scratch.assign(pixels + y0 * row_bytes, pixels + y0 * row_bytes + bytes);
        data = s.scratch.data();
      }
      if (TIFFWriteEncodedStrip(h, strip, data, static_cast<tmsize_t>(bytes)) < 0)
        throw InputError(s.path, "could not be written (" + (last_tiff_error.empty() ? "disk full?" : last_tiff_error) + ")");
    }
    if (!TIFFWriteDirectory(h))
      throw InputError(s.path, "could not be written (" + (last_tiff_error.empty() ? "disk full?" : last_tiff_error) + ")");
    if (progress) progress->advance();
  }
}

void TiffPageWriter::close() {
  UNIEM_CHECK(state_->written == state_->pages, "TiffPageWriter: fewer pages than announced");
  TIFF* raw = state_->handle.release();
  TIFFClose(raw);  // flushes; libtiff reports a failed flush only through the error handler
  if (!last_tiff_error.empty()) throw InputError(state_->path, "could not be written (" + last_tiff_error + ")");
}

void write_tiff(const fs::path& path, const Volume& v, int64_t z_begin, int64_t z_end, TiffCompression compression,
                Progress* progress) {
  TiffPageWriter writer(path, z_end - z_begin, v, compression);
  writer.write(v, z_begin, z_end, progress);
  writer.close();
}

}  // namespace uniem
