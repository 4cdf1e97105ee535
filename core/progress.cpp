#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "core/cancel.h"

namespace uniem {
namespace {
std::atomic<ProgressStyle> style{ProgressStyle::bar};
std::mutex event_mutex;  // whole lines, also from several threads
std::function<void(const std::string&)> observer;  // under event_mutex
}  // namespace

void set_progress_observer(std::function<void(const std::string&)> o) {
  std::lock_guard<std::mutex> lock(event_mutex);
  observer = std::move(o);
}

void set_progress_style(ProgressStyle s) { style.store(s); }
ProgressStyle progress_style() { return style.load(); }
void set_progress_enabled(bool e) { style.store(e ? ProgressStyle::bar : ProgressStyle::off); }
bool progress_enabled() { return style.load() != ProgressStyle::off; }

void progress_event(const std::string& json_object) {
  // Each event says when it was made (seconds since 1970, UTC), so a program can tell how late it came.
  std::string line = json_object;
  if (line.size() > 2 && line.back() == '}') {
    char time[48];
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::snprintf(time, sizeof time, ",\"time\":%.3f}", now);
    line.pop_back();
    line += time;
  }
  std::lock_guard<std::mutex> lock(event_mutex);
  if (observer) observer(line);
  if (style.load() != ProgressStyle::json) return;
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

std::string format_duration(double seconds) {
  char s[32];
  if (seconds < 90) std::snprintf(s, sizeof s, "%.0f s", seconds);
  else if (seconds < 5400) std::snprintf(s, sizeof s, "%.0f min", seconds / 60);
  else std::snprintf(s, sizeof s, "%.1f h", seconds / 3600);
  return s;
}

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(total),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_),
      active_(style.load() != ProgressStyle::off && total > 0),
      json_(style.load() == ProgressStyle::json),
      terminal_(!json_ && isatty(STDERR_FILENO) != 0) {}

Progress::~Progress() {
  if (active_ && json_) event(done_.load(), true);
  if (drawn_) std::fprintf(stderr, "\r\033[K");
}

void Progress::advance(int64_t n) {
  check_cancelled();  // a safe point of every operation that shows progress
  const int64_t done = done_.fetch_add(n) + n;
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  if (json_) {  // at most ten lines a second, from the start
    if (now - last_draw_ < std::chrono::milliseconds(100) && done != n) return;
    std::unique_lock lock(draw_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    last_draw_ = now;
    event(done, false);
    return;
  }
  // A terminal gets a redrawn bar; a log file a plain line every 30 s of a long job.
  const auto pause = terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(30000);
  if (now - start_ < (terminal_ ? std::chrono::seconds(1) : std::chrono::seconds(30)) || now - last_draw_ < pause) return;
  std::unique_lock lock(draw_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  last_draw_ = now;
  draw(done);
}

void Progress::event(int64_t done, bool end) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(std::max<int64_t>(total_ - done, 0)) / rate : 0;
  std::string phase;
  for (char c : label_) {  // a label is plain text; quotes and backslashes escaped all the same
    if (c == '"' || c == '\\') phase.push_back('\\');
    phase.push_back(c);
  }
  char line[512];
  std::snprintf(line, sizeof line,
                "{\"event\":\"progress\",\"phase\":\"%s\",\"done\":%lld,\"total\":%lld,\"rate\":%.3g,\"eta_seconds\":%.3g%s}",
                phase.c_str(), static_cast<long long>(done), static_cast<long long>(total_), rate, eta, end ? ",\"end\":true" : "");
  progress_event(line);
}

void Progress::draw(int64_t done) {
  const double fraction = static_cast<double>(std::min(done, total_)) / static_cast<double>(total_);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
  constexpr int width = 30;
  const int filled = static_cast<int>(fraction * width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "%s%s [%s] %3d%%  %lld/%lld  %.0fs left%s", terminal_ ? "\r\033[K" : "", label_.c_str(), bar.c_str(),
               static_cast<int>(fraction * 100), static_cast<long long>(done), static_cast<long long>(total_), eta,
               terminal_ ? "" : "\n");
  std::fflush(stderr);
  drawn_ = terminal_;
}

}  // namespace uniem
