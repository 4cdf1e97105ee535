#include "io/zarr_codecs.h"

#include <blosc.h>
#include <lz4.h>
#include <libdeflate.h>
#include <zstd.h>

#include <array>
#include <memory>

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
  if (codec == "zlib" || codec == "gzip") {  // libdeflate: whole buffers, 2-3 times faster than zlib's inflate
    thread_local const std::unique_ptr<libdeflate_decompressor, decltype(&libdeflate_free_decompressor)> inflater(
        libdeflate_alloc_decompressor(), &libdeflate_free_decompressor);
    if (!inflater) throw Error("libdeflate: out of memory");
    const bool gzip = stored.size() >= 2 && static_cast<uint8_t>(stored[0]) == 0x1f && static_cast<uint8_t>(stored[1]) == 0x8b;
    size_t got = 0;
    const auto r = gzip ? libdeflate_gzip_decompress(inflater.get(), stored.data(), stored.size(), out.data(), expected, &got)
                        : libdeflate_zlib_decompress(inflater.get(), stored.data(), stored.size(), out.data(), expected, &got);
    if (r != LIBDEFLATE_SUCCESS || got != expected) throw damaged(r == LIBDEFLATE_SUCCESS ? got : 0);
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
