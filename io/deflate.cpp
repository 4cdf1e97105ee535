// Huffman-only DEFLATE: see deflate.h. Section numbers are RFC 1951's.
#include "io/deflate.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>
#include <vector>

#include "core/error.h"

namespace uniem {
namespace {

constexpr size_t block_bytes = 128 * 1024;
constexpr int literal_symbols = 257;  // 0-255 and end-of-block (256); no lengths: nothing is matched

// Code lengths (at most max_bits) of a Huffman code for the symbols with a non-zero count; others
// get 0. The two-queue construction over leaves sorted by count; when the tree is deeper than
// max_bits the counts are halved (a count stays >= 1) and the tree is built again, which gives
// up a little compression only for very skewed data. A lone symbol gets a partner so that the
// code is complete (inflaters may refuse incomplete codes).
void huffman_lengths(const uint32_t* count, int n, int max_bits, uint8_t* lengths) {
  std::vector<uint64_t> weight(count, count + n);
  std::fill(lengths, lengths + n, 0);
  std::vector<int> leaves;
  for (int s = 0; s < n; ++s)
    if (weight[static_cast<size_t>(s)] > 0) leaves.push_back(s);
  if (leaves.empty()) return;
  if (leaves.size() == 1) {
    lengths[leaves[0]] = 1;
    lengths[leaves[0] == 0 ? 1 : 0] = 1;
    return;
  }
  const int m = static_cast<int>(leaves.size());
  std::vector<uint64_t> node_weight(static_cast<size_t>(2 * m - 1));
  std::vector<int> parent(static_cast<size_t>(2 * m - 1)), depth(static_cast<size_t>(2 * m - 1));
  for (;;) {
    std::sort(leaves.begin(), leaves.end(), [&](int a, int b) {
      const uint64_t wa = weight[static_cast<size_t>(a)], wb = weight[static_cast<size_t>(b)];
      return wa != wb ? wa < wb : a < b;
    });
    // Nodes 0..m-1 are the sorted leaves, m.. the internal nodes in the order they are made.
    for (int i = 0; i < m; ++i) node_weight[static_cast<size_t>(i)] = weight[static_cast<size_t>(leaves[static_cast<size_t>(i)])];
    int next_leaf = 0, next_internal = m, made = m;
    auto take = [&] {
      const bool leaf = next_leaf < m && (next_internal == made || node_weight[static_cast<size_t>(next_leaf)] <=
                                                                       node_weight[static_cast<size_t>(next_internal)]);
      return leaf ? next_leaf++ : next_internal++;
    };
    while (made < 2 * m - 1) {
      const int a = take(), b = take();
      node_weight[static_cast<size_t>(made)] = node_weight[static_cast<size_t>(a)] + node_weight[static_cast<size_t>(b)];
      parent[static_cast<size_t>(a)] = parent[static_cast<size_t>(b)] = made;
      ++made;
    }
    depth[static_cast<size_t>(2 * m - 2)] = 0;
    int deepest = 0;
    for (int i = 2 * m - 3; i >= 0; --i) {
      depth[static_cast<size_t>(i)] = depth[static_cast<size_t>(parent[static_cast<size_t>(i)])] + 1;
      if (i < m) deepest = std::max(deepest, depth[static_cast<size_t>(i)]);
    }
    if (deepest <= max_bits) break;
    for (int s : leaves) weight[static_cast<size_t>(s)] = (weight[static_cast<size_t>(s)] + 1) / 2;
  }
  for (int i = 0; i < m; ++i) lengths[leaves[static_cast<size_t>(i)]] = static_cast<uint8_t>(depth[static_cast<size_t>(i)]);
}

// Canonical codes (3.2.2), bit-reversed because DEFLATE sends Huffman codes most significant bit
// first into a stream that is otherwise filled from the least significant bit.
void canonical_codes(const uint8_t* lengths, int n, uint16_t* codes) {
  std::array<int, 16> per_length{};
  for (int s = 0; s < n; ++s) ++per_length[lengths[s]];
  per_length[0] = 0;
  std::array<int, 16> next{};
  for (int bits = 1, code = 0; bits < 16; ++bits) {
    code = (code + per_length[static_cast<size_t>(bits - 1)]) << 1;
    next[static_cast<size_t>(bits)] = code;
  }
  for (int s = 0; s < n; ++s) {
    const int len = lengths[s];
    if (!len) continue;
    const int code = next[static_cast<size_t>(len)]++;
    int reversed = 0;
    for (int b = 0; b < len; ++b) reversed |= ((code >> b) & 1) << (len - 1 - b);
    codes[s] = static_cast<uint16_t>(reversed);
  }
}

// Bits into bytes, least significant first. Writes 8 bytes at a time: the buffer needs 8 bytes
// of slack past what it will keep.
struct BitWriter {
  uint8_t* p;
  uint64_t buffer = 0;
  int bits = 0;
  void put(uint64_t value, int n) {  // n <= 32
    buffer |= value << bits;
    bits += n;
    drain();
  }
  void drain() {
    std::memcpy(p, &buffer, 8);
    p += bits >> 3;
    buffer >>= bits & ~7;
    bits &= 7;
  }
  void align() {
    if (bits) put(0, 8 - bits);
  }
};

// A token of the code-length sequence (3.2.7): 0-15 a length, 16 repeat the previous 3-6 times,
// 17 zeros 3-10 times, 18 zeros 11-138 times; `extra` holds the repeat count's extra bits.
struct LengthToken {
  uint8_t symbol, extra;
};

std::vector<LengthToken> length_tokens(const uint8_t* lengths, int n) {
  std::vector<LengthToken> tokens;
  for (int i = 0; i < n;) {
    int run = 1;
    while (i + run < n && lengths[i + run] == lengths[i]) ++run;
    const uint8_t len = lengths[i];
    i += run;
    if (len == 0) {
      while (run >= 11) {
        const int r = std::min(run, 138);
        tokens.push_back({18, static_cast<uint8_t>(r - 11)});
        run -= r;
      }
      if (run >= 3) {
        tokens.push_back({17, static_cast<uint8_t>(run - 3)});
        run = 0;
      }
      while (run-- > 0) tokens.push_back({0, 0});
    } else {
      tokens.push_back({len, 0});
      --run;
      while (run >= 3) {
        const int r = std::min(run, 6);
        tokens.push_back({16, static_cast<uint8_t>(r - 3)});
        run -= r;
      }
      while (run-- > 0) tokens.push_back({len, 0});
    }
  }
  return tokens;
}

constexpr std::array<int, 19> length_order{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
constexpr std::array<int, 19> token_extra_bits{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7};

void stored_blocks(const uint8_t* data, size_t n, bool last, BitWriter& w) {
  do {
    const size_t len = std::min<size_t>(n, 65535);
    w.put(last && len == n ? 1 : 0, 1);
    w.put(0, 2);
    w.align();
    w.put(len | ((len ^ 0xffff) << 16), 32);
    if (len) std::memcpy(w.p, data, len);
    w.p += len;
    data += len;
    n -= len;
  } while (n > 0);
}

void block(const uint8_t* data, size_t n, bool last, BitWriter& w) {
  std::array<uint32_t, 4 * 256> partial{};  // four histograms: no store-to-load stalls on runs
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    ++partial[data[i]];
    ++partial[256 + data[i + 1]];
    ++partial[512 + data[i + 2]];
    ++partial[768 + data[i + 3]];
  }
  for (; i < n; ++i) ++partial[data[i]];
  std::array<uint32_t, literal_symbols> count{};
  for (int s = 0; s < 256; ++s)
    count[static_cast<size_t>(s)] = partial[static_cast<size_t>(s)] + partial[256 + static_cast<size_t>(s)] +
                                    partial[512 + static_cast<size_t>(s)] + partial[768 + static_cast<size_t>(s)];
  count[256] = 1;

  // Literal/length lengths, then two distance codes of one bit (a complete code; none is used).
  std::array<uint8_t, literal_symbols + 2> lengths{};
  huffman_lengths(count.data(), literal_symbols, 15, lengths.data());
  lengths[literal_symbols] = lengths[literal_symbols + 1] = 1;
  const std::vector<LengthToken> tokens = length_tokens(lengths.data(), literal_symbols + 2);
  std::array<uint32_t, 19> token_count{};
  for (const auto& t : tokens) ++token_count[t.symbol];
  std::array<uint8_t, 19> token_lengths{};
  huffman_lengths(token_count.data(), 19, 7, token_lengths.data());
  int order_count = 19;
  while (order_count > 4 && token_lengths[static_cast<size_t>(length_order[static_cast<size_t>(order_count - 1)])] == 0)
    --order_count;

  uint64_t huffman_bits = 3 + 5 + 5 + 4 + 3 * static_cast<uint64_t>(order_count);
  for (const auto& t : tokens) huffman_bits += token_lengths[t.symbol] + static_cast<uint64_t>(token_extra_bits[t.symbol]);
  for (int s = 0; s < literal_symbols; ++s) huffman_bits += static_cast<uint64_t>(count[static_cast<size_t>(s)]) * lengths[static_cast<size_t>(s)];
  const uint64_t stored_bits = 8 * (n + 5 * ((n + 65534) / 65535)) + 10;
  if (huffman_bits >= stored_bits) return stored_blocks(data, n, last, w);

  std::array<uint16_t, 19> token_codes{};
  canonical_codes(token_lengths.data(), 19, token_codes.data());
  std::array<uint16_t, literal_symbols> codes{};
  canonical_codes(lengths.data(), literal_symbols, codes.data());

  w.put(last ? 1 : 0, 1);
  w.put(2, 2);  // dynamic Huffman codes
  w.put(literal_symbols - 257, 5);
  w.put(2 - 1, 5);
  w.put(static_cast<uint64_t>(order_count - 4), 4);
  for (int k = 0; k < order_count; ++k) w.put(token_lengths[static_cast<size_t>(length_order[static_cast<size_t>(k)])], 3);
  for (const auto& t : tokens) {
    w.put(token_codes[t.symbol], token_lengths[t.symbol]);
    if (token_extra_bits[t.symbol]) w.put(t.extra, token_extra_bits[t.symbol]);
  }

  // The data: three codes of at most 15 bits between drains (7 + 45 bits fit the buffer).
  std::array<uint32_t, 256> table;  // code | length << 16
  for (int s = 0; s < 256; ++s)
    table[static_cast<size_t>(s)] = codes[static_cast<size_t>(s)] | static_cast<uint32_t>(lengths[static_cast<size_t>(s)]) << 16;
  uint8_t* p = w.p;
  uint64_t buffer = w.buffer;
  int bits = w.bits;
  auto add = [&](uint8_t v) {
    const uint32_t e = table[v];
    buffer |= static_cast<uint64_t>(e & 0xffff) << bits;
    bits += static_cast<int>(e >> 16);
  };
  auto drain = [&] {
    std::memcpy(p, &buffer, 8);
    p += bits >> 3;
    buffer >>= bits & ~7;
    bits &= 7;
  };
  i = 0;
  for (; i + 3 <= n; i += 3) {
    add(data[i]);
    add(data[i + 1]);
    add(data[i + 2]);
    drain();
  }
  for (; i < n; ++i) {
    add(data[i]);
    drain();
  }
  w.p = p;
  w.buffer = buffer;
  w.bits = bits;
  w.put(codes[256], lengths[256]);
}

}  // namespace

void zlib_huffman_only(const uint8_t* data, size_t n, std::string& out) {
  const size_t blocks = (n + block_bytes - 1) / block_bytes;
  const size_t start = out.size();
  // Stored blocks bound the size: 5 bytes per 64 KiB; plus headers, the trailer and writer slack.
  out.resize(start + 2 + n + 5 * (n / 65535 + 2 * blocks + 1) + 32);
  uint8_t* begin = reinterpret_cast<uint8_t*>(out.data());
  begin[start] = 0x78;  // deflate, 32 KiB window
  begin[start + 1] = 0x01;  // fastest; (0x78 << 8 | 0x01) % 31 == 0
  BitWriter w{begin + start + 2};
  if (n == 0) stored_blocks(data, 0, true, w);
  for (size_t b = 0; b < blocks; ++b) {
    const size_t from = b * block_bytes, len = std::min(block_bytes, n - from);
    block(data + from, len, b + 1 == blocks, w);
  }
  w.align();
  const uint32_t adler = static_cast<uint32_t>(adler32_z(1, data, n));
  for (int k = 3; k >= 0; --k) *w.p++ = static_cast<uint8_t>(adler >> (8 * k));
  const size_t written = static_cast<size_t>(w.p - begin);
  UNIEM_CHECK(written + 8 <= out.size(), "zlib_huffman_only: output bound exceeded");
  out.resize(written);
}

}  // namespace uniem
