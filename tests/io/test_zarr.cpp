// OME-Zarr and Zarr v2 (io/zarr.h): what uniem writes it reads back voxel for voxel with its
// pyramid; arrays written by hand as the specification lays them out (byte order, fill value,
// rank 2 and 4, gzip; version 3 with crc32c and shards, their index at either end); every
// malformed case refused naming the file. The round trip through
// zarr-python is tests/io/zarr_oracle.py.
#include <doctest/doctest.h>
#include <zlib.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "io/crc32c.h"
#include "io/stack.h"
#include "io/zarr.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using namespace uniem;
using nlohmann::json;

namespace {

Volume ramp(DType t, int64_t nz, int64_t ny, int64_t nx) {
  Volume v(t, nz, ny, nx);
  for (int64_t z = 0; z < nz; ++z)
    for (int64_t y = 0; y < ny; ++y)
      for (int64_t x = 0; x < nx; ++x) {
        const int64_t i = (z * 7 + y * 3 + x) % 251;
        if (t == DType::u8) v.at<uint8_t>(z, y, x) = static_cast<uint8_t>(i);
        else if (t == DType::u16) v.at<uint16_t>(z, y, x) = static_cast<uint16_t>(i * 200);
        else if (t == DType::u32) v.at<uint32_t>(z, y, x) = static_cast<uint32_t>(i * 100000);
        else v.at<float>(z, y, x) = static_cast<float>(i) / 7.0f;
      }
  v.voxel_size = {30, 6, 6, true};
  return v;
}

void write_json(const fs::path& file, const json& j) { test::write_text(file, j.dump()); }

json zarray(json shape, json chunks, const std::string& dtype, json compressor = nullptr, json fill = 0) {
  return {{"zarr_format", 2}, {"shape", shape}, {"chunks", chunks}, {"dtype", dtype}, {"compressor", compressor},
          {"fill_value", fill}, {"order", "C"}, {"filters", nullptr}};
}

std::string message_of(const fs::path& p) {
  try {
    read_volume(p);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("zarr: an OME-Zarr image round-trips with its pyramid, for every type") {
  test::TempDir dir;
  for (const DType t : {DType::u8, DType::u16, DType::u32, DType::f32}) {
    const Volume v = ramp(t, 5, 300, 520);
    const fs::path out = dir / (std::string(dtype_name(t)) + ".zarr");
    WriteOptions w;
    w.format = format_for_output(out);
    CHECK(w.format == StackFormat::ome_zarr);
    write_volume(out, v, w);
    StackInfo info;
    const Volume back = read_volume(out, {}, &info);
    CHECK(test::same_voxels(back, v));
    CHECK(back.voxel_size.known);
    CHECK(back.voxel_size.z == 30);
    CHECK(back.voxel_size.x == 6);
    CHECK(info.kind.find("OME-Zarr image (level 0 of 3)") == 0);
    // Level 1: y and x halved (z is coarser than x), each voxel the mean of its 2 x 2 block.
    const ZarrArray level(out / "1");
    CHECK(level.nz() == 5);
    CHECK(level.ny() == 150);
    CHECK(level.nx() == 260);
    const Volume coarse = level.read(0, 5);
    if (t == DType::u8) {
      const double mean = (v.at<uint8_t>(2, 10, 20) + v.at<uint8_t>(2, 10, 21) + v.at<uint8_t>(2, 11, 20) + v.at<uint8_t>(2, 11, 21)) / 4.0;
      CHECK(coarse.at<uint8_t>(2, 5, 10) == static_cast<uint8_t>(std::llround(mean)));
    }
  }
  const json attrs = json::parse(std::ifstream(dir / "uint8.zarr" / ".zattrs"));
  CHECK(attrs["multiscales"][0]["version"] == "0.4");
  CHECK(attrs["multiscales"][0]["datasets"][1]["coordinateTransformations"][0]["scale"] == json({30.0, 12.0, 12.0}));
  CHECK(attrs["multiscales"][0]["axes"][2]["unit"] == "nanometer");
}

TEST_CASE("zarr: an OME-Zarr 0.5 image (Zarr 3, sharded) round-trips, edges and all") {
  test::TempDir dir;
  for (const DType t : {DType::u8, DType::u16, DType::f32}) {
    const Volume v = ramp(t, 70, 300, 700);  // shards of 64 x 384 x 512 over inner chunks of 32 x 128 x 128: edges everywhere
    WriteOptions w;
    w.format = *parse_stack_format("zarr3");
    const fs::path out = dir / (std::string(dtype_name(t)) + ".zarr");
    write_volume(out, v, w);
    StackInfo info;
    CHECK(test::same_voxels(read_volume(out, {}, &info), v));
    CHECK(info.kind.find("OME-Zarr image (level 0 of 3), Zarr 3, shards 64 x 384 x 512, inner chunks 32 x 128 x 128, zstd") == 0);
    const json group = json::parse(std::ifstream(out / "zarr.json"));
    CHECK(group["attributes"]["ome"]["version"] == "0.5");
    const Volume coarse = ZarrArray(out / "2").read(0, 70);
    CHECK(coarse.ny() == 75);
    CHECK(coarse.nx() == 175);
  }
}

TEST_CASE("zarr: a label volume's coarser levels keep ids; isotropic volumes are halved in z too") {
  test::TempDir dir;
  Volume labels(DType::u32, 4, 520, 520);
  for (int64_t z = 0; z < 4; ++z)
    for (int64_t y = 0; y < 520; ++y)
      for (int64_t x = 0; x < 520; ++x) labels.at<uint32_t>(z, y, x) = x < 261 ? 1000 : 7;
  labels.voxel_size = {8, 8, 8, true};
  WriteOptions w;
  w.format = StackFormat::ome_zarr;
  w.labels = true;
  write_volume(dir / "labels.zarr", labels, w);
  const Volume coarse = ZarrArray(dir / "labels.zarr" / "1").read(0, 2);
  CHECK(coarse.nz() == 2);  // 8 nm in z as in x: halved too
  CHECK(coarse.at<uint32_t>(1, 0, 129) == 1000);
  CHECK(coarse.at<uint32_t>(1, 0, 130) == 7);  // the block x 260..261 holds 1000 and 7 four times each: the smaller wins a tie
  CHECK(coarse.at<uint32_t>(1, 0, 131) == 7);
  for (int64_t x = 0; x < coarse.nx(); ++x) {
    const uint32_t id = coarse.at<uint32_t>(0, 7, x);
    CHECK((id == 1000 || id == 7));  // never a mean of two ids
  }
}

TEST_CASE("zarr: arrays as the specification lays them out: byte order, fill value, rank 2 and 4, gzip, nested keys") {
  test::TempDir dir;
  // Big-endian uint16, uncompressed, 2 x 3 x 4 in chunks of 1 x 2 x 4 ("." keys); chunk 0.1.0 missing.
  const fs::path a = dir / "big-endian.zarr";
  fs::create_directories(a);
  write_json(a / ".zarray", zarray({2, 3, 4}, {1, 2, 4}, ">u2", nullptr, 9));
  for (int z = 0; z < 2; ++z)
    for (int cy = 0; cy < 2; ++cy) {
      if (z == 0 && cy == 1) continue;
      std::string bytes;
      for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 4; ++x) {
          const int value = 1000 * z + 100 * (cy * 2 + y) + x;
          bytes += static_cast<char>(value >> 8);
          bytes += static_cast<char>(value & 0xff);
        }
      test::write_text(a / (std::to_string(z) + "." + std::to_string(cy) + ".0"), bytes);
    }
  const Volume v = read_volume(a);
  CHECK(v.dtype() == DType::u16);
  CHECK(v.at<uint16_t>(1, 2, 3) == 1203);
  CHECK(v.at<uint16_t>(0, 1, 2) == 102);
  CHECK(v.at<uint16_t>(0, 2, 1) == 9);  // the missing chunk: the fill value
  CHECK_FALSE(read_volume(a).voxel_size.known);

  // One image (y, x), float64 read as float32, gzip.
  const fs::path b = dir / "plane";
  fs::create_directories(b);
  write_json(b / ".zarray", zarray({2, 3}, {2, 3}, "<f8", {{"id", "gzip"}, {"level", 5}}));
  std::vector<double> values = {0.5, 1.5, 2.5, -1, 4, 1e6};
  uLongf size = compressBound(48);
  std::string gz(size + 32, '\0');
  z_stream s{};
  deflateInit2(&s, 5, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  s.next_in = reinterpret_cast<Bytef*>(values.data());
  s.avail_in = 48;
  s.next_out = reinterpret_cast<Bytef*>(gz.data());
  s.avail_out = static_cast<uInt>(gz.size());
  deflate(&s, Z_FINISH);
  gz.resize(s.total_out);
  deflateEnd(&s);
  test::write_text(b / "0.0", gz);
  const Volume p = read_volume(b);
  CHECK(p.nz() == 1);
  CHECK(p.dtype() == DType::f32);
  CHECK(p.at<float>(0, 1, 2) == 1e6f);
  CHECK(p.at<float>(0, 1, 0) == -1.0f);

  // (t, c, z, y, x) with t = c = 1, "/" keys, inside an OME group with its scale in micrometers.
  const fs::path c = dir / "ome.zarr";
  fs::create_directories(c / "s0" / "0" / "0" / "0" / "0");
  write_json(c / ".zgroup", {{"zarr_format", 2}});
  write_json(c / ".zattrs",
             {{"multiscales",
               {{{"version", "0.4"},
                 {"axes", {{{"name", "t"}, {"type", "time"}}, {{"name", "c"}, {"type", "channel"}},
                           {{"name", "z"}, {"unit", "micrometer"}}, {{"name", "y"}, {"unit", "micrometer"}}, {{"name", "x"}, {"unit", "micrometer"}}}},
                 {"datasets", {{{"path", "s0"}, {"coordinateTransformations", {{{"type", "scale"}, {"scale", {1, 1, 0.04, 0.004, 0.004}}}}}}}}}}}});
  json meta = zarray({1, 1, 2, 2, 2}, {1, 1, 2, 2, 2}, "|u1");
  meta["dimension_separator"] = "/";
  write_json(c / "s0" / ".zarray", meta);
  test::write_text(c / "s0" / "0" / "0" / "0" / "0" / "0", std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  const Volume o = read_volume(c);
  CHECK(o.nz() == 2);
  CHECK(o.at<uint8_t>(1, 1, 0) == 7);
  CHECK(o.voxel_size.known);
  CHECK(o.voxel_size.z == doctest::Approx(40));
  CHECK(o.voxel_size.x == doctest::Approx(4));
  // Read a few sections at a time, as uniem eval does.
  StackReader reader(a);
  CHECK(reader.nz() == 2);
  reader.seek(1);
  CHECK(reader.next(5).at<uint16_t>(0, 2, 3) == 1203);
}

TEST_CASE("zarr: bad arrays are refused, naming the file and what is wrong") {
  test::TempDir dir;
  auto array = [&](const std::string& name, const json& meta) {
    fs::create_directories(dir / name);
    write_json(dir / name / ".zarray", meta);
    return dir / name;
  };
  CHECK(message_of(array("bz2.zarr", zarray({2, 2, 2}, {2, 2, 2}, "|u1", {{"id", "bz2"}}))).find("compressed with \"bz2\"") != std::string::npos);
  CHECK(message_of(array("signed.zarr", zarray({2, 2, 2}, {2, 2, 2}, "<i2"))).find("signed integers") != std::string::npos);
  CHECK(message_of(array("channels.zarr", zarray({3, 2, 2, 2}, {1, 2, 2, 2}, "|u1"))).find("channels or time points") != std::string::npos);
  CHECK(message_of(array("fortran.zarr", [] { json j = zarray({2, 2, 2}, {2, 2, 2}, "|u1"); j["order"] = "F"; return j; }())).find("Fortran") != std::string::npos);
  const fs::path truncated = array("truncated.zarr", zarray({2, 2, 2}, {2, 2, 2}, "|u1", {{"id", "zlib"}}));
  test::write_text(truncated / "0.0.0", std::string("\x78\x9c\x63", 3));
  const std::string m = message_of(truncated);
  CHECK(m.find("0.0.0") != std::string::npos);
  CHECK(m.find("truncated or damaged") != std::string::npos);
  const fs::path raw = array("short.zarr", zarray({2, 2, 2}, {2, 2, 2}, "|u1"));
  test::write_text(raw / "0.0.0", "abc");
  CHECK(message_of(raw).find("holds 3 bytes, not the 8") != std::string::npos);
  fs::create_directories(dir / "v3.zarr");
  write_json(dir / "v3.zarr" / "zarr.json", {{"zarr_format", 3}, {"node_type", "array"}});
  CHECK(message_of(dir / "v3.zarr").find("has no \"shape\"") != std::string::npos);
  fs::create_directories(dir / "group.zarr");
  write_json(dir / "group.zarr" / ".zgroup", {{"zarr_format", 2}});
  CHECK(message_of(dir / "group.zarr").find("not an OME-Zarr image") != std::string::npos);
  fs::create_directories(dir / "junk.zarr");
  test::write_text(dir / "junk.zarr" / ".zarray", "{not json");
  CHECK(message_of(dir / "junk.zarr").find("not a JSON object") != std::string::npos);
  // A folder named .zarr is never read as a folder of images, even when it holds some.
  fs::create_directories(dir / "pictures.zarr");
  write_volume(dir / "pictures.zarr" / "sub", ramp(DType::u8, 1, 8, 8), {});
  CHECK(message_of(dir / "pictures.zarr").find("not a Zarr array") != std::string::npos);
}

namespace {

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string with_crc(std::string bytes) {
  const uint32_t c = crc32c(bytes.data(), bytes.size());
  for (int i = 0; i < 4; ++i) bytes += static_cast<char>((c >> (8 * i)) & 0xff);
  return bytes;
}

std::string gzipped(const std::string& raw) {
  std::string out(compressBound(static_cast<uLong>(raw.size())) + 64, '\0');
  z_stream s{};
  deflateInit2(&s, 5, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  s.avail_in = static_cast<uInt>(raw.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// A version 3 uint8 array of 4 x 4 x 6 voxels, value z * 36 + y * 6 + x, in shards of 2 x 4 x 6
// holding inner chunks of 1 x 2 x 3, their index (crc32c) at `location`. Shard 0 stores its inner
// chunks in reverse order and leaves inner chunk 5 unwritten; shard 1 is never written: both read
// as the fill value, 7.
fs::path sharded(const fs::path& folder, const std::string& location) {
  fs::create_directories(folder / "c" / "0" / "0");
  const json codecs = {{{"name", "sharding_indexed"},
                        {"configuration",
                         {{"chunk_shape", {1, 2, 3}},
                          {"codecs", {{{"name", "bytes"}}}},
                          {"index_codecs", {{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}, {{"name", "crc32c"}}}},
                          {"index_location", location}}}}};
  write_json(folder / "zarr.json", {{"zarr_format", 3}, {"node_type", "array"}, {"shape", {4, 4, 6}}, {"data_type", "uint8"},
                                     {"chunk_grid", {{"name", "regular"}, {"configuration", {{"chunk_shape", {2, 4, 6}}}}}},
                                     {"chunk_key_encoding", {{"name", "default"}}}, {"fill_value", 7}, {"codecs", codecs}});
  std::vector<std::string> inner(8);
  for (int iz = 0; iz < 2; ++iz)
    for (int iy = 0; iy < 2; ++iy)
      for (int ix = 0; ix < 2; ++ix) {
        std::string& c = inner[static_cast<size_t>((iz * 2 + iy) * 2 + ix)];
        for (int y = 0; y < 2; ++y)
          for (int x = 0; x < 3; ++x) c += static_cast<char>(iz * 36 + (iy * 2 + y) * 6 + ix * 3 + x);
      }
  const size_t index_bytes = 8 * 16 + 4;
  std::string data, index;
  std::vector<std::pair<uint64_t, uint64_t>> where(8, {UINT64_MAX, UINT64_MAX});
  const uint64_t base = location == "start" ? index_bytes : 0;
  for (int i = 7; i >= 0; --i) {
    if (i == 5) continue;
    where[static_cast<size_t>(i)] = {base + data.size(), inner[static_cast<size_t>(i)].size()};
    data += inner[static_cast<size_t>(i)];
  }
  for (const auto& [offset, length] : where) index += le64(offset) + le64(length);
  index = with_crc(index);
  test::write_text(folder / "c" / "0" / "0" / "0", location == "start" ? index + data : data + index);
  return folder;
}

}  // namespace

TEST_CASE("zarr: version 3 arrays: codecs with a checksum, shards with their index at either end, OME-Zarr 0.5") {
  test::TempDir dir;
  // uint16, gzip then crc32c, "c/..." keys.
  const fs::path a = dir / "v3.zarr";
  fs::create_directories(a / "c" / "0" / "0");
  fs::create_directories(a / "c" / "0" / "1");
  write_json(a / "zarr.json", {{"zarr_format", 3}, {"node_type", "array"}, {"shape", {2, 3, 4}}, {"data_type", "uint16"},
                               {"chunk_grid", {{"name", "regular"}, {"configuration", {{"chunk_shape", {2, 2, 4}}}}}},
                               {"chunk_key_encoding", {{"name", "default"}, {"configuration", {{"separator", "/"}}}}},
                               {"fill_value", 0},
                               {"codecs", {{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}, {{"name", "gzip"}, {"configuration", {{"level", 5}}}}, {{"name", "crc32c"}}}}});
  for (int cy = 0; cy < 2; ++cy) {
    std::string raw;
    for (int z = 0; z < 2; ++z)
      for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 4; ++x) {
          const int value = 1000 * z + 100 * (cy * 2 + y) + x;
          raw += static_cast<char>(value & 0xff);
          raw += static_cast<char>(value >> 8);
        }
    test::write_text(a / "c" / "0" / std::to_string(cy) / "0", with_crc(gzipped(raw)));
  }
  StackInfo info;
  const Volume v = read_volume(a, {}, &info);
  CHECK(v.dtype() == DType::u16);
  CHECK(v.at<uint16_t>(1, 2, 3) == 1203);
  CHECK(info.kind.find("Zarr 3") != std::string::npos);
  // A damaged chunk fails its checksum, named.
  std::string bytes = [&] { std::ifstream in(a / "c" / "0" / "1" / "0", std::ios::binary); return std::string(std::istreambuf_iterator<char>(in), {}); }();
  bytes[3] ^= 1;
  test::write_text(a / "c" / "0" / "1" / "0", bytes);
  const std::string damaged = message_of(a);
  CHECK(damaged.find("c/0/1/0") != std::string::npos);
  CHECK(damaged.find("fails its CRC-32C checksum") != std::string::npos);

  for (const std::string location : {"end", "start"}) {
    const fs::path s = sharded(dir / ("shards-" + location + ".zarr"), location);
    StackReader reader(s);
    CHECK(reader.nz() == 4);
    const Volume w = read_volume(s);
    int wrong = 0;
    for (int64_t z = 0; z < 4; ++z)
      for (int64_t y = 0; y < 4; ++y)
        for (int64_t x = 0; x < 6; ++x) {
          const bool unwritten = z >= 2 || (z == 1 && y < 2 && x >= 3);  // shard 1; inner chunk 5 = (1, 0, 1)
          wrong += w.at<uint8_t>(z, y, x) != (unwritten ? 7 : z * 36 + y * 6 + x);
        }
    CHECK_MESSAGE(wrong == 0, location);
    reader.seek(1);
    CHECK(reader.next(1).at<uint8_t>(0, 3, 2) == 36 + 18 + 2);  // one section: only its inner chunks are read
  }
  // An index that points outside its shard, and one that fails its checksum.
  const fs::path s = sharded(dir / "bad-index.zarr", "end");
  std::string shard = [&] { std::ifstream in(s / "c" / "0" / "0" / "0", std::ios::binary); return std::string(std::istreambuf_iterator<char>(in), {}); }();
  const size_t index_at = shard.size() - 132;
  std::string index = shard.substr(index_at, 128);
  index.replace(0, 8, le64(1000000));
  test::write_text(s / "c" / "0" / "0" / "0", shard.substr(0, index_at) + with_crc(index));
  CHECK(message_of(s).find("points outside the shard") != std::string::npos);
  test::write_text(s / "c" / "0" / "0" / "0", shard.substr(0, index_at) + index + "abcd");
  CHECK(message_of(s).find("fails its CRC-32C checksum") != std::string::npos);

  // OME-Zarr 0.5: the image's group says where its levels are, in zarr.json's attributes.
  const fs::path ome = dir / "image.ome.zarr";
  fs::create_directories(ome);
  fs::copy(dir / "shards-end.zarr", ome / "s0", fs::copy_options::recursive);
  json multiscale = {{"axes", json::array()}, {"datasets", json::array()}};
  for (const char* a : {"z", "y", "x"}) multiscale["axes"].push_back({{"name", a}, {"type", "space"}, {"unit", "nanometer"}});
  const json scale = {{"type", "scale"}, {"scale", {40, 8, 8}}};
  multiscale["datasets"].push_back({{"path", "s0"}, {"coordinateTransformations", json::array({scale})}});
  const json ome_attributes = {{"version", "0.5"}, {"multiscales", json::array({multiscale})}};
  write_json(ome / "zarr.json", {{"zarr_format", 3}, {"node_type", "group"}, {"attributes", {{"ome", ome_attributes}}}});
  const Volume o = read_volume(ome);
  CHECK(o.at<uint8_t>(0, 3, 5) == 23);
  CHECK(o.voxel_size.known);
  CHECK(o.voxel_size.z == 40);
  // Unsupported parts of version 3 are named.
  const fs::path t = dir / "transposed.zarr";
  fs::create_directories(t);
  write_json(t / "zarr.json", {{"zarr_format", 3}, {"node_type", "array"}, {"shape", {2, 2, 2}}, {"data_type", "int16"},
                               {"chunk_grid", {{"name", "regular"}, {"configuration", {{"chunk_shape", {2, 2, 2}}}}}}, {"codecs", {{{"name", "bytes"}}}}});
  CHECK(message_of(t).find("signed integers (int16)") != std::string::npos);
  write_json(t / "zarr.json", {{"zarr_format", 3}, {"node_type", "array"}, {"shape", {2, 2, 2}}, {"data_type", "uint8"},
                               {"chunk_grid", {{"name", "regular"}, {"configuration", {{"chunk_shape", {2, 2, 2}}}}}},
                               {"codecs", {{{"name", "transpose"}, {"configuration", {{"order", {2, 1, 0}}}}}, {{"name", "bytes"}}}}});
  CHECK(message_of(t).find("transposes its chunks") != std::string::npos);
}

TEST_CASE("n5: a dataset's blocks, listed x first, big-endian, edge blocks cut; a container names its datasets") {
  test::TempDir dir;
  const fs::path d = dir / "volume.n5" / "raw";
  fs::create_directories(d);
  write_json(dir / "volume.n5" / "attributes.json", {{"n5", "2.0.0"}});
  write_json(d / "attributes.json", {{"dimensions", {5, 3, 2}}, {"blockSize", {4, 3, 1}}, {"dataType", "uint16"}, {"compression", {{"type", "raw"}}}});
  // Blocks (x, y, z) = (0, 0, z) of 4 x 3 and (1, 0, z) of 1 x 3 (cut at the edge, as Java's N5 writes them).
  for (int z = 0; z < 2; ++z)
    for (int bx = 0; bx < 2; ++bx) {
      const int w = bx == 0 ? 4 : 1;
      std::string b = {0, 0, 0, 3, 0, 0, 0, static_cast<char>(w), 0, 0, 0, 3, 0, 0, 0, 1};
      for (int y = 0; y < 3; ++y)
        for (int x = 0; x < w; ++x) {
          const int value = 1000 * z + 100 * y + bx * 4 + x;
          b += static_cast<char>(value >> 8);
          b += static_cast<char>(value & 0xff);
        }
      fs::create_directories(d / std::to_string(bx) / "0");
      test::write_text(d / std::to_string(bx) / "0" / std::to_string(z), b);
    }
  StackInfo info;
  const Volume v = read_volume(d, {}, &info);
  CHECK(info.kind.find("N5 dataset, blocks 1 x 3 x 4") == 0);
  CHECK(v.nz() == 2);
  CHECK(v.nx() == 5);
  CHECK(v.at<uint16_t>(1, 2, 4) == 1204);
  CHECK(v.at<uint16_t>(0, 1, 2) == 102);
  CHECK(message_of(dir / "volume.n5").find("is an N5 container, not a dataset: give the dataset in it (raw)") != std::string::npos);
  write_json(d / "attributes.json", {{"dimensions", {5, 3, 2}}, {"blockSize", {4, 3, 1}}, {"dataType", "uint16"}, {"compression", {{"type", "xz"}}}});
  CHECK(message_of(d).find("compressed with \"xz\"") != std::string::npos);
}
