#include <doctest/doctest.h>

#include "core/image/volume.h"

using namespace uniem;

TEST_CASE("a volume is zero-filled, laid out (z, y, x, c) with x fastest, and copies deeply") {
  Volume v(DType::u16, 2, 3, 4, 1);
  CHECK(v.shape() == std::array<int64_t, 3>{2, 3, 4});
  CHECK(v.strides() == std::array<int64_t, 4>{12, 4, 1, 1});
  CHECK(v.bytes() == 2 * 3 * 4 * 2);
  for (int64_t i = 0; i < v.elements(); ++i) CHECK(v.value(i) == 0);
  v.at<uint16_t>(1, 2, 3) = 700;
  CHECK(v.data<uint16_t>()[1 * 12 + 2 * 4 + 3] == 700);
  CHECK(reinterpret_cast<uintptr_t>(v.raw()) % 64 == 0);

  Volume copy = v;
  copy.at<uint16_t>(1, 2, 3) = 1;
  CHECK(v.at<uint16_t>(1, 2, 3) == 700);
  Volume moved = std::move(copy);
  CHECK(moved.at<uint16_t>(1, 2, 3) == 1);
}

TEST_CASE("channels are interleaved and counted in strides") {
  Volume rgb(DType::u8, 1, 2, 2, 3);
  CHECK(rgb.strides() == std::array<int64_t, 4>{12, 6, 3, 1});
  rgb.at<uint8_t>(0, 1, 1, 2) = 9;
  CHECK(rgb.data<uint8_t>()[11] == 9);
  CHECK(rgb.voxels() == 4);
  CHECK(rgb.elements() == 12);
}

TEST_CASE("dtype names, sizes and dispatch") {
  CHECK(std::string(dtype_name(DType::f32)) == "float32");
  CHECK(dtype_size(DType::u64) == 8);
  CHECK(visit_dtype(DType::u32, [](auto t) { return sizeof(t); }) == 4);
  CHECK(visit_dtype(DType::f32, [](auto t) { return std::is_floating_point_v<decltype(t)>; }));
  CHECK(VoxelSize{30, 6, 6, true}.to_string() == "30 x 6 x 6 nm");
  CHECK(VoxelSize{}.to_string().find("unknown") == 0);
}
