// GPU time per backend op (cuda_backend.h: set_profiling, take_profile, OpTimer): a pair of CUDA
// events on the stream around each op while profiling is on. Events are created per call, which
// is slow but only matters while profiling; off, an OpTimer is one branch.
#include <algorithm>
#include <map>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"

namespace uniem::cuda {

OpTimer::OpTimer(CudaBackend& backend, const char* op) : op_(op) {
  if (!backend.profiling_ || backend.timing_op_) return;  // an op inside another counts in the outer one
  backend.timing_op_ = true;
  UNIEM_CUDA_CHECK(cudaEventCreate(&begin_));
  UNIEM_CUDA_CHECK(cudaEventRecord(begin_, backend.stream_));
  backend_ = &backend;
}

OpTimer::~OpTimer() {
  if (!backend_) return;
  cudaEvent_t end = nullptr;  // no checks here: a destructor must not throw; take_profile checks
  cudaEventCreate(&end);
  cudaEventRecord(end, backend_->stream_);
  std::lock_guard lock(backend_->mutex_);
  backend_->spans_.push_back({op_, begin_, end});
  backend_->timing_op_ = false;
}

std::vector<CudaBackend::OpTime> CudaBackend::take_profile() {
  synchronize();
  std::vector<Span> spans;
  {
    std::lock_guard lock(mutex_);
    spans.swap(spans_);
  }
  std::map<std::string, OpTime> by_op;
  std::string failed;
  for (const Span& s : spans) {
    float ms = 0;
    const cudaError_t status = cudaEventElapsedTime(&ms, s.begin, s.end);
    if (status != cudaSuccess && failed.empty()) failed = std::string(s.op) + ": " + cudaGetErrorString(status);
    OpTime& t = by_op[s.op];
    t.op = s.op;
    t.calls += 1;
    t.ms += ms;
    cudaEventDestroy(s.begin);
    cudaEventDestroy(s.end);
  }
  if (!failed.empty()) throw CudaError("timing a backend op failed: " + failed);
  std::vector<OpTime> out;
  for (auto& [op, t] : by_op) out.push_back(t);
  std::sort(out.begin(), out.end(), [](const OpTime& a, const OpTime& b) { return a.ms > b.ms; });
  return out;
}

}  // namespace uniem::cuda
