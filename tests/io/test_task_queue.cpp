// The task queue on disk (io/task_queue.h): one lease per task however many take at once, phases
// in order, leases that run out go back, failures kept with their message.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "io/task_queue.h"
#include "tests/test_support.h"

using namespace uniem;
namespace fs = std::filesystem;

TEST_CASE("each task is taken by exactly one of many workers, phase after phase") {
  test::TempDir dir;
  const TaskQueue q = TaskQueue::create(dir / "q", {{"command", "test"}}, {{"map", 40}, {"reduce", 1}}, 600);
  CHECK_THROWS_AS(TaskQueue::create(dir / "q", {}, {{"map", 1}}, 600), InputError);
  CHECK_THROWS_AS(TaskQueue(dir / "nothing"), InputError);
  std::vector<std::vector<TaskId>> taken(4);
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&, w] {
      const std::string name = "w" + std::to_string(w);
      while (auto lease = q.take(name, 0)) {
        taken[static_cast<size_t>(w)].push_back(lease->task);
        q.complete(*lease, 0.01);
      }
    });
  for (auto& t : workers) t.join();
  std::vector<int> seen(40, 0);
  for (const auto& list : taken)
    for (const auto& id : list) {
      CHECK(id.phase == 0);
      ++seen[static_cast<size_t>(id.index)];
    }
  for (int n : seen) CHECK(n == 1);
  const QueueStatus s = q.status();
  CHECK(s.phases[0].done == 40);
  CHECK(s.phases[1].done == 0);
  CHECK(!s.finished());
  // The reduce comes only now, and once.
  auto reduce = q.take("w0", 1);
  REQUIRE(reduce);
  CHECK(reduce->task == TaskId{1, 0});
  CHECK(!q.take("w1", 1));
  q.complete(*reduce, 0.5);
  CHECK(q.status().finished());
  CHECK(q.status().phases[1].median_seconds == doctest::Approx(0.5));
}

TEST_CASE("a lease not touched in time goes back; a failure is kept until retried") {
  test::TempDir dir;
  const TaskQueue q = TaskQueue::create(dir / "q", {{"command", "test"}}, {{"map", 2}}, 0.3);
  auto a = q.take("dead", 0);
  REQUIRE(a);
  CHECK(q.reclaim_expired() == 0);
  CHECK(q.status().running.size() == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(q.touch(*a) == true);  // a living worker keeps it
  CHECK(q.reclaim_expired() == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(q.reclaim_expired() == 1);  // a silent one loses it
  CHECK(q.touch(*a) == false);
  auto b = q.take("alive", 0);
  REQUIRE(b);
  CHECK(b->task == a->task);
  q.fail(*b, "map: sections 0-9: broken.png is not a PNG", q.log_file("alive"));
  const QueueStatus s = q.status();
  REQUIRE(s.failures.size() == 1);
  CHECK(s.failures[0].message == "map: sections 0-9: broken.png is not a PNG");
  CHECK(s.failures[0].log == q.log_file("alive").string());
  CHECK(q.retry_failed() == 1);
  CHECK(q.status().failures.empty());
  CHECK(q.status().phases[0].todo == 2);
}

TEST_CASE("task names sort in order and parse back") {
  CHECK(TaskId{1, 3}.name() == "1-000003");
  CHECK(TaskId::parse("2-000017") == TaskId{2, 17});
  CHECK(!TaskId::parse("2-17x"));
  CHECK(!TaskId::parse("plan.json"));
}
