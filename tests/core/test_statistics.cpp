#include <doctest/doctest.h>

#include "core/image/statistics.h"
#include "core/threads.h"

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

TEST_CASE("value_range and is_mask, for every type and thread count") {
  for (DType t : {DType::u8, DType::u16, DType::u32, DType::u64, DType::f32}) {
    Volume v(t, 3, 50, 70);
    visit_dtype(t, [&](auto type) {
      using T = decltype(type);
      for (int64_t i = 0; i < v.elements(); ++i) v.data<T>()[i] = static_cast<T>((i * 37) % 200 + 5);
      v.data<T>()[v.elements() - 1] = static_cast<T>(250);
    });
    for (int threads : {1, 3}) {
      set_thread_count(threads);
      const auto r = value_range(v);
      CHECK(r.min == 5);
      CHECK(r.max == 250);
    }
    set_thread_count(0);
    CHECK_FALSE(is_mask(v));
    Volume m(t, 1, 2, 3);
    CHECK(is_mask(m));  // all zero
    visit_dtype(t, [&](auto type) { m.data<decltype(type)>()[4] = static_cast<decltype(type)>(255); });
    CHECK(is_mask(m));
  }
  CHECK(value_range(Volume()).max == 0);
}
