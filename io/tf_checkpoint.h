// Reading TensorFlow 1 checkpoints (the "tensor bundle" format) without TensorFlow.
//
// A checkpoint PREFIX is two or more files: PREFIX.index, a LevelDB-style sorted table (data
// blocks of prefix-compressed keys with restart points, an index block, a 48-byte footer ending
// in the magic 0xdb4775248b80fb57), and PREFIX.data-NNNNN-of-MMMMM shards holding the raw
// little-endian tensor values. The table maps "" to a BundleHeaderProto (number of shards,
// endianness) and each tensor name to a BundleEntryProto (dtype, shape, shard, offset, size,
// CRC-32C of the bytes); both small protobuf messages are decoded here by hand.
//
// Every check says which file is wrong and how: a missing shard, a truncated table or data file,
// a bad magic, a compressed block (TensorFlow writes bundles uncompressed), a checksum mismatch,
// a sliced (partitioned) variable, a dtype other than float32/float64/int32/int64.
#pragma once

#include "io/crc32c.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace uniem {

struct TfTensor {
  std::string dtype;             // "float32", "float64", "int32", "int64"
  std::vector<int64_t> shape;
  std::vector<double> values;    // row-major, converted to double
};

// `path`: the prefix ("model.ckpt-27465036"), its .index file, or a folder holding exactly one
// .index file. Returns every tensor by name.
std::map<std::string, TfTensor> read_tf_checkpoint(const std::filesystem::path& path);

// LevelDB's masked form of a CRC-32C (io/crc32c.h).
uint32_t crc32c_mask(uint32_t crc);

}  // namespace uniem
