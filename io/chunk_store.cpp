#include "io/chunk_store.h"

#include <libdeflate.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <fstream>
#include <string>

#include "core/error.h"
#include "io/atomic_output.h"

namespace fs = std::filesystem;

namespace uniem {
namespace {

constexpr char magic[8] = {'U', 'N', 'I', 'E', 'M', 'C', 'K', '2'};
constexpr char magic_version1[8] = {'U', 'N', 'I', 'E', 'M', 'C', 'K', '1'};
constexpr size_t header_bytes = 28;

void put_u32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t get_u32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(s[at + static_cast<size_t>(i)])) << (8 * i);
  return v;
}

// One compressor (level 1) and one decompressor per thread: allocating them costs more than a
// small chunk.
struct Deflaters {
  libdeflate_compressor* compressor = libdeflate_alloc_compressor(1);
  libdeflate_decompressor* decompressor = libdeflate_alloc_decompressor();
  ~Deflaters() {
    libdeflate_free_compressor(compressor);
    libdeflate_free_decompressor(decompressor);
  }
};
Deflaters& deflaters() {
  thread_local Deflaters d;
  UNIEM_CHECK(d.compressor && d.decompressor, "libdeflate: out of memory");
  return d;
}

}  // namespace

ChunkStore::ChunkStore(fs::path folder, DType dtype, std::array<int64_t, 3> shape, std::array<int64_t, 3> chunk)
    : folder_(std::move(folder)), dtype_(dtype), shape_(shape), chunk_(chunk) {
  for (int a = 0; a < 3; ++a) {
    UNIEM_CHECK(shape_[a] > 0 && chunk_[a] > 0, "ChunkStore: empty shape or chunk");
    grid_[a] = (shape_[a] + chunk_[a] - 1) / chunk_[a];
  }
}

std::array<int64_t, 3> ChunkStore::origin(int64_t index) const {
  const int64_t cx = index % grid_[2], cy = (index / grid_[2]) % grid_[1], cz = index / (grid_[1] * grid_[2]);
  return {cz * chunk_[0], cy * chunk_[1], cx * chunk_[2]};
}

std::array<int64_t, 3> ChunkStore::extent(int64_t index) const {
  const auto o = origin(index);
  return {std::min(chunk_[0], shape_[0] - o[0]), std::min(chunk_[1], shape_[1] - o[1]),
          std::min(chunk_[2], shape_[2] - o[2])};
}

fs::path ChunkStore::path(int64_t index) const {
  const int64_t cx = index % grid_[2], cy = (index / grid_[2]) % grid_[1], cz = index / (grid_[1] * grid_[2]);
  return folder_ / (std::to_string(cz) + "_" + std::to_string(cy) + "_" + std::to_string(cx) + ".chunk");
}

bool ChunkStore::exists(int64_t index) const { return fs::exists(path(index)); }

Volume ChunkStore::read(int64_t index) const {
  UNIEM_CHECK(index >= 0 && index < chunk_count(), "ChunkStore::read: index out of range");
  const auto e = extent(index);
  const fs::path file = path(index);
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) {
    if (!fs::exists(file)) return Volume(dtype_, e[0], e[1], e[2]);
    throw InputError(file, "cannot be opened");
  }
  Volume v = Volume::uninitialized(dtype_, e[0], e[1], e[2]);  // inflate fills every voxel, or throws
  std::string bytes(static_cast<size_t>(std::max<std::streamoff>(0, in.tellg())), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) throw InputError(file, "cannot be read");
  const bool version1 = bytes.size() >= 8 && std::memcmp(bytes.data(), magic_version1, 8) == 0;
  if (bytes.size() < header_bytes + 2 || (!version1 && std::memcmp(bytes.data(), magic, 8) != 0))
    throw InputError(file, "is not a uniem chunk (truncated or foreign file)");
  if (get_u32(bytes, 8) != static_cast<uint32_t>(dtype_))
    throw InputError(file, std::string("holds another voxel type than the store's ") + dtype_name(dtype_));
  for (int a = 0; a < 3; ++a)
    if (get_u32(bytes, 12 + 4 * static_cast<size_t>(a)) != static_cast<uint32_t>(e[a]))
      throw InputError(file, "has another extent than its place in the store");
  const char* data = bytes.data() + header_bytes;
  const size_t size = bytes.size() - header_bytes;
  // Version 2: the CRC-32 of the compressed bytes, then raw DEFLATE. Version 1: a zlib stream
  // (libdeflate checks its Adler-32), then the CRC-32 of the voxels.
  if (!version1 && libdeflate_crc32(0, data, size) != get_u32(bytes, 24)) throw InputError(file, "is corrupt (checksum mismatch)");
  libdeflate_decompressor* d = deflaters().decompressor;
  const libdeflate_result r = version1 ? libdeflate_zlib_decompress(d, data, size, v.raw(), v.bytes(), nullptr)
                                       : libdeflate_deflate_decompress(d, data, size, v.raw(), v.bytes(), nullptr);
  if (r != LIBDEFLATE_SUCCESS) throw InputError(file, "is corrupt (its compressed voxels do not unpack)");
  if (version1 && libdeflate_crc32(0, v.raw(), v.bytes()) != get_u32(bytes, 24))
    throw InputError(file, "is corrupt (checksum mismatch)");
  return v;
}

void ChunkStore::write(int64_t index, const Volume& chunk, int level, bool durable) const {
  UNIEM_CHECK(index >= 0 && index < chunk_count(), "ChunkStore::write: index out of range");
  UNIEM_CHECK(chunk.dtype() == dtype_ && chunk.shape() == extent(index), "ChunkStore::write: wrong chunk");
  UNIEM_CHECK(level >= 0 && level <= 12, "ChunkStore::write: level is 0..12");
  // Level 1, what every caller asks for, reuses the thread's compressor; others get their own.
  std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> own(
      level == 1 ? nullptr : libdeflate_alloc_compressor(level), &libdeflate_free_compressor);
  UNIEM_CHECK(level == 1 || own, "libdeflate: out of memory");
  libdeflate_compressor* compressor = level == 1 ? deflaters().compressor : own.get();
  std::string out(header_bytes + libdeflate_deflate_compress_bound(compressor, chunk.bytes()), '\0');
  std::memcpy(out.data(), magic, sizeof magic);
  put_u32(out, 8, static_cast<uint32_t>(dtype_));
  const auto e = extent(index);
  for (int a = 0; a < 3; ++a) put_u32(out, 12 + 4 * static_cast<size_t>(a), static_cast<uint32_t>(e[a]));
  const size_t compressed =
      libdeflate_deflate_compress(compressor, chunk.raw(), chunk.bytes(), out.data() + header_bytes, out.size() - header_bytes);
  UNIEM_CHECK(compressed > 0, "ChunkStore::write: libdeflate found no room (its bound was wrong)");
  out.resize(header_bytes + compressed);
  put_u32(out, 24, libdeflate_crc32(0, out.data() + header_bytes, compressed));
  if (durable)
    write_file_durably(path(index), out);
  else
    write_file_atomically(path(index), out, true, false);  // one of many chunks: no listing of the folder
}

}  // namespace uniem
