// The label cache of a Session: chunks read on demand and dropped beyond the cache's size.
#include "web/proofreading/session.h"

#include <algorithm>

#include "core/threads.h"

namespace uniem::web {

Volume& Session::chunk(int64_t index) const {
  auto& c = chunks_[static_cast<size_t>(index)];
  if (!c) {
    c = std::make_unique<Volume>(project_.labels().read(index));
    cached_bytes_ += static_cast<int64_t>(c->bytes());
  }
  last_used_[static_cast<size_t>(index)] = ++use_clock_;
  return *c;
}

void Session::load(const std::vector<int64_t>& indices) const {
  std::vector<int64_t> missing;
  uint64_t drops = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int64_t i : indices)
      if (!chunks_[static_cast<size_t>(i)]) missing.push_back(i);
    drops = drops_;
  }
  if (missing.size() < 2) return;  // chunk() reads one as fast
  std::vector<std::unique_ptr<Volume>> read(missing.size());
  parallel_for(0, static_cast<int64_t>(missing.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k)
      read[static_cast<size_t>(k)] = std::make_unique<Volume>(project_.labels().read(missing[static_cast<size_t>(k)]));
  });
  std::lock_guard<std::mutex> lock(mutex_);
  // A chunk dropped meanwhile may have been changed and flushed after it was read here.
  if (drops_ != drops) return;
  for (size_t k = 0; k < missing.size(); ++k) {
    auto& c = chunks_[static_cast<size_t>(missing[k])];
    if (c) continue;  // read by an operation meanwhile, maybe changed since
    cached_bytes_ += static_cast<int64_t>(read[k]->bytes());
    c = std::move(read[k]);
  }
}

void Session::trim() const {
  if (cached_bytes_ <= options_.cache_bytes) return;
  std::vector<int64_t> unchanged;
  for (size_t i = 0; i < chunks_.size(); ++i)
    if (chunks_[i] && !dirty_.count(static_cast<int64_t>(i)) && !flushing_.count(static_cast<int64_t>(i)))
      unchanged.push_back(static_cast<int64_t>(i));
  std::sort(unchanged.begin(), unchanged.end(),
            [&](int64_t a, int64_t b) { return last_used_[static_cast<size_t>(a)] < last_used_[static_cast<size_t>(b)]; });
  // Down to three quarters, so that the scan is not repeated on every request.
  for (int64_t i : unchanged) {
    if (cached_bytes_ <= options_.cache_bytes / 4 * 3) break;
    cached_bytes_ -= static_cast<int64_t>(chunks_[static_cast<size_t>(i)]->bytes());
    chunks_[static_cast<size_t>(i)].reset();
  }
  ++drops_;
}

}  // namespace uniem::web
