#include <doctest/doctest.h>

#include "core/image/statistics.h"

using namespace uniem;

TEST_CASE("statistics of a small known volume, for histogram and sorting paths alike") {
  for (DType t : {DType::u8, DType::u16, DType::u32, DType::f32}) {
    Volume v(t, 1, 1, 100);
    for (int64_t i = 0; i < 100; ++i)
      visit_dtype(t, [&](auto type) { v.data<decltype(type)>()[i] = static_cast<decltype(type)>(i < 50 ? 0 : i); });
    const auto s = compute_statistics(v);
    CHECK(s.min == 0);
    CHECK(s.max == 99);
    CHECK(s.mean == doctest::Approx((50 + 99) * 50 / 2.0 / 100));
    CHECK(s.distinct == 51);
    CHECK(s.zeros == 50);
    CHECK(s.p1 == 0);
    CHECK(s.p50 == 0);  // nearest rank: the 50th of 100 values
    CHECK(s.p99 == 98);
    int64_t total = 0;
    for (auto c : s.histogram) total += c;
    CHECK(total == 100);
    CHECK(s.histogram[0] == 50);
  }
}
