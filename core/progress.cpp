#include "core/progress.h"

#include "core/cancel.h"

#include <unistd.h>

#include <cstdio>

namespace uniem {
namespace {
std::atomic<bool> enabled{true};
}

void set_progress_enabled(bool e) { enabled.store(e); }
bool progress_enabled() { return enabled.load(); }

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
      active_(enabled.load() && total > 0),
      terminal_(isatty(STDERR_FILENO) != 0) {}

Progress::~Progress() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
}

void Progress::advance(int64_t n) {
  check_cancelled();  // a safe point of every operation that shows progress
  const int64_t done = done_.fetch_add(n) + n;
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  // A terminal gets a redrawn bar; a log file a plain line every 30 s of a long job.
  const auto pause = terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(30000);
  if (now - start_ < (terminal_ ? std::chrono::seconds(1) : std::chrono::seconds(30)) || now - last_draw_ < pause) return;
  std::unique_lock lock(draw_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  last_draw_ = now;
  draw(done);
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
