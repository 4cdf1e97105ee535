#include <doctest/doctest.h>

#include "core/image/convert.h"

using namespace uniem;

namespace {
Volume ramp(DType t, std::initializer_list<double> values) {
  Volume v(t, 1, 1, static_cast<int64_t>(values.size()));
  int64_t i = 0;
  for (double x : values) visit_dtype(t, [&](auto type) { v.data<decltype(type)>()[i] = static_cast<decltype(type)>(x); }), ++i;
  return v;
}
}  // namespace

TEST_CASE("values that fit are copied exactly; values that do not are refused with the fix") {
  const Volume small = ramp(DType::u16, {0, 17, 255});
  const Volume eight = convert_dtype(small, DType::u8, DepthPolicy::exact);
  CHECK(eight.at<uint8_t>(0, 0, 2) == 255);

  const Volume wide = ramp(DType::u16, {0, 100, 4095});
  try {
    convert_dtype(wide, DType::u8, DepthPolicy::exact);
    FAIL("expected a refusal");
  } catch (const InputError& e) {
    const std::string m = e.what();
    CHECK(m.find("0..4095") != std::string::npos);
    CHECK(m.find("--scale") != std::string::npos);
    CHECK(m.find("--relabel") != std::string::npos);
  }
}

TEST_CASE("--scale maps min..max onto the full range, --clip saturates") {
  const Volume v = ramp(DType::u16, {100, 1100, 2100});
  const Volume scaled = convert_dtype(v, DType::u8, DepthPolicy::scale);
  CHECK(scaled.at<uint8_t>(0, 0, 0) == 0);
  CHECK(scaled.at<uint8_t>(0, 0, 1) == 128);  // 127.5 rounds half to even? nearbyint: to even -> 128
  CHECK(scaled.at<uint8_t>(0, 0, 2) == 255);
  const Volume clipped = convert_dtype(v, DType::u8, DepthPolicy::clip);
  CHECK(clipped.at<uint8_t>(0, 0, 0) == 100);
  CHECK(clipped.at<uint8_t>(0, 0, 2) == 255);

  const Volume f = ramp(DType::f32, {-1.5, 0.25, 300});
  CHECK_THROWS_AS(convert_dtype(f, DType::u8, DepthPolicy::exact), InputError);
  const Volume fc = convert_dtype(f, DType::u8, DepthPolicy::clip);
  CHECK(fc.at<uint8_t>(0, 0, 0) == 0);
  CHECK(fc.at<uint8_t>(0, 0, 1) == 0);
  CHECK(fc.at<uint8_t>(0, 0, 2) == 255);
}

TEST_CASE("labels past 16 bits are renumbered 1..N in order and the type shrinks") {
  const Volume labels = ramp(DType::u32, {0, 70000, 5, 70000, 99999999, 0, 5});
  int64_t n = 0;
  const Volume r = relabel_consecutive(labels, &n);
  CHECK(n == 3);
  CHECK(r.dtype() == DType::u8);
  const uint8_t expected[] = {0, 2, 1, 2, 3, 0, 1};
  for (int64_t i = 0; i < 7; ++i) CHECK(r.data<uint8_t>()[i] == expected[i]);
  CHECK_THROWS_AS(relabel_consecutive(ramp(DType::f32, {1, 2})), InputError);
}
