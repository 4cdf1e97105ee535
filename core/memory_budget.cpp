#include "core/memory_budget.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace uniem {
namespace {

int64_t default_budget() {
  static const int64_t budget = [] {
    if (const char* env = std::getenv("UNIEM_MEMORY")) {
      const long long mb = std::atoll(env);
      if (mb > 0) return static_cast<int64_t>(mb) << 20;
    }
    const int64_t ram = physical_memory();
    return ram > 0 ? ram / 2 : int64_t{4} << 30;  // unknown RAM: 4 GiB
  }();
  return budget;
}

std::atomic<int64_t> requested_budget{0};

}  // namespace

int64_t physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<int64_t>(pages) * page_size;
}

int64_t memory_budget() {
  const int64_t requested = requested_budget.load();
  return requested > 0 ? requested : default_budget();
}

void set_memory_budget(int64_t bytes) { requested_budget.store(bytes > 0 ? bytes : 0); }

std::string format_bytes(double bytes) {
  char text[64];
  if (bytes >= 1024.0 * 1024 * 1024) std::snprintf(text, sizeof text, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  else if (bytes >= 1024.0 * 1024) std::snprintf(text, sizeof text, "%.0f MiB", bytes / (1024.0 * 1024));
  else if (bytes >= 1024.0) std::snprintf(text, sizeof text, "%.0f KiB", bytes / 1024.0);
  else std::snprintf(text, sizeof text, "%.0f bytes", bytes);
  return text;
}

void check_memory_budget(const std::filesystem::path& source, const std::string& announces, double bytes,
                         const std::string& as, const std::string& remedy) {
  const int64_t limit = memory_budget();
  if (bytes <= static_cast<double>(limit)) return;
  throw InputError(source, announces + " (" + format_bytes(bytes) + " as " + as + "), more than the memory limit of " +
                               format_bytes(static_cast<double>(limit)) + "; give more with --memory MB, or " + remedy);
}

}  // namespace uniem
