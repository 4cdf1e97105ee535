#include "core/cancel.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace uniem {
namespace {

std::atomic<int> asked{0};  // the signal that asked, or -1 for request_cancel()
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");

void on_signal(int number) {
  if (asked.exchange(number) != 0) {  // asked twice: end now, as the default action does
    ::signal(number, SIG_DFL);
    ::raise(number);
    return;
  }
  static const char message[] = "\nuniem: stopping at the next safe point (press Ctrl+C again to end at once)\n";
  (void)!::write(2, message, sizeof message - 1);  // async-signal-safe
}

}  // namespace

void cancel_on_signals() {
  for (int number : {SIGINT, SIGTERM}) {
    struct sigaction old {};
    sigaction(number, nullptr, &old);
    if (old.sa_handler == SIG_IGN) continue;  // started to ignore it (a background job): keep ignoring
    struct sigaction action {};
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;  // reads and syncs carry on; the work stops at its safe point
    sigemptyset(&action.sa_mask);
    sigaction(number, &action, nullptr);
  }
}

void request_cancel() {
  int none = 0;
  asked.compare_exchange_strong(none, -1);
}

bool cancel_requested() { return asked.load(std::memory_order_relaxed) != 0; }

int cancel_exit_code() {
  const int number = asked.load();
  return number > 0 ? 128 + number : 130;
}

void check_cancelled() {
  if (cancel_requested()) throw Cancelled();
}

}  // namespace uniem
