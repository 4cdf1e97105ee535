// Helpers shared by the tests: scratch folders that clean up after themselves, running the real
// uniem binary, and comparing volumes.
#pragma once

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>

#include "core/error.h"
#include "core/image/volume.h"

namespace uniem::test {

// A fresh folder under the system's temporary directory, removed at the end of the scope.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "uniem-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (tag + "-XXXXXX")).string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs the uniem binary with a shell-quoted argument string, after `environment` (NAME=value ...).
inline RunResult run_uniem(const std::string& arguments, const std::string& environment = "") {
  const std::string command = environment + " '" + UNIEM_BINARY + "' " + arguments + " 2>&1";
  RunResult r;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer{};
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) r.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string quote(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

inline bool same_voxels(const Volume& a, const Volume& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.channels() == b.channels() &&
         std::equal(a.raw(), a.raw() + a.bytes(), b.raw());
}

// A volume of `dtype` filled with a pattern that uses the type's whole range.
inline Volume pattern_volume(DType dtype, int64_t nz, int64_t ny, int64_t nx, int64_t channels = 1) {
  Volume v(dtype, nz, ny, nx, channels);
  visit_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    T* d = v.data<T>();
    for (int64_t i = 0; i < v.elements(); ++i) {
      const uint64_t h = static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL;
      if constexpr (std::is_floating_point_v<T>) d[i] = static_cast<T>(static_cast<double>(h >> 40) / 1024.0 - 3000.5);
      else d[i] = static_cast<T>(h >> (64 - 8 * sizeof(T)));
    }
  });
  return v;
}

// The message of the InputError that fn throws, or "no error".
template <class F>
std::string input_error_message(F&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

inline void write_text(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }
// The whole file, as bytes ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace uniem::test
