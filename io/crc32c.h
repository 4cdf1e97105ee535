// CRC-32C (Castagnoli), the checksum of TensorFlow checkpoints (io/tf_checkpoint.h) and of Zarr
// version 3's crc32c codec (io/zarr.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace uniem {

uint32_t crc32c(const void* data, size_t size);

}  // namespace uniem
