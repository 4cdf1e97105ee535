// uniem run, uniem rerun and uniem describe: jobs from files (apps/jobs/), their records, and the
// option schemas a program builds forms from.
#include <cstdio>
#include <filesystem>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/jobs/job_file.h"
#include "apps/jobs/rerun.h"
#include "apps/jobs/runner.h"
#include "core/error.h"

namespace fs = std::filesystem;

namespace uniem::apps {

cli::Command run_command() {
  cli::Command c(
      "run", "run a job file: one command, or a pipeline of them, with a record of what was run",
      "Runs the job described in JOB (JSON), as the workbench submits it, and writes run.json into\n"
      "the run folder: every option with its default, the inputs' sizes, dates and SHA-256 checksums,\n"
      "the outputs' checksums, the metrics (loss, Jaccard, ...), uniem's version, the threads, the\n"
      "device and the exit status, so that 'uniem rerun run.json' can repeat it. One command:\n"
      "  {\"command\": \"filter\", \"arguments\": {\"in\": \"raw\", \"out\": \"smooth.tif\",\n"
      "                                       \"steps\": [{\"gaussian\": 1}, {\"threshold\": \"otsu\"}]}}\n"
      "A pipeline, each step reading what earlier steps wrote:\n"
      "  {\"threads\": 2, \"pipeline\": [{\"command\": \"train2d\", \"arguments\": {...}},\n"
      "                             {\"command\": \"infer2d\", \"arguments\": {...}}]}\n"
      "Arguments are the command's options without '--' (see 'uniem describe COMMAND'), its\n"
      "arguments in lower case (IN -> \"in\"), switches as true/false. Paths a command reads are\n"
      "relative to JOB's folder; paths it writes, to the run folder (--out, default: JOB's folder).\n"
      "Every mistake is reported, with the message the command line gives, before anything runs.",
      "  uniem run experiment.json\n  uniem run experiment.json --out runs/first --threads 2");
  c.positional("JOB", "job file (JSON)").input();
  c.option("out", "DIR", "run folder: outputs named relatively and run.json go here (default: the job file's folder)").output();
  c.option("from", "DIR", "folder that relative input paths start from (default: the job file's folder)").input().advanced();
  c.flag("resume",
         "continue an interrupted run in its --out folder: finished steps are skipped, training continues from its "
         "checkpoint, ffn segment from its saved state");
  c.flag("check", "check the job and print the steps it would run, without running them");
  c.flag("confine", "refuse inputs outside the --from folder, the folders added to it in the workbench and the run folder, and outputs outside the run folder (what the workbench runs)").advanced();
  return c;
}

cli::Command rerun_command() {
  cli::Command c(
      "rerun", "run a recorded job again and compare its outputs with the recorded ones",
      "Reads RECORD (a run.json written by uniem run), checks that its inputs are unchanged (their\n"
      "SHA-256 checksums), runs the same job with the same threads into a new run folder and says,\n"
      "output by output, whether the result is identical, and how the metrics differ when it is not,\n"
      "naming a different thread count, device, uniem build or computer as the likely cause.\n"
      "Exit status: 0 when every output is identical, 1 when one differs or the inputs changed.\n"
      "JSON files are compared without their timings and memory peaks (fields named ..._seconds,\n"
      "..._per_second, ...memory_bytes) and\n"
      "without the absolute paths in them (where the run happened to be).",
      "  uniem rerun runs/first/run.json\n  uniem rerun runs/first/run.json --out runs/again --threads 1");
  c.positional("RECORD", "run.json of an earlier run").input();
  c.option("out", "DIR", "new run folder (default: the old one's name + .rerun, numbered when taken)").output();
  c.flag("force", "run even when an input changed since the recorded run");
  return c;
}

cli::Command describe_command() {
  cli::Command c("describe", "print the options of commands as JSON",
                 "For programs (the workbench builds its forms from it): each command's arguments with their\n"
                 "kind, type, default, unit, range or choices, help, level (basic, advanced) and role (input or\n"
                 "output path). Without COMMAND, every command a job can run. 'uniem COMMAND --describe' is the\n"
                 "same for one command.",
                 "  uniem describe\n  uniem describe 'ffn segment'");
  return c;
}

int run_run(const cli::Args& args) {
  const fs::path file = args.positional(0);
  Job job = read_job(file);
  if (args.has("from")) job.folder = fs::absolute(args.get("from")).lexically_normal();
  if (args.has("threads")) job.threads = static_cast<int>(args.integer("threads"));
  job.confined = args.has("confine");
  RunOptions options;
  options.resume = args.has("resume");
  options.check = args.has("check");
  return run_job(job, args.has("out") ? fs::path(args.get("out")) : fs::absolute(file).parent_path(), options);
}

int run_rerun(const cli::Args& args) {
  RerunOptions o;
  o.record = args.positional(0);
  if (args.has("out")) o.out = args.get("out");
  if (args.has("threads")) o.threads = static_cast<int>(args.integer("threads"));
  o.force = args.has("force");
  return rerun(o);
}

int run_describe(const Arguments& words) {
  for (const auto& w : words)
    if (w == "--help" || w == "-h") return describe_command().print_help();
  nlohmann::json out;
  if (words.empty()) {
    out = {{"commands", nlohmann::json::array()}};
    for (const auto& c : commands)
      if (c.job) out["commands"].push_back(c.declare().describe());
  } else {
    std::string name;
    for (const auto& w : words)
      if (w != "--describe") name += (name.empty() ? "" : " ") + w;
    if (name == "describe") {
      out = describe_command().describe();
    } else {
      const Subcommand* c = find_command(name);
      if (!c) throw UsageError("unknown command '" + name + "'");
      out = c->declare().describe();
    }
  }
  std::printf("%s\n", out.dump(1).c_str());
  return 0;
}

}  // namespace uniem::apps
