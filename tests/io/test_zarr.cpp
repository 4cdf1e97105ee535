// OME-Zarr and Zarr v2 (io/zarr.h): what uniem writes it reads back voxel for voxel with its
// pyramid; arrays written by hand as the specification lays them out (byte order, fill value,
// rank 2 and 4, gzip); every malformed case refused naming the file. The round trip through
// zarr-python is tests/io/zarr_oracle.py.
#include <doctest/doctest.h>
#include <zlib.h>

#include <fstream>

#include <nlohmann/json.hpp>

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
  CHECK(message_of(array("blosc.zarr", zarray({2, 2, 2}, {2, 2, 2}, "|u1", {{"id", "blosc"}, {"cname", "lz4"}}))).find("\"blosc\"") != std::string::npos);
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
  CHECK(message_of(dir / "v3.zarr").find("Zarr version 3") != std::string::npos);
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
