// Cancelling long work cleanly: Ctrl+C (SIGINT) or SIGTERM asks, the work stops at its next safe
// point by throwing Cancelled, and unwinding removes what it had half-written (io/atomic_output.h),
// so a cancelled command leaves no partial output. Training saves its resumable state first.
//
// Safe points: every Progress::advance (core/progress.h), so every operation that shows progress
// can be cancelled, and each training step. A second Ctrl+C ends the process at once (temporaries
// it leaves are removed by the next command that writes there).
#pragma once

#include <string>

#include "core/error.h"

namespace uniem {

// Thrown at a safe point once cancelling was asked. The message says what was kept, if anything.
class Cancelled : public Error {
 public:
  explicit Cancelled(const std::string& what = "cancelled") : Error(what) {}
};

// SIGINT and SIGTERM ask to cancel (the first time, saying so on stderr; the second ends the
// process). A signal the process was started to ignore stays ignored.
void cancel_on_signals();
void request_cancel();
bool cancel_requested();
// Throws Cancelled when cancelling was asked.
void check_cancelled();
// The exit status of a cancelled command: 128 + the signal (130 for Ctrl+C, 143 for SIGTERM).
int cancel_exit_code();

}  // namespace uniem
