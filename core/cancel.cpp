#include "core/cancel.h"

#include <signal.h>

#include <atomic>

namespace uniem {
namespace {

std::atomic<bool> asked{false};

void on_signal(int number) {
  if (asked.exchange(true)) {  // asked twice: end now, as the default action does
    ::signal(number, SIG_DFL);
    ::raise(number);
  }
}

}  // namespace

void cancel_on_signals() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void request_cancel() { asked = true; }

bool cancel_requested() { return asked.load(std::memory_order_relaxed); }

void check_cancelled() {
  if (cancel_requested()) throw Cancelled();
}

}  // namespace uniem
