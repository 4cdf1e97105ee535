// Running a job (apps/jobs/job_file.h) and keeping its run record, run.json, in the run folder:
// the job as written; each step's command line, every option with its default resolved, its
// inputs and outputs (apps/jobs' fingerprints: size, modification time, SHA-256, io/fingerprint.h),
// the metrics it reported (loss, Jaccard, ...), its exit status and times; and what it ran on:
// uniem's version, commit and build, the threads, and each step's device, precision and seed.
// The record is written whether the job succeeds, fails or is cancelled (exit_status says which),
// under a temporary name, then renamed into place.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "apps/jobs/job_file.h"

namespace uniem::apps {

constexpr const char* run_record_name = "run.json";

struct RunOptions {
  // Continue an interrupted run in the same folder: steps its record shows finished, whose
  // outputs are unchanged, are skipped; the step that was stopped resumes where the command can
  // (train2d and ffn train from their checkpoints with --resume, ffn segment from its state).
  bool resume = false;
  bool check = false;  // plan and print the steps, run nothing
};

// Runs every step in order in this process; returns 0, or rethrows what stopped a step after
// the record says so. Before the first step: threads set, inputs fingerprinted.
int run_job(const Job& job, const std::filesystem::path& run_folder, const RunOptions& options = {});

// Reads a record written by run_job (InputError naming the file when it is not one).
nlohmann::json read_run_record(const std::filesystem::path& file);

}  // namespace uniem::apps
