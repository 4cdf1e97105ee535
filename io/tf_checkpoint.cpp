#include "io/tf_checkpoint.h"

#include <array>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace fs = std::filesystem;

namespace uniem {

uint32_t crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot be read");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A cursor over bytes that throws InputError naming the file when it runs out.
struct Reader {
  const std::string& bytes;
  size_t pos, end;
  const std::string& where;
  [[noreturn]] void fail(const std::string& what) const { throw InputError(where + ": " + what); }
  bool done() const { return pos >= end; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) fail("truncated (a number runs past the end of its record)");
      const auto b = static_cast<uint8_t>(bytes[pos++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("corrupt (a number longer than 10 bytes)");
  }
  uint32_t fixed32() {
    if (end - pos < 4) fail("truncated");
    uint32_t v;
    std::memcpy(&v, bytes.data() + pos, 4);
    pos += 4;
    return v;
  }
  std::string take(uint64_t n) {
    if (n > end - pos) fail("truncated (a record runs past the end of its block)");
    std::string s = bytes.substr(pos, static_cast<size_t>(n));
    pos += static_cast<size_t>(n);
    return s;
  }
};

struct BlockHandle {
  uint64_t offset = 0, size = 0;
};

BlockHandle read_handle(Reader& r) { return {r.varint(), r.varint()}; }

// The key/value entries of one table block (after checking its trailer).
std::vector<std::pair<std::string, std::string>> read_block(const std::string& file, BlockHandle h, const std::string& where) {
  if (h.offset + h.size + 5 > file.size() || h.size < 4) throw InputError(where + ": truncated (a block lies past the end of the file)");
  const auto type = static_cast<uint8_t>(file[h.offset + h.size]);
  if (type != 0)
    throw InputError(where + ": its blocks are compressed (type " + std::to_string(type) +
                     "); TensorFlow writes checkpoints uncompressed, so this is not a checkpoint index");
  uint32_t stored;
  std::memcpy(&stored, file.data() + h.offset + h.size + 1, 4);
  if (crc32c_mask(crc32c(file.data() + h.offset, h.size + 1)) != stored)
    throw InputError(where + ": corrupt (a block's checksum does not match)");
  uint32_t restarts;
  std::memcpy(&restarts, file.data() + h.offset + h.size - 4, 4);
  if (uint64_t(restarts) * 4 + 4 > h.size) throw InputError(where + ": corrupt (bad restart count in a block)");
  Reader r{file, static_cast<size_t>(h.offset), static_cast<size_t>(h.offset + h.size - 4 - 4 * uint64_t(restarts)), where};
  std::vector<std::pair<std::string, std::string>> entries;
  std::string key;
  while (!r.done()) {
    const uint64_t shared = r.varint(), unshared = r.varint(), value_size = r.varint();
    if (shared > key.size()) r.fail("corrupt (a key shares more bytes than the previous key has)");
    key = key.substr(0, static_cast<size_t>(shared)) + r.take(unshared);
    entries.emplace_back(key, r.take(value_size));
  }
  return entries;
}

struct Entry {
  int dtype = 0;
  std::vector<int64_t> shape;
  int64_t shard = 0, offset = 0, size = 0;
  uint32_t crc = 0;
  bool sliced = false;
};

// Skips a protobuf field of the given wire type.
void skip_field(Reader& r, uint64_t wire) {
  if (wire == 0) r.varint();
  else if (wire == 1) r.take(8);
  else if (wire == 2) r.take(r.varint());
  else if (wire == 5) r.take(4);
  else r.fail("corrupt (protobuf wire type " + std::to_string(wire) + ")");
}

Entry parse_entry(const std::string& bytes, const std::string& where) {
  Entry e;
  Reader r{bytes, 0, bytes.size(), where};
  while (!r.done()) {
    const uint64_t tag = r.varint(), field = tag >> 3, wire = tag & 7;
    if (field == 1 && wire == 0) e.dtype = static_cast<int>(r.varint());
    else if (field == 2 && wire == 2) {  // TensorShapeProto
      const std::string shape = r.take(r.varint());
      Reader s{shape, 0, shape.size(), where};
      while (!s.done()) {
        const uint64_t t = s.varint();
        if ((t >> 3) == 2 && (t & 7) == 2) {  // Dim
          const std::string dim = s.take(s.varint());
          Reader d{dim, 0, dim.size(), where};
          int64_t size = 0;
          while (!d.done()) {
            const uint64_t dt = d.varint();
            if ((dt >> 3) == 1 && (dt & 7) == 0) size = static_cast<int64_t>(d.varint());
            else skip_field(d, dt & 7);
          }
          e.shape.push_back(size);
        } else {
          skip_field(s, t & 7);
        }
      }
    } else if (field == 3 && wire == 0) e.shard = static_cast<int64_t>(r.varint());
    else if (field == 4 && wire == 0) e.offset = static_cast<int64_t>(r.varint());
    else if (field == 5 && wire == 0) e.size = static_cast<int64_t>(r.varint());
    else if (field == 6 && wire == 5) e.crc = r.fixed32();
    else if (field == 7) {
      e.sliced = true;
      skip_field(r, wire);
    } else skip_field(r, wire);
  }
  return e;
}

fs::path index_file(const fs::path& path) {
  if (fs::is_directory(path)) {
    fs::path found;
    int count = 0;
    for (const auto& f : fs::directory_iterator(path))
      if (f.path().extension() == ".index") found = f.path(), ++count;
    if (count != 1)
      throw InputError(path.string() + ": expected one TensorFlow checkpoint (a .index file) in this folder, found " +
                       std::to_string(count) + "; name the checkpoint prefix instead");
    return found;
  }
  if (path.extension() == ".index") return path;
  fs::path index = path;
  index += ".index";
  if (!fs::exists(index)) {
    if (fs::exists(path) && path.string().find(".data-") != std::string::npos)
      throw InputError(path.string() + ": this is a checkpoint's data shard; name its prefix (without .data-...) or its .index file");
    throw InputError(path.string() + ": no TensorFlow checkpoint here (" + index.string() + " does not exist)");
  }
  return index;
}

}  // namespace

std::map<std::string, TfTensor> read_tf_checkpoint(const fs::path& path) {
  const fs::path index = index_file(path);
  const std::string where = index.string();
  const std::string file = read_file(index);
  constexpr size_t footer_size = 48;
  constexpr uint64_t magic = 0xdb4775248b80fb57ull;
  if (file.size() < footer_size) throw InputError(where + ": truncated (" + std::to_string(file.size()) + " bytes, shorter than a table footer)");
  uint64_t m;
  std::memcpy(&m, file.data() + file.size() - 8, 8);
  if (m != magic) throw InputError(where + ": not a TensorFlow checkpoint index (no table magic at its end; truncated or another format)");
  Reader footer{file, file.size() - footer_size, file.size() - 8, where};
  read_handle(footer);  // the meta-index block: unused by bundles
  const BlockHandle index_handle = read_handle(footer);

  std::map<std::string, Entry> entries;
  int64_t shards = 1;
  bool header_seen = false;
  for (const auto& [last_key, handle_bytes] : read_block(file, index_handle, where)) {
    Reader h{handle_bytes, 0, handle_bytes.size(), where};
    for (const auto& [key, value] : read_block(file, read_handle(h), where)) {
      if (key.empty()) {  // BundleHeaderProto
        header_seen = true;
        Reader r{value, 0, value.size(), where};
        while (!r.done()) {
          const uint64_t tag = r.varint();
          if (tag == (1 << 3)) shards = static_cast<int64_t>(r.varint());
          else if (tag == (2 << 3) && r.varint() != 0)
            throw InputError(where + ": written big-endian; only little-endian checkpoints are read");
          else if (tag != (2 << 3)) skip_field(r, tag & 7);
        }
      } else {
        entries[key] = parse_entry(value, where + " (entry " + key + ")");
      }
    }
  }
  if (!header_seen) throw InputError(where + ": not a TensorFlow tensor bundle (no bundle header entry)");

  std::string stem = index.string();
  stem.resize(stem.size() - 6);  // without ".index"
  const auto shard_path = [&](int64_t shard) {
    char suffix[64];
    std::snprintf(suffix, sizeof suffix, ".data-%05lld-of-%05lld", static_cast<long long>(shard), static_cast<long long>(shards));
    return stem + suffix;
  };
  std::map<int64_t, std::string> data;
  std::map<std::string, TfTensor> tensors;
  for (const auto& [name, e] : entries) {
    if (e.sliced) throw InputError(where + ": tensor " + name + " is stored in slices (a partitioned variable), which is not supported");
    if (e.shard < 0 || e.shard >= shards) throw InputError(where + ": tensor " + name + " names shard " + std::to_string(e.shard) + " of " + std::to_string(shards));
    const std::string shard_name = shard_path(e.shard);
    if (!data.count(e.shard)) {
      const fs::path shard = shard_name;
      if (!fs::exists(shard)) throw InputError(shard.string() + ": missing (the checkpoint's data shard " + std::to_string(e.shard) + ")");
      data[e.shard] = read_file(shard);
    }
    const std::string& bytes = data[e.shard];
    if (e.offset < 0 || e.size < 0 || static_cast<uint64_t>(e.offset + e.size) > bytes.size())
      throw InputError(shard_name + ": truncated (tensor " + name + " needs bytes up to " + std::to_string(e.offset + e.size) +
                       ", the file has " + std::to_string(bytes.size()) + ")");
    const char* p = bytes.data() + e.offset;
    const uint32_t crc = crc32c(p, static_cast<size_t>(e.size));
    if (crc32c_mask(crc) != e.crc) throw InputError(shard_name + ": corrupt (tensor " + name + " fails its CRC-32C)");
    TfTensor t;
    t.shape = e.shape;
    int64_t n = 1;
    for (int64_t d : e.shape) n *= d;
    size_t element = 0;
    switch (e.dtype) {
      case 1: t.dtype = "float32", element = 4; break;
      case 2: t.dtype = "float64", element = 8; break;
      case 3: t.dtype = "int32", element = 4; break;
      case 9: t.dtype = "int64", element = 8; break;
      default: continue;  // strings, booleans, resources: not weights; skipped
    }
    if (static_cast<int64_t>(element) * n != e.size)
      throw InputError(where + ": tensor " + name + " has " + std::to_string(e.size) + " bytes for " + std::to_string(n) + " " + t.dtype + " values");
    t.values.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const char* q = p + i * static_cast<int64_t>(element);
      if (e.dtype == 1) { float v; std::memcpy(&v, q, 4); t.values[i] = v; }
      else if (e.dtype == 2) { double v; std::memcpy(&v, q, 8); t.values[i] = v; }
      else if (e.dtype == 3) { int32_t v; std::memcpy(&v, q, 4); t.values[i] = v; }
      else { int64_t v; std::memcpy(&v, q, 8); t.values[i] = static_cast<double>(v); }
    }
    tensors[name] = std::move(t);
  }
  return tensors;
}

}  // namespace uniem
