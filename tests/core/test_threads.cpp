#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "core/threads.h"

using namespace uniem;

TEST_CASE("parallel_for covers every index exactly once, for every thread count") {
  for (int threads : {1, 2, 3, 8}) {
    set_thread_count(threads);
    CHECK(thread_count() == threads);
    std::vector<int> hits(10007, 0);
    parallel_for(0, static_cast<int64_t>(hits.size()), 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
    });
    for (int h : hits) REQUIRE(h == 1);
  }
  set_thread_count(0);
}

TEST_CASE("an exception in a worker reaches the caller, and the pool keeps working") {
  set_thread_count(4);
  CHECK_THROWS_AS(parallel_for(0, 1000, 1, [](int64_t b, int64_t) {
                    if (b >= 500) throw std::runtime_error("boom");
                  }),
                  std::runtime_error);
  std::atomic<int64_t> sum{0};
  parallel_for(0, 100, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) sum += i;
  });
  CHECK(sum == 4950);
  set_thread_count(0);
}

TEST_CASE("nested parallel_for runs inline instead of deadlocking") {
  set_thread_count(2);
  std::atomic<int> inner{0};
  parallel_for(0, 4, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) parallel_for(0, 10, 1, [&](int64_t ib, int64_t ie) { inner += static_cast<int>(ie - ib); });
  });
  CHECK(inner == 40);
  set_thread_count(0);
}
