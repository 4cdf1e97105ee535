#include "io/chunk_store.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "core/error.h"
#include "io/atomic_output.h"

namespace fs = std::filesystem;

namespace uniem {
namespace {

constexpr char magic[8] = {'U', 'N', 'I', 'E', 'M', 'C', 'K', '1'};
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
  Volume v(dtype_, e[0], e[1], e[2]);
  const fs::path file = path(index);
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    if (!fs::exists(file)) return v;
    throw InputError(file, "cannot be opened");
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < header_bytes || std::memcmp(bytes.data(), magic, sizeof magic) != 0)
    throw InputError(file, "is not a uniem chunk (truncated or foreign file)");
  if (get_u32(bytes, 8) != static_cast<uint32_t>(dtype_))
    throw InputError(file, std::string("holds another voxel type than the store's ") + dtype_name(dtype_));
  for (int a = 0; a < 3; ++a)
    if (get_u32(bytes, 12 + 4 * static_cast<size_t>(a)) != static_cast<uint32_t>(e[a]))
      throw InputError(file, "has another extent than its place in the store");
  uLongf size = static_cast<uLongf>(v.bytes());
  const int rc = uncompress(reinterpret_cast<Bytef*>(v.raw()), &size,
                            reinterpret_cast<const Bytef*>(bytes.data() + header_bytes),
                            static_cast<uLong>(bytes.size() - header_bytes));
  if (rc != Z_OK || size != v.bytes()) throw InputError(file, "is corrupt (its compressed voxels do not unpack)");
  const uint32_t crc = static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(v.raw()), static_cast<uInt>(v.bytes())));
  if (crc != get_u32(bytes, 24)) throw InputError(file, "is corrupt (checksum mismatch)");
  return v;
}

void ChunkStore::write(int64_t index, const Volume& chunk, int level, bool durable) const {
  UNIEM_CHECK(index >= 0 && index < chunk_count(), "ChunkStore::write: index out of range");
  UNIEM_CHECK(chunk.dtype() == dtype_ && chunk.shape() == extent(index), "ChunkStore::write: wrong chunk");
  uLongf bound = compressBound(static_cast<uLong>(chunk.bytes()));
  std::string out(header_bytes + bound, '\0');
  std::memcpy(out.data(), magic, sizeof magic);
  put_u32(out, 8, static_cast<uint32_t>(dtype_));
  const auto e = extent(index);
  for (int a = 0; a < 3; ++a) put_u32(out, 12 + 4 * static_cast<size_t>(a), static_cast<uint32_t>(e[a]));
  put_u32(out, 24, static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(chunk.raw()), static_cast<uInt>(chunk.bytes()))));
  const int rc = compress2(reinterpret_cast<Bytef*>(out.data() + header_bytes), &bound,
                           reinterpret_cast<const Bytef*>(chunk.raw()), static_cast<uLong>(chunk.bytes()), level);
  UNIEM_CHECK(rc == Z_OK, "ChunkStore::write: zlib compress2 failed");
  out.resize(header_bytes + bound);
  if (durable)
    write_file_durably(path(index), out);
  else
    write_file_atomically(path(index), out, true);
}

}  // namespace uniem
