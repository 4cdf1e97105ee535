#include "io/chunk_store.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
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
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data() + header_bytes);
  size_t size = bytes.size() - header_bytes;
  if (!version1 && static_cast<uint32_t>(crc32_z(0L, data, size)) != get_u32(bytes, 24))
    throw InputError(file, "is corrupt (checksum mismatch)");
  if (version1) {  // a zlib stream: skip its header, leave its Adler-32 to the CRC-32 of the voxels
    if (size < 6 || (data[0] & 0x0f) != 8 || (data[1] & 0x20) != 0 || (data[0] * 256 + data[1]) % 31 != 0)
      throw InputError(file, "is corrupt (its compressed voxels have no zlib header)");
    data += 2;
    size -= 2;
  }
  z_stream stream{};
  UNIEM_CHECK(inflateInit2(&stream, -MAX_WBITS) == Z_OK, "ChunkStore::read: inflateInit2 failed");
  stream.next_in = const_cast<unsigned char*>(data);
  stream.avail_in = static_cast<uInt>(size);
  stream.next_out = reinterpret_cast<Bytef*>(v.raw());
  stream.avail_out = static_cast<uInt>(v.bytes());
  const int rc = inflate(&stream, Z_FINISH);
  const bool complete = rc == Z_STREAM_END && stream.avail_out == 0 && stream.avail_in == (version1 ? 4u : 0u);
  inflateEnd(&stream);
  if (!complete) throw InputError(file, "is corrupt (its compressed voxels do not unpack)");
  if (version1 && static_cast<uint32_t>(crc32_z(0L, reinterpret_cast<const Bytef*>(v.raw()), v.bytes())) != get_u32(bytes, 24))
    throw InputError(file, "is corrupt (checksum mismatch)");
  return v;
}

void ChunkStore::write(int64_t index, const Volume& chunk, int level, bool durable) const {
  UNIEM_CHECK(index >= 0 && index < chunk_count(), "ChunkStore::write: index out of range");
  UNIEM_CHECK(chunk.dtype() == dtype_ && chunk.shape() == extent(index), "ChunkStore::write: wrong chunk");
  z_stream stream{};
  UNIEM_CHECK(deflateInit2(&stream, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK,
              "ChunkStore::write: deflateInit2 failed");
  std::string out(header_bytes + deflateBound(&stream, static_cast<uLong>(chunk.bytes())), '\0');
  std::memcpy(out.data(), magic, sizeof magic);
  put_u32(out, 8, static_cast<uint32_t>(dtype_));
  const auto e = extent(index);
  for (int a = 0; a < 3; ++a) put_u32(out, 12 + 4 * static_cast<size_t>(a), static_cast<uint32_t>(e[a]));
  stream.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(chunk.raw()));
  stream.avail_in = static_cast<uInt>(chunk.bytes());
  stream.next_out = reinterpret_cast<Bytef*>(out.data() + header_bytes);
  stream.avail_out = static_cast<uInt>(out.size() - header_bytes);
  const int rc = deflate(&stream, Z_FINISH);
  const size_t compressed = stream.total_out;
  deflateEnd(&stream);
  UNIEM_CHECK(rc == Z_STREAM_END, "ChunkStore::write: zlib deflate did not finish");
  out.resize(header_bytes + compressed);
  put_u32(out, 24, static_cast<uint32_t>(crc32_z(0L, reinterpret_cast<const Bytef*>(out.data() + header_bytes), compressed)));
  if (durable)
    write_file_durably(path(index), out);
  else
    write_file_atomically(path(index), out, true);
}

}  // namespace uniem
