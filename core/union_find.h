// Union-find (disjoint sets) whose root is always the smallest member: joined sets keep the id of
// their first element, which is what numbering components in raster order needs (connected
// components, components joined across slabs, regions joined across overlaps). Path halving.
#pragma once

#include <cstddef>
#include <vector>

namespace uniem {

template <class Index>
class UnionFind {
 public:
  explicit UnionFind(size_t n = 0) { grow(n); }
  size_t size() const { return parent_.size(); }
  // Adds elements up to n - 1, each a set of its own.
  void grow(size_t n) {
    for (size_t i = parent_.size(); i < n; ++i) parent_.push_back(static_cast<Index>(i));
  }
  Index find(Index i) {
    while (parent_[static_cast<size_t>(i)] != i) {
      parent_[static_cast<size_t>(i)] = parent_[static_cast<size_t>(parent_[static_cast<size_t>(i)])];
      i = parent_[static_cast<size_t>(i)];
    }
    return i;
  }
  void join(Index a, Index b) {
    a = find(a), b = find(b);
    if (a < b) parent_[static_cast<size_t>(b)] = a;
    else if (b < a) parent_[static_cast<size_t>(a)] = b;
  }

 private:
  std::vector<Index> parent_;
};

}  // namespace uniem
