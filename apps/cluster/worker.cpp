#include "apps/cluster/worker.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <mutex>
#include <thread>

#include "apps/cluster/block_tasks.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/progress.h"
#include "io/task_queue.h"

namespace fs = std::filesystem;

namespace uniem::apps {
namespace {

// Lines of the worker's log: "2026-12-08 01:02:03 took label, components: sections 0-63".
class WorkerLog {
 public:
  explicit WorkerLog(const fs::path& file) : out_(file, std::ios::app) {}
  void line(const std::string& text) {
    const std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
    out_ << stamp << " " << text << "\n";
    out_.flush();
    if (progress_enabled()) std::fprintf(stderr, "%s\n", text.c_str());
  }

 private:
  std::ofstream out_;
};

// Touches the lease every fifth of the lease time until stopped.
class Heartbeat {
 public:
  Heartbeat(const TaskQueue& queue, const TaskLease& lease) : thread_([this, &queue, &lease] {
      const auto every = std::chrono::duration<double>(std::max(0.2, queue.lease_seconds() / 5));
      std::unique_lock<std::mutex> lock(mutex_);
      while (!wake_.wait_for(lock, every, [this] { return stop_; })) queue.touch(lease);
    }) {}
  ~Heartbeat() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

bool all_done(const QueueStatus& s, int last_phase) {
  for (size_t p = 0; p < s.phases.size() && static_cast<int>(p) <= last_phase; ++p)
    if (s.phases[p].done < s.phases[p].tasks) return false;
  return true;
}

}  // namespace

int work_on_queue(const fs::path& folder, const WorkerOptions& options) {
  const TaskQueue queue(folder);
  const std::string name = worker_name();
  WorkerLog log(queue.log_file(name));
  log.line("worker " + name + " started on " + folder.string());
  int64_t done = 0;
  double wait = 0.02;
  while (true) {
    check_cancelled();
    const QueueStatus s = queue.status();
    if (!s.failures.empty()) {
      const auto& f = s.failures.front();
      log.line("stopping: a task failed: " + f.message + " (log: " + f.log + ")");
      return 1;
    }
    if (all_done(s, options.last_phase)) {
      log.line("nothing left to do; " + std::to_string(done) + " task" + (done == 1 ? "" : "s") + " done by this worker");
      return 0;
    }
    if (const int64_t n = queue.reclaim_expired()) log.line(std::to_string(n) + " expired lease" + (n == 1 ? "" : "s") + " given back to the queue");
    const auto lease = queue.take(name, options.last_phase);
    if (!lease) {  // the rest is held by other workers, or waits for a phase they are finishing
      std::this_thread::sleep_for(std::chrono::duration<double>(wait));
      wait = std::min(options.poll_seconds, wait * 2);  // soon at first (a phase ends), then less often
      continue;
    }
    wait = 0.02;
    const std::string what = describe_task(queue, lease->task);
    log.line("took " + what);
    const auto start = std::chrono::steady_clock::now();
    try {
      Heartbeat heartbeat(queue, *lease);
      run_block_task(queue, lease->task);
    } catch (const Cancelled&) {
      std::error_code ec;
      fs::rename(lease->file, queue.folder() / "todo" / lease->task.name(), ec);  // for another worker
      log.line("cancelled; " + what + " went back to the queue");
      throw;
    } catch (const std::exception& e) {
      const std::string message = what + ": " + e.what();
      queue.fail(*lease, message, queue.log_file(name));
      log.line("failed: " + message);
      return 1;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    queue.complete(*lease, seconds);
    ++done;
    log.line("done " + what + " in " + format_duration(seconds));
  }
}

}  // namespace uniem::apps
