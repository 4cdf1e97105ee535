#include "io/precomputed.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/progress.h"
#include "core/threads.h"
#include "io/atomic_output.h"
#include "io/pyramid.h"
#include "io/zarr_codecs.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem {
namespace {

uint32_t get32(const std::string& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);  // little-endian, as this machine
  return v;
}
uint64_t get64(const std::string& b, size_t at) {
  uint64_t v;
  std::memcpy(&v, b.data() + at, 8);
  return v;
}
void put32(std::string& b, uint32_t v) { b.append(reinterpret_cast<const char*>(&v), 4); }

std::string read_all(const fs::path& file, uint64_t offset = 0, int64_t length = -1) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) throw InputError(file, "cannot be opened");
  const auto size = static_cast<uint64_t>(std::max<std::streamoff>(0, in.tellg()));
  const uint64_t n = length < 0 ? size - std::min(size, offset) : static_cast<uint64_t>(length);
  if (offset > size || n > size - offset) throw InputError(file, "is shorter than its index says (truncated)");
  std::string bytes(static_cast<size_t>(n), '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  if (!in.read(bytes.data(), static_cast<std::streamsize>(n))) throw InputError(file, "cannot be read");
  return bytes;
}

bool is_gzip(const std::string& b) { return b.size() >= 18 && static_cast<unsigned char>(b[0]) == 0x1f && static_cast<unsigned char>(b[1]) == 0x8b; }

// gzip's own trailer says the decoded size (modulo 2^32, enough for one chunk or index).
std::string gunzip(const std::string& stored, const fs::path& file) {
  if (!is_gzip(stored)) throw InputError(file, "is not gzip data, as its \"info\" says it is");
  std::string out;
  zarr_decode("gzip", stored, get32(stored, stored.size() - 4), out, file);
  return out;
}

std::array<int64_t, 3> triple(const json& j, const char* key, const fs::path& info, bool positive) {
  if (!j.contains(key) || !j[key].is_array() || j[key].size() != 3) throw InputError(info, std::string("has no \"") + key + "\" of 3 numbers (x, y, z)");
  std::array<int64_t, 3> out{};
  for (size_t i = 0; i < 3; ++i) {
    if (!j[key][i].is_number()) throw InputError(info, std::string("\"") + key + "\" holds " + j[key][i].dump() + ", not a number");
    out[i] = static_cast<int64_t>(j[key][i].get<double>());
    if (positive ? out[i] <= 0 : out[i] < 0) throw InputError(info, std::string("\"") + key + "\" holds " + j[key].dump() + ", not sizes");
  }
  return out;
}

std::string numbers(const std::array<int64_t, 3>& a, const char* sep) {
  return std::to_string(a[0]) + sep + std::to_string(a[1]) + sep + std::to_string(a[2]);
}

// Decodes a compressed segmentation channel at `base` (32-bit words) of `data` into `out`, a
// chunk of `size` (x, y, z) of `words` 32-bit words per value (1 or 2), C order (z, y, x).
void decode_segmentation(const std::string& data, size_t base, const std::array<int64_t, 3>& size, const std::array<int64_t, 3>& block,
                         int words, std::byte* out, const fs::path& file) {
  const size_t total = data.size() / 4;
  std::array<int64_t, 3> grid{};
  for (int d = 0; d < 3; ++d) grid[d] = (size[d] + block[d] - 1) / block[d];
  auto bad = [&](const std::string& what) { return InputError(file, "is not a valid compressed segmentation chunk (" + what + ")"); };
  if (base + 2 * static_cast<size_t>(grid[0] * grid[1] * grid[2]) > total) throw bad("its block headers run past its end");
  for (int64_t gz = 0; gz < grid[2]; ++gz)
    for (int64_t gy = 0; gy < grid[1]; ++gy)
      for (int64_t gx = 0; gx < grid[0]; ++gx) {
        const size_t header = base + 2 * static_cast<size_t>(gx + grid[0] * (gy + grid[1] * gz));
        const uint32_t w0 = get32(data, 4 * header), w1 = get32(data, 4 * (header + 1));
        const size_t table = base + (w0 & 0xffffffu), values = base + w1;
        const unsigned bits = w0 >> 24;
        if (bits != 0 && bits != 1 && bits != 2 && bits != 4 && bits != 8 && bits != 16 && bits != 32) throw bad(std::to_string(bits) + " bits per value");
        const int64_t cells = block[0] * block[1] * block[2];
        if (values + (static_cast<size_t>(cells) * bits + 31) / 32 > total) throw bad("encoded values past its end");
        for (int64_t z = gz * block[2]; z < std::min(size[2], (gz + 1) * block[2]); ++z)
          for (int64_t y = gy * block[1]; y < std::min(size[1], (gy + 1) * block[1]); ++y)
            for (int64_t x = gx * block[0]; x < std::min(size[0], (gx + 1) * block[0]); ++x) {
              const uint64_t position = static_cast<uint64_t>((x - gx * block[0]) + block[0] * ((y - gy * block[1]) + block[1] * (z - gz * block[2])));
              uint32_t index = 0;
              if (bits) {
                const uint64_t bit = position * bits;
                index = (get32(data, 4 * (values + bit / 32)) >> (bit % 32)) & (bits == 32 ? 0xffffffffu : ((1u << bits) - 1));
              }
              const size_t entry = table + static_cast<size_t>(index) * static_cast<size_t>(words);
              if (entry + static_cast<size_t>(words) > total) throw bad("a lookup table past its end");
              std::memcpy(out + static_cast<size_t>((z * size[1] + y) * size[0] + x) * 4 * static_cast<size_t>(words), data.data() + 4 * entry,
                          4 * static_cast<size_t>(words));
            }
      }
}

// Encodes a chunk of `size` (x, y, z), C order (z, y, x) at `in`, of T (uint32_t or uint64_t).
template <typename T>
std::string encode_segmentation(const T* in, const std::array<int64_t, 3>& size, const std::array<int64_t, 3>& block) {
  std::array<int64_t, 3> grid{};
  for (int d = 0; d < 3; ++d) grid[d] = (size[d] + block[d] - 1) / block[d];
  const int64_t blocks = grid[0] * grid[1] * grid[2], cells = block[0] * block[1] * block[2];
  std::string out;
  put32(out, 1);  // one channel, whose data starts at word 1; the offsets below count from there
  const size_t base = 1;
  out.resize(4 * (base + 2 * static_cast<size_t>(blocks)), '\0');
  std::vector<T> distinct;
  std::vector<uint32_t> index(static_cast<size_t>(cells));
  for (int64_t gz = 0; gz < grid[2]; ++gz)
    for (int64_t gy = 0; gy < grid[1]; ++gy)
      for (int64_t gx = 0; gx < grid[0]; ++gx) {
        distinct.clear();
        auto at = [&](int64_t x, int64_t y, int64_t z) {  // positions beyond the chunk repeat its edge
          x = std::min(x, size[0] - 1), y = std::min(y, size[1] - 1), z = std::min(z, size[2] - 1);
          return in[(z * size[1] + y) * size[0] + x];
        };
        for (int64_t z = 0; z < block[2]; ++z)
          for (int64_t y = 0; y < block[1]; ++y)
            for (int64_t x = 0; x < block[0]; ++x) distinct.push_back(at(gx * block[0] + x, gy * block[1] + y, gz * block[2] + z));
        std::sort(distinct.begin(), distinct.end());
        distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
        unsigned bits = 0;
        while ((uint64_t{1} << bits) < distinct.size()) bits = bits ? bits * 2 : 1;
        for (int64_t z = 0, i = 0; z < block[2]; ++z)
          for (int64_t y = 0; y < block[1]; ++y)
            for (int64_t x = 0; x < block[0]; ++x, ++i)
              index[static_cast<size_t>(i)] = static_cast<uint32_t>(
                  std::lower_bound(distinct.begin(), distinct.end(), at(gx * block[0] + x, gy * block[1] + y, gz * block[2] + z)) - distinct.begin());
        const size_t values = out.size() / 4 - base;
        std::vector<uint32_t> packed((static_cast<size_t>(cells) * bits + 31) / 32, 0);
        for (size_t i = 0; bits && i < index.size(); ++i) packed[i * bits / 32] |= index[i] << (i * bits % 32);
        out.append(reinterpret_cast<const char*>(packed.data()), packed.size() * 4);
        const size_t table = out.size() / 4 - base;
        out.append(reinterpret_cast<const char*>(distinct.data()), distinct.size() * sizeof(T));
        const size_t header = 4 * (base + 2 * static_cast<size_t>(gx + grid[0] * (gy + grid[1] * gz)));
        const uint32_t w0 = static_cast<uint32_t>(table) | (bits << 24), w1 = static_cast<uint32_t>(values);
        std::memcpy(out.data() + header, &w0, 4);
        std::memcpy(out.data() + header + 4, &w1, 4);
      }
  return out;
}

uint32_t rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
uint32_t fmix(uint32_t h) {
  h ^= h >> 16, h *= 0x85ebca6bu, h ^= h >> 13, h *= 0xc2b2ae35u, h ^= h >> 16;
  return h;
}

}  // namespace

uint64_t compressed_morton_code(const std::array<int64_t, 3>& g, const std::array<int64_t, 3>& grid) {
  uint64_t code = 0;
  int out = 0;
  for (int bit = 0; bit < 32; ++bit)
    for (int d = 0; d < 3; ++d)
      if ((static_cast<uint64_t>(grid[d]) - 1) >> bit) code |= ((static_cast<uint64_t>(g[d]) >> bit) & 1) << out++;
  return code;
}

uint64_t murmurhash3_x86_128_low(uint64_t key) {
  // An 8-byte key is all tail: no 16-byte body blocks.
  const uint32_t c1 = 0x239b961bu, c2 = 0xab0e9789u, c3 = 0x38b34ae5u;
  uint32_t h1 = 0, h2 = 0, h3 = 0, h4 = 0;
  uint32_t k2 = static_cast<uint32_t>(key >> 32), k1 = static_cast<uint32_t>(key);
  k2 *= c2, k2 = rotl(k2, 16), k2 *= c3, h2 ^= k2;
  k1 *= c1, k1 = rotl(k1, 15), k1 *= c2, h1 ^= k1;
  h1 ^= 8, h2 ^= 8, h3 ^= 8, h4 ^= 8;
  h1 += h2 + h3 + h4, h2 += h1, h3 += h1, h4 += h1;
  h1 = fmix(h1), h2 = fmix(h2), h3 = fmix(h3), h4 = fmix(h4);
  h1 += h2 + h3 + h4, h2 += h1;
  return static_cast<uint64_t>(h1) | (static_cast<uint64_t>(h2) << 32);
}

bool is_precomputed(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec) || !fs::is_regular_file(path / "info", ec)) return false;
  // A JSON object, even one that does not parse (then named in the error), not a note named info.
  std::ifstream in(path / "info");
  char c = 0;
  while (in.get(c) && std::isspace(static_cast<unsigned char>(c))) {
  }
  return c == '{';
}

PrecomputedVolume::PrecomputedVolume(const fs::path& folder) : folder_(folder) {
  const fs::path info_file = folder / "info";
  std::ifstream in(info_file);
  if (!in) throw InputError(info_file, "cannot be read");
  const json info = json::parse(in, nullptr, false);
  if (info.is_discarded() || !info.is_object()) throw InputError(info_file, "does not parse as JSON (a Neuroglancer precomputed \"info\" file)");
  if (!info.contains("scales") || !info["scales"].is_array() || info["scales"].empty() || !info["scales"][0].is_object())
    throw InputError(info_file, "has no \"scales\" list");
  type_ = info.value("type", "image");
  const std::string data_type = info.value("data_type", "");
  static const std::map<std::string, DType> types = {
      {"uint8", DType::u8}, {"uint16", DType::u16}, {"uint32", DType::u32}, {"uint64", DType::u64}, {"float32", DType::f32}};
  const auto t = types.find(data_type);
  if (t == types.end()) throw InputError(info_file, "has \"data_type\" \"" + data_type + "\"; uniem reads uint8, uint16, uint32, uint64 and float32");
  dtype_ = t->second, item_ = dtype_size(dtype_);
  if (info.value("num_channels", 1) != 1) throw InputError(info_file, "has " + std::to_string(info.value("num_channels", 1)) + " channels; uniem reads one");
  const json& scale = info["scales"][0];
  key_ = scale.value("key", "");
  if (key_.empty()) throw InputError(info_file, "names no \"key\" folder for its first scale");
  scale_ = folder / key_;
  size_ = triple(scale, "size", info_file, true);
  offset_ = scale.contains("voxel_offset") ? triple(scale, "voxel_offset", info_file, false) : std::array<int64_t, 3>{0, 0, 0};
  if (!scale.contains("chunk_sizes") || !scale["chunk_sizes"].is_array() || scale["chunk_sizes"].empty())
    throw InputError(info_file, "has no \"chunk_sizes\" for its first scale");
  chunk_ = triple(json{{"chunk", scale["chunk_sizes"][0]}}, "chunk", info_file, true);
  encoding_ = scale.value("encoding", "raw");
  if (encoding_ == "compressed_segmentation") {
    if (dtype_ != DType::u32 && dtype_ != DType::u64) throw InputError(info_file, "has compressed_segmentation of " + data_type + "; it holds uint32 or uint64");
    block_ = triple(scale, "compressed_segmentation_block_size", info_file, true);
  } else if (encoding_ != "raw") {
    throw InputError(info_file, "has chunks encoded as \"" + encoding_ + "\"; uniem reads raw and compressed_segmentation (convert it with CloudVolume or TensorStore)");
  }
  if (scale.contains("sharding") && scale["sharding"].is_object()) {
    const json& s = scale["sharding"];
    if (s.value("@type", "") != "neuroglancer_uint64_sharded_v1") throw InputError(info_file, "has sharding of type " + s.value("@type", "?") + ", not neuroglancer_uint64_sharded_v1");
    sharded_ = true;
    preshift_ = s.value("preshift_bits", 0), minishard_bits_ = s.value("minishard_bits", 0), shard_bits_ = s.value("shard_bits", 0);
    const std::string hash = s.value("hash", "identity");
    if (hash != "identity" && hash != "murmurhash3_x86_128") throw InputError(info_file, "has the sharding hash \"" + hash + "\", unknown");
    murmur_ = hash == "murmurhash3_x86_128";
    index_gzip_ = s.value("minishard_index_encoding", "raw") == "gzip", data_gzip_ = s.value("data_encoding", "raw") == "gzip";
    if (preshift_ < 0 || preshift_ > 63 || minishard_bits_ < 0 || minishard_bits_ > 32 || shard_bits_ < 0 || shard_bits_ > 32)
      throw InputError(info_file, "has sharding bit counts out of range");
  }
  for (int d = 0; d < 3; ++d) grid_[d] = (size_[d] + chunk_[d] - 1) / chunk_[d];
  shape_ = {size_[2], size_[1], size_[0]};
  if (scale.contains("resolution")) {
    const auto& r = scale["resolution"];
    if (r.is_array() && r.size() == 3 && r[0].is_number() && r[1].is_number() && r[2].is_number() && r[0].get<double>() > 0)
      voxel_size_ = {r[2].get<double>(), r[1].get<double>(), r[0].get<double>(), true};
  }
  describe_ = "Neuroglancer precomputed " + type_ + " (scale " + key_ + " of " + std::to_string(info["scales"].size()) + "), chunks " +
              numbers(chunk_, " x ") + " (x, y, z), " + encoding_ + (sharded_ ? ", sharded" : "");
}

std::string PrecomputedVolume::describe() const { return describe_; }

std::string PrecomputedVolume::sharded_bytes(const std::array<int64_t, 3>& g, fs::path& file) const {
  const uint64_t id = compressed_morton_code(g, grid_);
  const uint64_t hashed = murmur_ ? murmurhash3_x86_128_low(id >> preshift_) : id >> preshift_;
  const uint64_t minishard = hashed & ((uint64_t{1} << minishard_bits_) - 1);
  const uint64_t shard = (hashed >> minishard_bits_) & ((uint64_t{1} << shard_bits_) - 1);
  std::string name;  // lowercase hex, zero-padded to ceil(shard_bits / 4) digits
  for (int digit = (shard_bits_ + 3) / 4 - 1; digit >= 0; --digit) name += "0123456789abcdef"[(shard >> (4 * digit)) & 15];
  file = scale_ / (name + ".shard");
  std::error_code ec;
  if (!fs::exists(file, ec)) return "";
  const uint64_t index_end = (uint64_t{1} << minishard_bits_) * 16;
  const std::string entry = read_all(file, minishard * 16, 16);
  const uint64_t start = get64(entry, 0), end = get64(entry, 8);
  if (end < start) throw InputError(file, "has a shard index entry that ends before it starts (minishard " + std::to_string(minishard) + ")");
  if (end == start) return "";
  std::string index = read_all(file, index_end + start, static_cast<int64_t>(end - start));
  if (index_gzip_) index = gunzip(index, file);
  if (index.size() % 24) throw InputError(file, "has a minishard index of " + std::to_string(index.size()) + " bytes, not a multiple of 24");
  const size_t n = index.size() / 24;
  uint64_t chunk = 0, offset = index_end;
  for (size_t i = 0; i < n; ++i) {
    chunk += get64(index, 8 * i);
    offset += get64(index, 8 * (n + i));
    const uint64_t size = get64(index, 8 * (2 * n + i));
    if (chunk == id) {
      std::string data = read_all(file, offset, static_cast<int64_t>(size));
      return data_gzip_ ? gunzip(data, file) : data;
    }
    offset += size;
  }
  return "";
}

std::string PrecomputedVolume::chunk_bytes(const std::array<int64_t, 3>& g, fs::path& file) const {
  if (sharded_) return sharded_bytes(g, file);
  std::array<int64_t, 3> begin{}, end{};
  for (int d = 0; d < 3; ++d) begin[d] = offset_[d] + g[d] * chunk_[d], end[d] = offset_[d] + std::min(size_[d], (g[d] + 1) * chunk_[d]);
  file = scale_ / (std::to_string(begin[0]) + "-" + std::to_string(end[0]) + "_" + std::to_string(begin[1]) + "-" + std::to_string(end[1]) + "_" +
                   std::to_string(begin[2]) + "-" + std::to_string(end[2]));
  std::error_code ec;
  if (fs::exists(file, ec)) {
    std::string b = read_all(file);
    return is_gzip(b) && encoding_ == "raw" && b.size() != static_cast<size_t>((end[0] - begin[0]) * (end[1] - begin[1]) * (end[2] - begin[2])) * item_
               ? gunzip(b, file) : b;
  }
  const fs::path gz = file.string() + ".gz";
  if (fs::exists(gz, ec)) {
    file = gz;
    return gunzip(read_all(gz), gz);
  }
  return "";
}

Volume PrecomputedVolume::read(int64_t z0, int64_t z1) const {
  z1 = std::min(z1, nz());
  if (z1 <= z0) return Volume();
  check_sections_budget(folder_, z1 - z0, "read a coarser scale");
  Volume v(dtype_, z1 - z0, ny(), nx());  // zeros where chunks are missing
  v.voxel_size = voxel_size_;
  std::vector<std::array<int64_t, 3>> cells;
  for (int64_t gz = z0 / chunk_[2]; gz * chunk_[2] < z1; ++gz)
    for (int64_t gy = 0; gy < grid_[1]; ++gy)
      for (int64_t gx = 0; gx < grid_[0]; ++gx) cells.push_back({gx, gy, gz});
  Progress progress("reading " + folder_.filename().string(), static_cast<int64_t>(cells.size()));
  parallel_for(0, static_cast<int64_t>(cells.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const auto& g = cells[static_cast<size_t>(k)];
      fs::path file;
      std::string bytes = chunk_bytes(g, file);
      progress.advance();
      if (bytes.empty()) continue;
      std::array<int64_t, 3> begin{}, size{};
      for (int d = 0; d < 3; ++d) begin[d] = g[d] * chunk_[d], size[d] = std::min(size_[d], begin[d] + chunk_[d]) - begin[d];
      const size_t voxels = static_cast<size_t>(size[0] * size[1] * size[2]);
      std::string decoded;
      const std::string* raw = &bytes;
      if (encoding_ == "compressed_segmentation") {
        if (bytes.size() < 4) throw InputError(file, "is too short for a compressed segmentation chunk");
        decoded.resize(voxels * item_);
        decode_segmentation(bytes, get32(bytes, 0), size, block_, dtype_ == DType::u64 ? 2 : 1, reinterpret_cast<std::byte*>(decoded.data()), file);
        raw = &decoded;
      } else if (bytes.size() != voxels * item_) {
        throw InputError(file, "holds " + std::to_string(bytes.size()) + " bytes; a raw chunk of " + numbers(size, " x ") + " " + dtype_name(dtype_) +
                                   " voxels has " + std::to_string(voxels * item_));
      }
      for (int64_t z = std::max(begin[2], z0); z < std::min(begin[2] + size[2], z1); ++z)
        for (int64_t y = 0; y < size[1]; ++y)
          std::memcpy(v.raw() + static_cast<size_t>(((z - z0) * ny() + begin[1] + y) * nx() + begin[0]) * item_,
                      raw->data() + static_cast<size_t>(((z - begin[2]) * size[1] + y) * size[0]) * item_, static_cast<size_t>(size[0]) * item_);
    }
  });
  return v;
}

PrecomputedWriter::PrecomputedWriter(const fs::path& folder, const Volume& like, int64_t nz, bool labels)
    : folder_(folder), labels_(labels) {
  if (like.channels() != 1) throw InputError(folder, "precomputed volumes are written for one channel; write a colour volume as TIFF");
  if (labels && like.dtype() == DType::f32) throw InputError(folder, "a label volume holds integer ids, this one floats");
  // Label volumes as uint32 (uint64 when an id needs it): what compressed_segmentation holds.
  stored_ = !labels ? like.dtype() : like.dtype() == DType::u64 ? DType::u64 : DType::u32;
  plan_ = pyramid_plan({nz, like.ny(), like.nx()}, like.voxel_size);
  std::vector<int64_t> depths;
  int64_t files = 0;
  for (const auto& level : plan_) {
    const std::array<int64_t, 3> size{level.shape[2], level.shape[1], level.shape[0]};  // x, y, z
    const std::array<double, 3> resolution{level.scale[2], level.scale[1], level.scale[0]};  // nm (1 nm when unknown)
    auto text = [](double d) { return d == static_cast<double>(static_cast<int64_t>(d)) ? std::to_string(static_cast<int64_t>(d)) : json(d).dump(); };
    keys_.push_back(text(resolution[0]) + "_" + text(resolution[1]) + "_" + text(resolution[2]));
    fs::create_directories(folder / keys_.back());
    depths.push_back(std::min<int64_t>(64, size[2]));  // whole rows of chunks
    files += ((size[0] + 63) / 64) * ((size[1] + 63) / 64) * ((size[2] + 63) / 64);
  }
  progress_ = std::make_unique<Progress>("writing " + folder.filename().string(), files);
  stream_ = std::make_unique<PyramidStream>(plan_, depths, labels,
                                            [this](size_t level, const Volume& held, int64_t count, int64_t z0) { write_chunks(level, held, count, z0); });
}

PrecomputedWriter::~PrecomputedWriter() = default;

// The chunks of a level's sections [z0, z0 + count), the first `count` sections of `held`.
void PrecomputedWriter::write_chunks(size_t level, const Volume& held, int64_t count, int64_t z0) {
  const auto& shape = plan_[level].shape;
  const std::array<int64_t, 3> size{shape[2], shape[1], shape[0]}, chunk{64, 64, 64}, block{8, 8, 8};
  std::array<int64_t, 3> grid{};
  for (int d = 0; d < 3; ++d) grid[d] = (size[d] + chunk[d] - 1) / chunk[d];
  const int64_t gz0 = z0 / chunk[2], gz1 = (z0 + count + chunk[2] - 1) / chunk[2];
  const size_t item = dtype_size(stored_);
  parallel_for(0, grid[0] * grid[1] * (gz1 - gz0), 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const std::array<int64_t, 3> g{k % grid[0], k / grid[0] % grid[1], gz0 + k / (grid[0] * grid[1])};
      std::array<int64_t, 3> begin{}, end{}, n{};
      for (int d = 0; d < 3; ++d) begin[d] = g[d] * chunk[d], end[d] = std::min(size[d], begin[d] + chunk[d]), n[d] = end[d] - begin[d];
      std::string raw(static_cast<size_t>(n[0] * n[1] * n[2]) * item, '\0');
      for (int64_t z = 0; z < n[2]; ++z)
        for (int64_t y = 0; y < n[1]; ++y) {
          const int64_t at = ((begin[2] + z - z0) * held.ny() + begin[1] + y) * held.nx() + begin[0];
          char* out = raw.data() + static_cast<size_t>((z * n[1] + y) * n[0]) * item;
          if (stored_ == held.dtype()) {
            std::memcpy(out, held.raw() + static_cast<size_t>(at) * item, static_cast<size_t>(n[0]) * item);
          } else {  // 8- or 16-bit ids as uint32
            for (int64_t x = 0; x < n[0]; ++x) {
              const auto id = static_cast<uint32_t>(held.value(at + x));
              std::memcpy(out + static_cast<size_t>(x) * 4, &id, 4);
            }
          }
        }
      if (labels_)
        raw = stored_ == DType::u64 ? encode_segmentation(reinterpret_cast<const uint64_t*>(raw.data()), n, block)
                                    : encode_segmentation(reinterpret_cast<const uint32_t*>(raw.data()), n, block);
      write_file(folder_ / keys_[level] / (std::to_string(begin[0]) + "-" + std::to_string(end[0]) + "_" + std::to_string(begin[1]) + "-" +
                                           std::to_string(end[1]) + "_" + std::to_string(begin[2]) + "-" + std::to_string(end[2])),
                 raw);
      progress_->advance();
    }
  });
}

void PrecomputedWriter::append(const Volume& sections) { stream_->append(sections); }

void PrecomputedWriter::finish() {
  stream_->finish();
  json scales = json::array();
  for (size_t i = 0; i < plan_.size(); ++i) {
    const auto& level = plan_[i];
    const std::array<int64_t, 3> size{level.shape[2], level.shape[1], level.shape[0]};
    json scale = {{"key", keys_[i]}, {"size", size}, {"resolution", {level.scale[2], level.scale[1], level.scale[0]}}, {"voxel_offset", {0, 0, 0}},
                  {"chunk_sizes", {{std::min<int64_t>(64, size[0]), std::min<int64_t>(64, size[1]), std::min<int64_t>(64, size[2])}}},
                  {"encoding", labels_ ? "compressed_segmentation" : "raw"}};
    if (labels_) scale["compressed_segmentation_block_size"] = {8, 8, 8};
    scales.push_back(scale);
  }
  const json info = {{"@type", "neuroglancer_multiscale_volume"}, {"type", labels_ ? "segmentation" : "image"}, {"data_type", dtype_name(stored_)},
                     {"num_channels", 1}, {"scales", scales}};
  write_file(folder_ / "info", info.dump(2) + "\n");
}

void write_precomputed_volume(const fs::path& folder, const Volume& v, bool labels) {
  PrecomputedWriter writer(folder, v, v.nz(), labels);
  writer.append(v);
  writer.finish();
}

bool attach_precomputed_meshes(const fs::path& mesh_folder) {
  const fs::path volume = fs::absolute(mesh_folder).lexically_normal().parent_path();
  if (!is_precomputed(volume)) return false;
  std::ifstream in(volume / "info");
  json info = json::parse(in, nullptr, false);
  if (!info.is_object() || info.value("type", "") != "segmentation") return false;
  info["mesh"] = fs::absolute(mesh_folder).lexically_normal().filename().string();
  write_file_atomically(volume / "info", info.dump(2) + "\n", true);
  return true;
}

}  // namespace uniem
