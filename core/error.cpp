#include "core/error.h"

#include <cstdio>
#include <cstdlib>

namespace uniem {

void check_failed(const char* condition, const char* file, int line, const std::string& message) {
  std::fprintf(stderr, "uniem: internal error at %s:%d: %s (%s)\n", file, line, message.c_str(), condition);
  std::abort();
}

}  // namespace uniem
