// The byte codecs of Zarr chunks (io/zarr.h): zlib and gzip (libdeflate), blosc (c-blosc: lz4, zstd,
// zlib, blosclz inside, byte or bit shuffle), zstd and lz4 in numcodecs' framing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace uniem {

// True for the codecs zarr_decode knows: "zlib", "gzip", "blosc", "zstd", "lz4".
bool zarr_codec_known(const std::string& codec);

// `stored` (read from `file`) decoded with `codec` into `out`, which is then `expected` bytes
// long; InputError naming the file when it is damaged, truncated or not a chunk of this array.
void zarr_decode(const std::string& codec, const std::string& stored, size_t expected, std::string& out,
                 const std::filesystem::path& file);

}  // namespace uniem
