// Job files: a command, or a pipeline of them, described in JSON, as the browser submits them and
// as `uniem run JOB.json` reads them. One step:
//
//   {"command": "filter",
//    "arguments": {"in": "raw", "out": "membranes.tif", "steps": [{"gaussian": 1}, {"threshold": "otsu"}]}}
//
// A pipeline, whose steps may read what earlier steps wrote:
//
//   {"threads": 2,
//    "pipeline": [{"command": "train2d", "arguments": {"images": "train/image", "labels": "train/mito", "model": "model"}},
//                 {"command": "infer2d", "arguments": {"model": "model", "images": "test/image", "out": "mito",
//                                                      "threshold": 0.5}},
//                 {"command": "eval", "arguments": {"seg": "mito/mask", "gt": "test/mito", "mode": "semantic"}}]}
//
// "arguments" uses the names of the command's option schema (apps/cli.h): options by their name
// without "--", positionals by their lower-case name (IN -> "in", MODEL_DIR -> "model-dir"),
// flags as true or false, lists as arrays or "A,B,C", ordered steps as a list of one-key objects.
// Paths the command reads are relative to the job file's folder, except those an earlier step
// writes; paths it writes are relative to the run folder (uniem run --out, by default the job
// file's folder), where run.json goes; a path option left out takes its default there. Mistakes
// in the arguments (unknown names, types, ranges, choices, missing inputs) are found before
// anything runs and reported with the message the command line gives for that option
// (UsageError, exit status 2); what only a command knows (e.g. watershed's "exactly one of
// --markers, --seeds-below, ...") is found when its step starts. "command": "tool:NAME" runs the
// external tool of the job's folder (the workspace), tools/NAME.json (apps/jobs/external_tool.h).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/jobs/external_tool.h"

namespace uniem::apps {

struct PathUse {
  std::string field;  // "in", "model", ...
  std::filesystem::path path;
  cli::Role role;
  int from_step = -1;  // an input an earlier step writes: that step's index
};

struct PlannedStep {
  const Subcommand* command = nullptr;       // a uniem command, or
  std::shared_ptr<const ExternalTool> tool;  // an external tool ("tool:NAME", apps/jobs/external_tool.h)
  std::string name;                          // "filter", "ffn segment", "tool:nlmeans"
  Arguments argv;                     // what run() gets, paths resolved
  nlohmann::json options;             // every argument with defaults resolved, as text
  std::vector<PathUse> paths;
  std::string command_line() const;  // "uniem filter /abs/raw /abs/out.tif --gaussian 1" (quoted where needed)
  cli::Command declaration() const;
  int run() const;  // in this process (a tool: as a child process); returns the exit status
};

struct Job {
  nlohmann::json source;             // the job as written
  std::filesystem::path folder;      // relative inputs start here
  std::optional<int> threads;
  // Jobs from the workbench: inputs must lie in `folder` (the workspace), the folders added to it
  // (web/workspace/workspace_paths.h) or the run folder, outputs in the run folder; anything else
  // is refused without saying whether it exists.
  bool confined = false;
};

// Reads and checks the shape of a job file (UsageError naming the file).
Job read_job(const std::filesystem::path& file);
Job job_from_json(const nlohmann::json& source, const std::filesystem::path& folder, const std::string& where);

// Every step turned into arguments for its command, checked against its schema; inputs that no
// earlier step writes must exist. Throws UsageError, before anything runs.
std::vector<PlannedStep> plan(const Job& job, const std::filesystem::path& run_folder);

}  // namespace uniem::apps
