// LZF-compressed HDF5 chunks (filter 32000, which h5py registers and writes with
// compression="lzf"; libhdf5 has no decoder of its own). Decoding only: uniem writes gzip.
//
// The LZF format (Marc Lehmann's liblzf, the format as its documentation describes it): a
// sequence of items, each starting with a control byte c.
//   c < 32:  a literal run: the next c + 1 bytes are copied as they are;
//   c >= 32: a back reference: length L = c >> 5 (when 7, plus the next byte), distance
//            D = ((c & 31) << 8) + next byte + 1; L + 2 bytes are copied from D bytes back in the
//            output (overlapping copies repeat the bytes, byte by byte).
// h5py stores the chunk's size in bytes as the filter's third parameter; without it the output
// buffer grows until the data fits. A chunk that LZF could not shrink is stored raw and skipped by
// libhdf5 (the filter is optional), so it never reaches this decoder.
#include <hdf5.h>

#include <algorithm>
#include <cstring>

namespace uniem {
namespace {

constexpr H5Z_filter_t lzf_filter = 32000;

// Decodes `in` into `out` (capacity `capacity`); the decoded size, or 0 when it does not fit or
// the data is malformed.
size_t lzf_decode(const unsigned char* in, size_t size, unsigned char* out, size_t capacity) {
  size_t i = 0, o = 0;
  while (i < size) {
    const unsigned c = in[i++];
    if (c < 32) {
      const size_t n = c + 1;
      if (i + n > size || o + n > capacity) return 0;
      std::memcpy(out + o, in + i, n);
      i += n, o += n;
    } else {
      size_t length = c >> 5;
      if (length == 7) {
        if (i >= size) return 0;
        length += in[i++];
      }
      if (i >= size) return 0;
      const size_t distance = ((c & 31u) << 8) + in[i++] + 1;
      length += 2;
      if (distance > o || o + length > capacity) return 0;
      for (size_t k = 0; k < length; ++k, ++o) out[o] = out[o - distance];
    }
  }
  return o;
}

size_t lzf_callback(unsigned flags, size_t parameters, const unsigned values[], size_t bytes, size_t* buffer_size, void** buffer) {
  if (!(flags & H5Z_FLAG_REVERSE)) return 0;  // no encoder: writing LZF fails, and uniem never asks it to
  size_t capacity = parameters >= 3 && values[2] > 0 ? values[2] : std::max<size_t>(*buffer_size, 1) * 4;
  for (int attempt = 0; attempt < 8; ++attempt, capacity *= 2) {
    auto* out = static_cast<unsigned char*>(H5allocate_memory(capacity, false));
    if (!out) return 0;
    const size_t n = lzf_decode(static_cast<const unsigned char*>(*buffer), bytes, out, capacity);
    if (n > 0) {
      H5free_memory(*buffer);
      *buffer = out;
      *buffer_size = capacity;
      return n;
    }
    H5free_memory(out);
    if (parameters >= 3 && values[2] > 0) return 0;  // the size was known: the data is malformed
  }
  return 0;
}

}  // namespace

void register_hdf5_lzf() {
  static const H5Z_class2_t lzf = {H5Z_CLASS_T_VERS, lzf_filter, 0, 1, "lzf (decoded by uniem)", nullptr, nullptr, lzf_callback};
  if (H5Zfilter_avail(lzf_filter) <= 0) H5Zregister(&lzf);
}

}  // namespace uniem
