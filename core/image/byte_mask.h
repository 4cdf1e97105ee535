// Which of 64 bytes are nonzero, as the bits of a word: the way uniem's row scans skip what is
// empty and visit the rest by bit scans (std::countr_zero), with no branch per byte.
#pragma once

#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace uniem {

// Bit i is set where p[i] != 0; p must have 64 readable bytes. Four 16-byte compares and
// movemasks (GCC does not find them itself); a loop where SSE2 is missing.
inline uint64_t nonzero_mask(const uint8_t* p) {
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  uint64_t zeros = 0;
  for (int i = 0; i < 4; ++i) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    zeros |= static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)))) << (16 * i);
  }
  return ~zeros;
#else
  uint64_t m = 0;
  for (int i = 0; i < 64; ++i) m |= static_cast<uint64_t>(p[i] != 0) << i;
  return m;
#endif
}

}  // namespace uniem
