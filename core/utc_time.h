// A moment as UTC in ISO 8601, "2026-12-07T12:00:00Z" (or with milliseconds, "...00.123Z"): how
// run records, fingerprints, the job queue and the workbench's data list write times.
#pragma once

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>

namespace uniem {

inline std::string utc_time(std::chrono::system_clock::time_point t, bool milliseconds = false) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  if (milliseconds) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
    n += static_cast<size_t>(std::snprintf(text + n, sizeof text - n, ".%03d", static_cast<int>(ms)));
  }
  std::snprintf(text + n, sizeof text - n, "Z");
  return text;
}

// A file's modification time, the same way.
inline std::string utc_time(std::filesystem::file_time_type t) {
  return utc_time(std::chrono::time_point_cast<std::chrono::system_clock::duration>(std::chrono::file_clock::to_sys(t)));
}

}  // namespace uniem
