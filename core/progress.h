// A progress line for long operations, on stderr.
//
// Shown unless progress is silenced (--quiet). On a terminal: a bar redrawn at most ten times a
// second once the operation has run for more than one second, so quick commands never flicker,
// and cleared when the Progress ends. Into a file or pipe (a job left running with its output in
// a log): a plain line every 30 seconds, only for operations that last that long. advance() may
// be called from any thread; it is a safe point for cancelling (core/cancel.h) and throws
// Cancelled once Ctrl+C was pressed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace uniem {

void set_progress_enabled(bool enabled);

// "45 s", "12 min", "3.5 h": a time left or taken, for progress and log lines.
std::string format_duration(double seconds);
bool progress_enabled();

class Progress {
 public:
  Progress(std::string label, int64_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t n = 1);

 private:
  void draw(int64_t done);

  std::string label_;
  int64_t total_;
  std::atomic<int64_t> done_{0};
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex draw_mutex_;
  bool drawn_ = false;
  bool active_;
  bool terminal_;
};

}  // namespace uniem
