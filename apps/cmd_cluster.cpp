// uniem worker and uniem status: the two commands of a cluster run's queue (apps/cluster/).
#include <cstdio>

#include "apps/cli.h"
#include "apps/cluster/cluster_run.h"
#include "apps/cluster/worker.h"
#include "apps/commands.h"
#include "io/task_queue.h"

namespace uniem::apps {

cli::Command worker_command() {
  cli::Command command(
      "worker", "do the block tasks of a queue made by a --cluster run",
      "Takes the tasks of QUEUE one at a time and does them, until every task is done. Start as many\n"
      "as you like, on this computer or on any computer that sees QUEUE at the same path (Slurm\n"
      "starts them for --cluster slurm). A worker that is killed loses nothing: its task goes back\n"
      "to the queue when its lease runs out (--lease of the run, 10 min by default) and another\n"
      "worker does it again. Its log is QUEUE/logs/HOST-PID.log. Exit status 0 when every task is\n"
      "done, 1 when a task failed (uniem status QUEUE says which block and why).",
      "  uniem label big.zarr objects.zarr --cluster kubernetes --workers 8\n"
      "  uniem worker objects.zarr.queue");
  command.positional("QUEUE", "the queue folder (OUT.queue, or --queue of the run)").input()
      .option("last-phase", "P", "stop once phases 0..P are done (a stage of a Slurm run)")
      .integer(0, {})
      .advanced()
      .flag("retry", "put the failed tasks back into the queue first (after fixing their cause)");
  return command;
}

int run_worker(const cli::Args& args) {
  const TaskQueue queue(args.positional(0));
  if (args.has("retry")) {
    const int64_t n = queue.retry_failed();
    std::printf("%lld failed task%s back in the queue.\n", static_cast<long long>(n), n == 1 ? "" : "s");
  }
  WorkerOptions o;
  if (args.has("last-phase")) o.last_phase = static_cast<int>(args.integer("last-phase"));
  return work_on_queue(queue.folder(), o);
}

cli::Command status_command() {
  cli::Command command(
      "status", "show how far a --cluster run has come",
      "Prints, for each phase of QUEUE's run, the tasks done, running and waiting, the median time\n"
      "of a task, the tasks running much longer than the others (stragglers) or whose worker fell\n"
      "silent, and every failed task with its block, its message and the worker's log file.\n"
      "Exit status 0, or 1 when a task failed.",
      "  uniem status objects.zarr.queue");
  command.positional("QUEUE", "the queue folder (OUT.queue, or --queue of the run)").input();
  return command;
}

int run_status(const cli::Args& args) {
  const TaskQueue queue(args.positional(0));
  const QueueStatus s = queue.status();
  std::printf("%s", queue_report(queue, s).c_str());
  return s.failures.empty() ? 0 : 1;
}

}  // namespace uniem::apps
