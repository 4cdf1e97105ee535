// uniem rerun: a recorded job (apps/jobs/runner.h) run again into a new folder, its inputs checked
// first, its outputs and metrics compared with the record's, output by output.
#pragma once

#include <filesystem>
#include <optional>

namespace uniem::apps {

struct RerunOptions {
  std::filesystem::path record;          // run.json
  std::optional<std::filesystem::path> out;
  std::optional<int> threads;            // default: the recorded thread count
  bool force = false;                    // run even when an input changed
};

// Returns 0 when every output is identical, 1 when one differs; throws InputError when an input
// changed (without force) and what the job throws.
int rerun(const RerunOptions& options);

}  // namespace uniem::apps
