// Mirrored borders, as scipy.ndimage's "reflect" mode: index -1 reads 0, -2 reads 1, n reads n-1
// (d c b a | a b c d | d c b a). Every filter that looks past the volume's edge uses this.
#pragma once

#include <cstdint>

namespace uniem {

inline int64_t reflect(int64_t i, int64_t n) {
  if (n == 1) return 0;
  const int64_t period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}

}  // namespace uniem
