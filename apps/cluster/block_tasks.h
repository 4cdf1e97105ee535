// Commands cut into block tasks for a queue (io/task_queue.h), so that many workers, on this
// computer or on a cluster, do one command together with the result of a run in one process.
//
// `uniem label`: phase "components" labels each slab of sections and hands on its faces
// (io/blockwise_label.h slab_faces); "join", one task, joins the components across the faces and
// numbers them as a run on the whole volume does; "write" labels each slab again with its final
// ids; "finish" writes the slabs, in order, as OUT (any stack format, io/stack.h StackWriter).
// `uniem filter`: phase "filter" filters each slab with the margin its steps reach in z
// (io/blockwise_filter.h filter_sections); "finish" writes them as OUT.
// The plan keeps the command's own arguments (paths made absolute), so a worker parses them as the
// command line does.
#pragma once

#include <filesystem>
#include <string>

#include "apps/cli.h"
#include "io/task_queue.h"

namespace uniem::apps {

// Whether `command` can be cut into block tasks ("label", "filter").
bool has_block_tasks(const std::string& command);

// Makes the queue at `folder` for `command` run with `args` (the cluster options left out):
// slabs of `sections` sections (0: chosen from the memory budget, at least two tasks a worker).
// Throws InputError (the input unreadable, a step that needs the whole volume) before it exists.
TaskQueue plan_block_tasks(const std::filesystem::path& folder, const cli::Command& command, const cli::Args& args, int workers,
                           int64_t sections, double lease_seconds);

// Runs one task of the queue's plan (its outputs in the queue's work/ folder, or OUT).
void run_block_task(const TaskQueue& queue, const TaskId& task);

// What a person is told the task is: "label, components: sections 64-127 (task 2 of 4)".
std::string describe_task(const TaskQueue& queue, const TaskId& task);

// The printed summary of a finished queue: "412 objects (label-preserving, 26-connectivity) -> out.zarr".
std::string queue_result(const TaskQueue& queue);

}  // namespace uniem::apps
