// The cluster options of the commands that can be cut into block tasks (apps/cluster/block_tasks.h)
// and what they do: --cluster local starts --workers processes of `uniem worker` on this computer
// and waits for them; --cluster slurm submits them to Slurm (apps/cluster/slurm.h) and, with
// --wait, follows the queue until it is done; --cluster kubernetes writes a Job manifest. The queue
// folder (--queue, by default OUT.queue beside the output) keeps the plan, the workers' logs and
// what `uniem status` reads.
#pragma once

#include <optional>
#include <string>

#include "apps/cli.h"
#include "io/task_queue.h"

namespace uniem::apps {

// Declares --cluster, --workers, --queue, --block-sections, --lease, --partition, --time,
// --account and --wait on `command` (advanced options).
void add_cluster_options(cli::Command& command);

// Whether `name` is one of those options (left out of the arguments the workers get).
bool is_cluster_option(const std::string& name);

// Runs the command through a queue when --cluster was given (its exit status); nullopt otherwise.
std::optional<int> run_on_cluster(const cli::Command& command, const cli::Args& args);

// What `uniem status` prints: each phase's tasks done, running (stragglers named), failed (the
// block, the message and the log file).
std::string queue_report(const TaskQueue& queue, const QueueStatus& status);

}  // namespace uniem::apps
