// GPU memory (the caching allocator), host transfers through a pinned buffer, dtype casts, fills,
// the counter-based random fills, and the backend's registration.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/random.h"
#include "cuda/cast.cuh"
#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/libraries.h"

namespace uniem::cuda {

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::fp32: return "fp32";
    case Precision::tf32: return "tf32";
    case Precision::bf16: return "bf16";
  }
  return "?";
}

CudaBackend& cuda_backend() {
  static CudaBackend* instance = new CudaBackend;  // never destroyed: see the header
  return *instance;
}

void install_backend() { register_backend(DeviceKind::cuda, &cuda_backend()); }

void check_launch(const char* kernel) {
  const cudaError_t s = cudaGetLastError();
  if (s != cudaSuccess) throw CudaError(std::string("launching ") + kernel + ": " + cudaGetErrorString(s));
}

void CudaBackend::activate(Device device) {
  UNIEM_CHECK(device.kind == DeviceKind::cuda, "CUDA backend asked for " + device.str());
  std::lock_guard lock(mutex_);
  if (device_ == device.index) return;
  if (device_ >= 0)
    throw InputError("this uniem process already computes on cuda:" + std::to_string(device_) +
                     "; one GPU per process (asked for " + device.str() + ")");
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || device.index < 0 || device.index >= count)
    throw InputError("there is no GPU " + device.str() + " (" + std::to_string(count) +
                     " found; run 'uniem devices' to list them)");
  require_libraries();
  UNIEM_CUDA_CHECK(cudaSetDevice(device.index));
  UNIEM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  UNIEM_CUDA_CHECK(cudnnCreate(&dnn_));
  UNIEM_CUDA_CHECK(cudnnSetStream(dnn_, stream_));
  cudaDeviceProp prop{};
  UNIEM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device.index));
  if (prop.major < 8) precision_ = Precision::fp32;  // TF32 needs Ampere or newer
  size_t free_bytes = 0, total = 0;
  UNIEM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  workspace_limit_ = std::min(size_t{4} << 30, free_bytes / 4);
  device_ = device.index;
}

// ---------------------------------------------------------------- the caching allocator

namespace {
// Small blocks round to 512 bytes, large ones to 2 MiB, so freed blocks fit later requests.
size_t round_size(size_t bytes) {
  bytes = std::max<size_t>(bytes, 1);
  constexpr size_t small = 512, large = size_t{2} << 20;
  return bytes < (size_t{1} << 20) ? (bytes + small - 1) / small * small : (bytes + large - 1) / large * large;
}
}  // namespace

void* CudaBackend::raw_allocate(size_t rounded) {
  {
    std::lock_guard lock(mutex_);
    auto it = free_.find(rounded);
    if (it != free_.end()) {
      void* p = it->second;
      free_.erase(it);
      cached_ -= rounded;
      live_ += rounded;
      peak_ = std::max(peak_, live_);
      return p;
    }
  }
  void* p = nullptr;
  cudaError_t s = cudaMalloc(&p, rounded);
  if (s != cudaSuccess) {
    cudaGetLastError();  // clear the error, then try again with the cache handed back
    release_cached();
    s = cudaMalloc(&p, rounded);
  }
  if (s != cudaSuccess) {
    cudaGetLastError();
    size_t free_bytes = 0, total = 0;
    cudaMemGetInfo(&free_bytes, &total);
    throw Error("out of GPU memory: " + std::to_string(rounded >> 20) + " MiB asked for, uniem holds " +
                std::to_string(live_ >> 20) + " MiB, the GPU has " + std::to_string(free_bytes >> 20) + " of " +
                std::to_string(total >> 20) + " MiB free; use smaller tiles or batches, or --device cpu");
  }
  std::lock_guard lock(mutex_);
  live_ += rounded;
  peak_ = std::max(peak_, live_);
  return p;
}

void CudaBackend::raw_free(void* p, size_t rounded) {
  std::lock_guard lock(mutex_);
  free_.emplace(rounded, p);
  live_ -= rounded;
  cached_ += rounded;
}

std::shared_ptr<Storage> CudaBackend::allocate(size_t bytes, Device device) {
  activate(device);
  const size_t rounded = round_size(bytes);
  void* p = raw_allocate(rounded);
  auto s = std::make_shared<Storage>();
  s->data = std::shared_ptr<void>(p, [this, rounded](void* q) { raw_free(q, rounded); });
  s->bytes = bytes;
  s->device = device;
  return s;
}

size_t CudaBackend::live_bytes() const {
  std::lock_guard lock(mutex_);
  return live_;
}
size_t CudaBackend::peak_bytes() const {
  std::lock_guard lock(mutex_);
  return peak_;
}
void CudaBackend::reset_peak_bytes() {
  std::lock_guard lock(mutex_);
  peak_ = live_;
}
size_t CudaBackend::cached_bytes() const {
  std::lock_guard lock(mutex_);
  return cached_;
}

void CudaBackend::release_cached() {
  if (device_ < 0) return;
  cudaStreamSynchronize(stream_);
  std::lock_guard lock(mutex_);
  for (auto& [size, p] : free_) cudaFree(p);
  free_.clear();
  cached_ = 0;
}

void CudaBackend::synchronize() {
  if (device_ >= 0) UNIEM_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void* CudaBackend::workspace(size_t bytes) {
  if (bytes == 0) return nullptr;
  if (!workspace_ || workspace_->bytes < bytes) {
    workspace_.reset();  // back to the cache first, so a larger block can reuse the memory
    workspace_ = allocate(bytes, Device::cuda(device_));
  }
  return workspace_->data.get();
}

std::shared_ptr<Storage> CudaBackend::upload(const void* host, size_t bytes) {
  auto s = allocate(bytes, Device::cuda(device_));
  // From pageable memory: returns once the source is staged, so `host` may go away after.
  UNIEM_CUDA_CHECK(cudaMemcpyAsync(s->data.get(), host, bytes, cudaMemcpyHostToDevice, stream_));
  return s;
}

// ---------------------------------------------------------------- transfers

namespace {
constexpr size_t pinned_chunk = size_t{32} << 20;
}

void CudaBackend::copy_to_host(const Tensor& src, void* dst) {
  const OpTimer timer(*this, "copy_to_host");
  activate(src.device());
  std::lock_guard lock(mutex_);
  if (!pinned_) {
    UNIEM_CUDA_CHECK(cudaHostAlloc(&pinned_, pinned_chunk, cudaHostAllocDefault));
    pinned_bytes_ = pinned_chunk;
  }
  const char* from = static_cast<const char*>(src.raw_data());
  char* to = static_cast<char*>(dst);
  for (size_t done = 0, total = src.bytes(); done < total; done += pinned_bytes_) {
    const size_t n = std::min(pinned_bytes_, total - done);
    UNIEM_CUDA_CHECK(cudaMemcpyAsync(pinned_, from + done, n, cudaMemcpyDeviceToHost, stream_));
    UNIEM_CUDA_CHECK(cudaStreamSynchronize(stream_));
    std::memcpy(to + done, pinned_, n);
  }
}

void CudaBackend::copy_from_host(const void* src, Tensor& dst) {
  const OpTimer timer(*this, "copy_from_host");
  activate(dst.device());
  std::lock_guard lock(mutex_);
  if (!pinned_) {
    UNIEM_CUDA_CHECK(cudaHostAlloc(&pinned_, pinned_chunk, cudaHostAllocDefault));
    pinned_bytes_ = pinned_chunk;
  }
  const char* from = static_cast<const char*>(src);
  char* to = static_cast<char*>(dst.raw_data());
  for (size_t done = 0, total = dst.bytes(); done < total; done += pinned_bytes_) {
    const size_t n = std::min(pinned_bytes_, total - done);
    UNIEM_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the previous chunk has left the buffer
    std::memcpy(pinned_, from + done, n);
    UNIEM_CUDA_CHECK(cudaMemcpyAsync(to + done, pinned_, n, cudaMemcpyHostToDevice, stream_));
  }
  UNIEM_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void CudaBackend::copy(const Tensor& src, Tensor& dst) {
  const OpTimer timer(*this, "copy");
  if (src.raw_data() == dst.raw_data() || src.bytes() == 0) return;
  UNIEM_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), src.bytes(), cudaMemcpyDeviceToDevice, stream_));
}

// ---------------------------------------------------------------- casts and fills

namespace {

template <typename T>
__global__ void fill_kernel(T* out, T value, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    out[i] = value;
}

enum class Draw { uniform, normal, bernoulli };

template <typename T>
__global__ void random_kernel(T* out, int64_t n, Draw draw, uint64_t seed, uint64_t offset, double a, double b) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    double v;
    const uint64_t k = static_cast<uint64_t>(i);
    if (draw == Draw::uniform) {
      v = a + (b - a) * hash_uniform(seed, offset + k);
    } else if (draw == Draw::normal) {  // the CPU's Box-Muller, counters 2i and 2i + 1
      const double u1 = 1.0 - hash_uniform(seed, offset + 2 * k), u2 = hash_uniform(seed, offset + 2 * k + 1);
      v = a + b * sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
    } else {
      v = hash_uniform(seed, offset + k) < a ? 1.0 : 0.0;
    }
    out[i] = static_cast<T>(v);
  }
}

void random_fill(Tensor& t, Draw draw, RandomStream s, double a, double b) {
  CudaBackend& be = cuda_backend();
  dispatch_float(t.dtype(), [&](auto z) {
    using T = decltype(z);
    random_kernel<T><<<blocks_for(t.numel()), threads_per_block, 0, be.stream()>>>(ptr<T>(t), t.numel(), draw,
                                                                                   s.seed, s.offset, a, b);
  });
  check_launch("random");
}

}  // namespace

void CudaBackend::cast(const Tensor& src, Tensor& dst) {
  const OpTimer timer(*this, "cast");
  dispatch_any(src.dtype(), [&](auto s) {
    dispatch_any(dst.dtype(), [&](auto d) {
      using S = decltype(s);
      using D = decltype(d);
      cast_kernel<S, D><<<blocks_for(src.numel()), threads_per_block, 0, stream_>>>(ptr<S>(src), ptr<D>(dst),
                                                                                   src.numel());
    });
  });
  check_launch("cast");
}

void CudaBackend::fill(Tensor& t, double value) {
  const OpTimer timer(*this, "fill");
  if (t.numel() == 0) return;
  dispatch_any(t.dtype(), [&](auto z) {
    using T = decltype(z);
    fill_kernel<T><<<blocks_for(t.numel()), threads_per_block, 0, stream_>>>(ptr<T>(t), static_cast<T>(value),
                                                                            t.numel());
  });
  check_launch("fill");
}

void CudaBackend::random_uniform(Tensor& t, RandomStream s, double low, double high) {
  const OpTimer timer(*this, "random_uniform");
  random_fill(t, Draw::uniform, s, low, high);
}
void CudaBackend::random_normal(Tensor& t, RandomStream s, double mean, double stddev) {
  const OpTimer timer(*this, "random_normal");
  random_fill(t, Draw::normal, s, mean, stddev);
}
void CudaBackend::random_bernoulli(Tensor& t, RandomStream s, double p) {
  const OpTimer timer(*this, "random_bernoulli");
  random_fill(t, Draw::bernoulli, s, p, 0);
}

}  // namespace uniem::cuda
