#include "core/threads.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace uniem {
namespace {

// Looked up once: hardware_concurrency() reads /sys on every call, and parallel_for asks for
// the thread count every time.
int default_thread_count() {
  static const int count = [] {
    if (const char* env = std::getenv("UNIEM_THREADS")) {
      const int n = std::atoi(env);
      if (n > 0) return n;
    }
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }();
  return count;
}

std::atomic<int> requested_threads{0};
thread_local bool inside_pool = false;

// One job at a time: workers take chunk indices from an atomic counter until none are left.
class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  int workers() const { return static_cast<int>(threads_.size()); }

  void run(int64_t chunks, const std::function<void(int64_t)>& chunk_fn) {
    std::unique_lock job_lock(job_mutex_);  // one job at a time from different callers
    {
      std::lock_guard lock(mutex_);
      chunk_fn_ = &chunk_fn;
      chunks_ = chunks;
      next_.store(0);
      error_ = nullptr;
      active_.store(static_cast<int>(threads_.size()));
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    take_chunks();
    if (!spin([this] { return active_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock lock(mutex_);
      done_.wait(lock, [this] { return active_.load() == 0; });
    }
    chunk_fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // Waits up to about 50 microseconds for `ready`, without sleeping: a loop that calls many
  // small parallel_for (the FFN's inference on a small field of view) would otherwise pay a
  // futex sleep and wake-up, tens of microseconds of system time, for every one of them.
  template <typename Ready>
  static bool spin(const Ready& ready) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    for (int i = 1;; ++i) {
      if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if (i % 64 == 0 && std::chrono::steady_clock::now() >= until) return false;
    }
  }
  void take_chunks() {
    const bool was_inside = inside_pool;
    inside_pool = true;
    for (int64_t c; (c = next_.fetch_add(1)) < chunks_;) {
      try {
        (*chunk_fn_)(c);
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
        next_.store(chunks_);  // stop handing out work
      }
    }
    inside_pool = was_inside;
  }
  void work() {
    uint64_t seen = 0;
    for (;;) {
      if (!spin([&] { return generation_.load(std::memory_order_acquire) != seen; })) {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_.load() != seen; });
        if (stopping_) return;
      }
      seen = generation_.load(std::memory_order_acquire);
      take_chunks();
      if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard lock(mutex_);  // the caller checks active_ under this lock before it sleeps
        done_.notify_all();
      }
    }
  }

  std::vector<std::thread> threads_;
  std::mutex job_mutex_, mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t)>* chunk_fn_ = nullptr;
  int64_t chunks_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int> active_{0};
  std::atomic<uint64_t> generation_{0};
  bool stopping_ = false;
  std::exception_ptr error_;
};

std::mutex pool_mutex;
std::unique_ptr<Pool> pool;

Pool& pool_for(int threads) {
  std::lock_guard lock(pool_mutex);
  if (!pool || pool->workers() != threads - 1) {
    pool.reset();
    pool = std::make_unique<Pool>(threads - 1);
  }
  return *pool;
}

}  // namespace

int thread_count() {
  int n = requested_threads.load();
  return n > 0 ? n : default_thread_count();
}

void set_thread_count(int n) { requested_threads.store(std::max(0, n)); }

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (end <= begin) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t n = end - begin;
  const int threads = thread_count();
  if (threads <= 1 || inside_pool || n <= grain) {
    fn(begin, end);
    return;
  }
  // Several chunks per thread balance uneven work; each chunk is at least `grain` long.
  const int64_t chunks = std::min<int64_t>((n + grain - 1) / grain, int64_t{threads} * 4);
  const int64_t step = (n + chunks - 1) / chunks;
  pool_for(threads).run(chunks, [&](int64_t c) {
    const int64_t b = begin + c * step;
    const int64_t e = std::min(end, b + step);
    if (b < e) fn(b, e);
  });
}

}  // namespace uniem
