#include "core/storage.h"

#include <sys/mman.h>

#include <cstring>
#include <new>

namespace uniem {
namespace {

constexpr std::align_val_t heap_alignment{64};
constexpr size_t mapping_threshold = size_t{4} << 20;

std::byte* allocate(size_t n, bool zeroed) {
  if (n >= mapping_threshold) {
    void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    madvise(p, n, MADV_HUGEPAGE);  // advice only: ignored where huge pages are off
    return static_cast<std::byte*>(p);
  }
  auto* p = static_cast<std::byte*>(::operator new[](n == 0 ? 1 : n, heap_alignment));
  if (zeroed) std::memset(p, 0, n);
  return p;
}

std::byte* allocate_zeroed(size_t n) { return allocate(n, true); }

}  // namespace

std::unique_ptr<std::byte[], StorageDeleter> allocate_zeroed_storage(size_t bytes) {
  return std::unique_ptr<std::byte[], StorageDeleter>(allocate_zeroed(bytes), StorageDeleter{bytes});
}

std::byte* allocate_storage(size_t bytes) { return allocate(bytes, false); }

void StorageDeleter::operator()(std::byte* p) const {
  if (bytes >= mapping_threshold) munmap(p, bytes);
  else ::operator delete[](p, heap_alignment);
}

}  // namespace uniem
