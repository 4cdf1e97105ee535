// Memory for large arrays: volumes' voxels, tensors' storage, working arrays of algorithms.
//
// Small blocks come from the heap, 64-byte aligned (whole cache lines, aligned vector loads).
// Large ones (4 MiB and more) are anonymous mappings: the kernel hands them out already zero, so
// no memset touches every page first, and transparent huge pages cut page faults 512-fold (a
// 100 MiB stack in bench/io: allocating took 78 ms with new + memset, reading it 40 ms);
// algorithms that jump around a whole volume's worth of memory (the watershed flood) also lose
// far less time to TLB misses. Below both the image library and the tensor runtime.
#pragma once

#include <cstddef>
#include <memory>

namespace uniem {

// Frees a block from allocate_storage: heap or mapping, by size.
struct StorageDeleter {
  size_t bytes = 0;
  void operator()(std::byte* p) const;
};

// Zeroed memory of `bytes`.
std::unique_ptr<std::byte[], StorageDeleter> allocate_zeroed_storage(size_t bytes);
// The same allocation, not zeroed where the heap serves it; freed by StorageDeleter{bytes}.
std::byte* allocate_storage(size_t bytes);

// A zeroed working array of trivially copyable T in such memory.
template <class T>
class ZeroedArray {
 public:
  explicit ZeroedArray(size_t n) : data_(allocate_zeroed_storage(n * sizeof(T))), n_(n) {}
  T& operator[](size_t i) { return reinterpret_cast<T*>(data_.get())[i]; }
  const T& operator[](size_t i) const { return reinterpret_cast<const T*>(data_.get())[i]; }
  size_t size() const { return n_; }

 private:
  std::unique_ptr<std::byte[], StorageDeleter> data_;
  size_t n_;
};

}  // namespace uniem
