// A progress line for long operations, on stderr, in one of three styles (--progress):
//   bar   what a person sees, described below (the default);
//   json  one JSON object a line, for programs (the workbench's job runner): at most ten a second
//         and one when the operation ends,
//           {"event":"progress","phase":"reading","done":12,"total":40,"rate":8.1,"eta_seconds":3.4}
//         (and "end":true on the last), and the metrics long work reports (progress_event():
//         {"event":"metrics","phase":"train2d","step":200,"loss":0.031,...}); every event ends
//         with "time", when it was made (seconds since 1970, UTC);
//   off   nothing (--quiet).
// In the bar style it is shown On a terminal: a bar redrawn at most ten times a
// second once the operation has run for more than one second, so quick commands never flicker,
// and cleared when the Progress ends. Into a file or pipe (a job left running with its output in
// a log): a plain line every 30 seconds, only for operations that last that long. advance() may
// be called from any thread; it is a safe point for cancelling (core/cancel.h) and throws
// Cancelled once Ctrl+C was pressed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace uniem {

enum class ProgressStyle { bar, json, off };
void set_progress_style(ProgressStyle style);
ProgressStyle progress_style();
void set_progress_enabled(bool enabled);  // bar or off
// In the json style, prints `json_object` (an object with "event" and "phase") as one line on
// stderr; nothing otherwise. In every style, hands it to the observer, if one is set.
void progress_event(const std::string& json_object);
// The job runner's ear (apps/jobs/runner.h): it keeps the metrics of each run for its record.
// Called under a lock, one event at a time; nullptr removes it.
void set_progress_observer(std::function<void(const std::string& json_object)> observer);

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
  void event(int64_t done, bool end);  // the json style's line

  std::string label_;
  int64_t total_;
  std::atomic<int64_t> done_{0};
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex draw_mutex_;
  bool drawn_ = false;
  bool active_;
  bool json_;
  bool terminal_;
};

}  // namespace uniem
