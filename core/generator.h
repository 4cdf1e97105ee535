// Random numbers for tensors, with explicit seeds.
//
// Counter-based: element i of a draw is a hash of (seed, offset + i) (splitmix64), so a tensor's
// random values do not depend on the thread count, the chunking or the device that filled it, and
// the whole state is two integers that a checkpoint stores to resume exactly. Each draw reserves as
// many counters as it has elements (two per normal value).
#pragma once

#include <cstdint>

namespace uniem {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0, uint64_t offset = 0) : seed_(seed), offset_(offset) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  // Reserves n counters; returns the first.
  uint64_t advance(uint64_t n) {
    const uint64_t first = offset_;
    offset_ += n;
    return first;
  }

 private:
  uint64_t seed_;
  uint64_t offset_;
};

// A draw as the backends receive it: counters [offset, offset + n) of stream `seed`.
struct RandomStream {
  uint64_t seed = 0;
  uint64_t offset = 0;
};

}  // namespace uniem
