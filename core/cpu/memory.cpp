// CPU memory, copies, dtype casts, fills and the counter-based random fills.
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <numbers>
#include <unordered_map>

#include "core/cpu/cpu_backend.h"
#include "core/random.h"
#include "core/storage.h"
#include "core/threads.h"

namespace uniem {

Backend& cpu_backend() {
  static CpuBackend instance;
  return instance;
}

namespace {

// Storage of 1 MiB and more, rounded to 64 KiB, from the memory of tensors freed before: every
// step of a training loop allocates the same shapes again, and fresh memory costs a page fault
// per 4 KiB and the kernel's zeroing (the first steps of a conv2d 64->64 256^2 forward+backward
// took 170-200 ms, the later ones 110, until glibc's heap had grown to hold them). Large blocks
// are mappings with transparent huge pages (core/storage.h). The cache keeps
// at most a quarter of the machine's memory (4 GiB at most); beyond that freed blocks go back, and
// all of them do before an allocation is given up for lack of memory.
constexpr size_t cached_from = size_t{1} << 20, large_round = size_t{64} << 10;

class BlockCache {
 public:
  BlockCache() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    const size_t memory = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : size_t{8} << 30;
    limit_ = std::min(memory / 4, size_t{4} << 30);
  }
  std::byte* take(size_t rounded) {
    {
      std::lock_guard lock(mutex_);
      auto it = free_.find(rounded);
      if (it != free_.end()) {
        std::byte* p = it->second;
        free_.erase(it);
        cached_.fetch_sub(rounded);
        return p;
      }
    }
    try {
      return allocate_storage(rounded);
    } catch (const std::bad_alloc&) {
      release();
      return allocate_storage(rounded);
    }
  }
  void give(std::byte* p, size_t rounded) {
    {
      std::lock_guard lock(mutex_);
      if (cached_.load() + rounded <= limit_) {
        free_.emplace(rounded, p);
        cached_.fetch_add(rounded);
        return;
      }
    }
    StorageDeleter{rounded}(p);
  }
  void release() {
    std::lock_guard lock(mutex_);
    for (auto& [bytes, p] : free_) StorageDeleter{bytes}(p);
    free_.clear();
    cached_.store(0);
  }
  size_t cached() const { return cached_.load(); }

 private:
  std::mutex mutex_;
  std::unordered_multimap<size_t, std::byte*> free_;
  std::atomic<size_t> cached_{0};
  size_t limit_ = 0;
};

BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache;  // never destroyed: tensors may outlive static destruction
  return *cache;
}

}  // namespace

std::shared_ptr<Storage> CpuBackend::allocate(size_t bytes, Device device) {
  UNIEM_CHECK(device.kind == DeviceKind::cpu, "CPU allocation for " + device.str());
  // 64-byte alignment for full-width vector loads; a zero-byte tensor still gets a valid pointer.
  const bool large = bytes >= cached_from;
  const size_t rounded = large ? (bytes + large_round - 1) / large_round * large_round : (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
  void* p = nullptr;
  try {
    p = large ? static_cast<void*>(block_cache().take(rounded)) : std::aligned_alloc(64, rounded);
  } catch (const std::bad_alloc&) {
  }
  if (!p) throw Error("out of memory allocating " + std::to_string(bytes >> 20) + " MiB for a tensor");
  auto s = std::make_shared<Storage>();
  add_live_bytes(rounded);
  s->data = std::shared_ptr<void>(p, [this, rounded, large](void* q) {
    if (large) block_cache().give(static_cast<std::byte*>(q), rounded);
    else std::free(q);
    live_.fetch_sub(rounded);
  });
  s->bytes = bytes;
  s->device = device;
  return s;
}

size_t CpuBackend::peak_bytes() const { return peak_.load(); }
void CpuBackend::reset_peak_bytes() { peak_.store(live_.load() + block_cache().cached()); }

void CpuBackend::add_live_bytes(size_t bytes) {
  const size_t now = live_.fetch_add(bytes) + bytes + block_cache().cached();
  for (size_t peak = peak_.load(); now > peak && !peak_.compare_exchange_weak(peak, now);) {
  }
}

void count_scratch_bytes(size_t bytes) { static_cast<CpuBackend&>(cpu_backend()).add_live_bytes(bytes); }

void CpuBackend::copy_to_host(const Tensor& src, void* dst) { std::memcpy(dst, src.raw_data(), src.bytes()); }
void CpuBackend::copy_from_host(const void* src, Tensor& dst) { std::memcpy(dst.raw_data(), src, dst.bytes()); }
void CpuBackend::copy(const Tensor& src, Tensor& dst) {
  if (src.raw_data() != dst.raw_data()) std::memcpy(dst.raw_data(), src.raw_data(), src.bytes());
}

void CpuBackend::cast(const Tensor& src, Tensor& dst) {
  cpu::dispatch_any(src.dtype(), [&](auto s) {
    cpu::dispatch_any(dst.dtype(), [&](auto d) {
      using S = decltype(s);
      using D = decltype(d);
      const S* in = static_cast<const S*>(src.raw_data());
      D* out = static_cast<D*>(dst.raw_data());
      const int64_t n = src.numel();
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<D>(in[i]);
    });
  });
}

void CpuBackend::fill(Tensor& t, double value) {
  cpu::dispatch_any(t.dtype(), [&](auto z) {
    using T = decltype(z);
    T* p = static_cast<T*>(t.raw_data());
    const T v = static_cast<T>(value);
    parallel_for(0, t.numel(), 1 << 16, [&](int64_t b, int64_t e) { std::fill(p + b, p + e, v); });
  });
}

namespace {
// Element i of a draw from stream s: a function of (seed, offset + i) alone.
inline double uniform_at(RandomStream s, int64_t i) {
  return hash_uniform(s.seed, s.offset + static_cast<uint64_t>(i));
}

template <typename Fn>
void fill_float(Tensor& t, Fn value_at) {
  cpu::dispatch_float(t.dtype(), [&](auto z) {
    using T = decltype(z);
    T* p = static_cast<T*>(t.raw_data());
    parallel_for(0, t.numel(), 1 << 14, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = static_cast<T>(value_at(i));
    });
  });
}
}  // namespace

void CpuBackend::random_uniform(Tensor& t, RandomStream s, double low, double high) {
  fill_float(t, [&](int64_t i) { return low + (high - low) * uniform_at(s, i); });
}

void CpuBackend::random_normal(Tensor& t, RandomStream s, double mean, double stddev) {
  fill_float(t, [&](int64_t i) {
    const double u1 = 1.0 - uniform_at(s, 2 * i), u2 = uniform_at(s, 2 * i + 1);
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  });
}

void CpuBackend::random_bernoulli(Tensor& t, RandomStream s, double p) {
  fill_float(t, [&](int64_t i) { return uniform_at(s, i) < p ? 1.0 : 0.0; });
}

}  // namespace uniem
