// The thread pool every parallel loop in uniem runs on.
//
// Size: set_thread_count() (the --threads option) when given, else UNIEM_THREADS (read once),
// else the number of hardware threads. parallel_for splits [begin, end) into chunks of at least
// `grain` indices; the calling thread works too, and idle workers spin for a few tens of
// microseconds before they sleep, so loops of many small parallel_for calls stay cheap. Work
// that writes only its own indices gives the same result for every thread count; reductions must
// combine per-chunk results in index order to stay reproducible.
// An exception thrown by any chunk is rethrown in the caller after all chunks have stopped.
// A parallel_for inside another runs serially on the calling worker (no nested oversubscription).
#pragma once

#include <cstdint>
#include <functional>

namespace uniem {

int thread_count();
void set_thread_count(int n);  // n <= 0 restores the default

// fn(chunk_begin, chunk_end) is called for disjoint chunks covering [begin, end).
void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace uniem
