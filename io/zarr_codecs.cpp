#include "io/zarr_codecs.h"

#include <blosc.h>
#include <lz4.h>
#include <zlib.h>
#include <zstd.h>

#include <array>

#include "core/error.h"

namespace fs = std::filesystem;

namespace uniem {

bool zarr_codec_known(const std::string& codec) {
  return codec == "zlib" || codec == "gzip" || codec == "blosc" || codec == "zstd" || codec == "lz4";
}

void zarr_decode(const std::string& codec, const std::string& stored, size_t expected, std::string& out, const fs::path& file) {
  out.assign(expected, '\0');
  const auto damaged = [&](size_t got) {
    return InputError(file, "is not a whole " + codec + " chunk of this array (" + std::to_string(got) + " of " + std::to_string(expected) +
                                " bytes decoded): truncated or damaged");
  };
  if (codec == "zlib" || codec == "gzip") {
    z_stream s{};
    if (inflateInit2(&s, 32 + MAX_WBITS) != Z_OK) throw Error("zlib could not start");  // zlib or gzip header
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(stored.data()));
    s.avail_in = static_cast<uInt>(stored.size());
    s.next_out = reinterpret_cast<Bytef*>(out.data());
    s.avail_out = static_cast<uInt>(expected);
    const int r = inflate(&s, Z_FINISH);
    const size_t got = s.total_out;
    inflateEnd(&s);
    if (r != Z_STREAM_END || got != expected) throw damaged(got);
  } else if (codec == "blosc") {
    size_t bytes = 0, compressed = 0, block = 0;
    if (stored.size() < BLOSC_MIN_HEADER_LENGTH) throw damaged(0);
    blosc_cbuffer_sizes(stored.data(), &bytes, &compressed, &block);
    if (bytes != expected || compressed > stored.size()) throw damaged(bytes);
    const int got = blosc_decompress_ctx(stored.data(), out.data(), expected, 1);
    if (got < 0 || static_cast<size_t>(got) != expected) throw damaged(got < 0 ? 0 : static_cast<size_t>(got));
  } else if (codec == "zstd") {
    const size_t got = ZSTD_decompress(out.data(), expected, stored.data(), stored.size());
    if (ZSTD_isError(got) || got != expected) throw damaged(ZSTD_isError(got) ? 0 : got);
  } else if (codec == "lz4") {  // numcodecs' LZ4: the size as 4 bytes, little-endian, then one LZ4 block
    if (stored.size() < 4) throw damaged(0);
    const int got = LZ4_decompress_safe(stored.data() + 4, out.data(), static_cast<int>(stored.size() - 4), static_cast<int>(expected));
    if (got < 0 || static_cast<size_t>(got) != expected) throw damaged(got < 0 ? 0 : static_cast<size_t>(got));
  } else {
    throw Error("decode: unknown codec " + codec);
  }
}

}  // namespace uniem
