// Errors, in three tiers.
//
// 1. Invariant violations (a bug in uniem): UNIEM_CHECK(cond, msg) prints file:line and aborts.
// 2. CUDA, cuBLAS and cuDNN calls: checked by the macro in cuda/check.h.
// 3. User-facing failures: a bad file, a bad option, a refused request. They throw a typed exception;
//    apps/ turns it into one line on stderr and an exit code, web/ into a 4xx with a JSON body.
//    Messages name the file or option and, where one exists, the fix.
//      InputError  - the data cannot be used as asked (missing, corrupt, wrong size...)  -> exit 1
//      UsageError  - the command line is wrong (unknown option, bad number...)           -> exit 2
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace uniem {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InputError : public Error {
 public:
  using Error::Error;
  // "PATH: what" - the path as the user typed it.
  InputError(const std::filesystem::path& path, const std::string& what)
      : Error(path.string() + ": " + what) {}
};

class UsageError : public Error {
 public:
  using Error::Error;
};

[[noreturn]] void check_failed(const char* condition, const char* file, int line, const std::string& message);

}  // namespace uniem

#define UNIEM_CHECK(cond, msg)                                 \
  do {                                                         \
    if (!(cond)) ::uniem::check_failed(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
