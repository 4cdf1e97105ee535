// SHA-256 (FIPS 180-4), for the checksums of run records (apps/jobs/runner.h): feed bytes with
// update(), read the digest once with hex(). Written from the standard; checked against its test
// vectors in tests/io/test_fingerprint.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace uniem {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(const std::string& s) { update(s.data(), s.size()); }
  std::array<uint8_t, 32> digest();  // ends the hash; call once
  std::string hex();                 // digest() as 64 lowercase hexadecimal digits

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes
};

}  // namespace uniem
