// A worker of a task queue (io/task_queue.h): `uniem worker QUEUE`, started by hand, by
// `--cluster local` (several on this computer) or by Slurm (one per array task).
//
// It takes the queue's tasks one at a time (apps/cluster/block_tasks.h runs them), touching its
// lease while it works, and gives back the leases that others left to expire. It stops with 0
// when every task up to its last phase is done, with 1 when a task failed (the failure, with the
// block and the log file, is in the queue for `uniem status`), and on Ctrl+C gives its task back.
// What it does goes to QUEUE/logs/HOST-PID.log.
#pragma once

#include <filesystem>
#include <limits>

namespace uniem::apps {

struct WorkerOptions {
  int last_phase = std::numeric_limits<int>::max();  // stop after this phase (a Slurm stage)
  double poll_seconds = 2;  // how often, at most, a waiting worker looks again (from 20 ms, doubling)
};

int work_on_queue(const std::filesystem::path& queue, const WorkerOptions& options);

}  // namespace uniem::apps
