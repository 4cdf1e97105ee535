#include "apps/jobs/runner.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "core/cancel.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/threads.h"
#include "core/utc_time.h"
#include "io/atomic_output.h"
#include "io/fingerprint.h"
#include "uniem/version.h"

namespace fs = std::filesystem;

namespace uniem::apps {
namespace {

std::string now_iso() { return utc_time(std::chrono::system_clock::now()); }

nlohmann::json build_description() {
  std::string device = "cpu";
#ifdef UNIEM_WITH_CUDA
  device = "cpu, cuda";
#endif
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  return {{"version", build::version}, {"commit", build::git_commit}, {"build", build::build_type},
          {"linkage", build::linkage}, {"compiler", build::compiler},   {"backends", device},
          {"host", host}};
}

int exit_status_of(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const Cancelled&) {
    return cancel_exit_code();
  } catch (const UsageError&) {
    return 2;
  } catch (...) {
    return 1;
  }
}

std::string message_of(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown failure";
  }
}

// The metrics a step reports through progress events: the latest value of each, per phase.
class MetricsEar {
 public:
  MetricsEar() {
    set_progress_observer([this](const std::string& line) {
      try {
        const nlohmann::json e = nlohmann::json::parse(line);
        if (e.value("event", "") != "metrics") return;
        for (const auto& [key, value] : e.items())
          if (key != "event" && key != "phase" && key != "time") metrics_[key] = value;
      } catch (const nlohmann::json::exception&) {
      }
    });
  }
  ~MetricsEar() { set_progress_observer(nullptr); }
  nlohmann::json take() {
    set_progress_observer(nullptr);
    return metrics_;
  }

 private:
  nlohmann::json metrics_ = nlohmann::json::object();
};

void write_record(const fs::path& run_folder, const nlohmann::json& record) {
  fs::create_directories(run_folder);
  write_file_atomically(run_folder / run_record_name, record.dump(1) + "\n", true);
}

// What stopped a step, said again with the step's name in front (Cancelled as it is: its message
// says what was kept, and a bare "cancelled" is told by uniem's main).
[[noreturn]] void rethrow_in_step(const std::exception_ptr& failure, const std::string& step) {
  try {
    std::rethrow_exception(failure);
  } catch (const Cancelled&) {
    throw;
  } catch (const UsageError& e) {
    throw UsageError(step + ": " + e.what());
  } catch (const InputError& e) {
    throw InputError(step + ": " + e.what());
  } catch (const Error& e) {
    throw Error(step + ": " + e.what());
  }
}

// Whether a stopped step's output can be continued: a training folder with a checkpoint.
bool resumable(const fs::path& output) {
  std::error_code ec;
  if (!fs::is_directory(output, ec)) return false;
  for (const auto& e : fs::directory_iterator(output, ec))
    if (e.path().extension() == ".checkpoint") return true;
  return false;
}

// The steps of `previous` (an earlier record of the same job in the same folder) that finished
// and whose outputs are still as recorded.
size_t finished_steps(const nlohmann::json& previous) {
  size_t n = 0;
  for (const auto& s : previous["steps"]) {
    if (s.value("exit_status", 1) != 0 || !s.contains("outputs")) break;
    for (const auto& out : s["outputs"])
      if (!Fingerprint::from_json(out).same_content(fingerprint(out.value("path", "")))) return n;
    ++n;
  }
  return n;
}

}  // namespace

int run_job(const Job& job, const fs::path& run_folder_given, const RunOptions& options) {
  const fs::path run_folder = fs::absolute(run_folder_given).lexically_normal();
  std::vector<PlannedStep> steps = plan(job, run_folder);  // UsageError: nothing runs
  if (options.check) {
    for (size_t i = 0; i < steps.size(); ++i) std::printf("step %zu of %zu: %s\n", i + 1, steps.size(), steps[i].command_line().c_str());
    std::printf("the job is valid; outputs would go to %s\n", run_folder.c_str());
    return 0;
  }
  if (!options.resume && fs::exists(run_folder / run_record_name))
    throw UsageError((run_folder / run_record_name).string() +
                     " holds the record of an earlier run: give another run folder (--out), or --resume to continue it");
  nlohmann::json previous;
  size_t skip = 0;
  if (options.resume && fs::exists(run_folder / run_record_name)) {
    previous = read_run_record(run_folder / run_record_name);
    if (previous["job"] != job.source)
      throw UsageError((run_folder / run_record_name).string() + " records another job; --resume continues the same job in its folder");
    skip = finished_steps(previous);
    if (skip < steps.size()) {  // the step that was stopped: resumed by the command where it can be
      PlannedStep& next = steps[skip];
      const cli::Command declaration = next.declaration();
      const cli::Spec* resume = declaration.find("resume");
      for (const auto& use : next.paths) {
        if (use.role != cli::Role::output || !fs::exists(use.path)) continue;
        if (resume && resume->type == cli::Type::flag && resumable(use.path)) {
          next.argv.insert(next.argv.end() - 1, "--resume");
        } else if (use.path.parent_path() == run_folder || use.path.string().starts_with(run_folder.string() + "/")) {
          fs::remove_all(use.path);  // begun by this job's stopped run, with nothing to continue from
        }
      }
    }
  }
  if (job.threads) set_thread_count(*job.threads);
  const auto start = std::chrono::steady_clock::now();
  nlohmann::json record = {{"uniem_run", 1},
                           {"job", job.source},
                           {"job_folder", job.folder.string()},
                           {"run_folder", run_folder.string()},
                           {"uniem", build_description()},
                           {"threads", thread_count()},
                           {"started", now_iso()},
                           {"steps", nlohmann::json::array()}};
  for (const auto& step : steps) {
    nlohmann::json s = {{"command", step.name}, {"command_line", step.command_line()}, {"options", step.options},
                        {"inputs", nlohmann::json::array()}, {"outputs", nlohmann::json::array()}};
    for (const char* key : {"device", "precision", "seed"})
      if (step.options.contains(key)) s[key] = step.options[key];
    for (const auto& use : step.paths) {
      if (use.role != cli::Role::input) continue;
      nlohmann::json in = use.from_step >= 0 ? nlohmann::json{{"path", use.path.string()}, {"from_step", use.from_step + 1}}
                                             : fingerprint(use.path).to_json();
      in["field"] = use.field;
      s["inputs"].push_back(in);
    }
    record["steps"].push_back(s);
  }
  fs::create_directories(run_folder);
  std::exception_ptr failure;
  size_t done = 0;
  for (; done < skip; ++done) {
    record["steps"][done] = previous["steps"][done];
    record["steps"][done]["skipped"] = "finished in an earlier run of this job";
    std::printf("step %zu of %zu: finished earlier (%s)\n", done + 1, steps.size(), steps[done].name.c_str());
  }
  // On disk from the start and after each step: a job killed outright still shows what it did.
  record["steps_done"] = done;
  write_record(run_folder, record);
  for (; done < steps.size() && !failure; ++done) {
    const PlannedStep& step = steps[done];
    nlohmann::json& s = record["steps"][done];
    if (steps.size() > 1) std::printf("step %zu of %zu: %s\n", done + 1, steps.size(), step.command_line().c_str());
    std::fflush(stdout);
    s["started"] = now_iso();
    const auto step_start = std::chrono::steady_clock::now();
    MetricsEar ear;
    int status = 0;
    std::vector<bool> existed;  // a tool's outputs that were there before it ran are not its to remove
    for (const auto& use : step.paths) existed.push_back(fs::exists(use.path));
    try {
      status = step.run();
    } catch (...) {
      failure = std::current_exception();
      status = exit_status_of(failure);
      s["error"] = message_of(failure);
    }
    std::fflush(stdout);
    if (status != 0 && step.tool)  // a tool writes in place: what it began and left half-written goes
      for (size_t k = 0; k < step.paths.size(); ++k) {
        const auto& use = step.paths[k];
        const fs::path p = fs::weakly_canonical(use.path), r = fs::weakly_canonical(run_folder);
        const bool holds_run = std::mismatch(p.begin(), p.end(), r.begin(), r.end()).first == p.end();  // the run folder or above
        if (use.role == cli::Role::output && !existed[k] && !holds_run) fs::remove_all(use.path);
      }
    s["metrics"] = ear.take();
    s["exit_status"] = status;
    s["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
    if (status == 0)
      for (const auto& use : step.paths) {
        if (use.role != cli::Role::output) continue;
        nlohmann::json out = fingerprint(use.path).to_json();
        out["field"] = use.field;
        s["outputs"].push_back(out);
      }
    if (status != 0 && !failure) failure = std::make_exception_ptr(Error(step.name + " ended with status " + std::to_string(status)));
    if (!failure) {
      record["steps_done"] = done + 1;
      write_record(run_folder, record);
    }
  }
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& s : record["steps"])
    if (s.contains("metrics")) metrics.update(s["metrics"]);
  record["metrics"] = metrics;
  record["ended"] = now_iso();
  record["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  record["exit_status"] = failure ? exit_status_of(failure) : 0;
  record["steps_done"] = failure ? done - 1 : done;
  write_record(run_folder, record);
  if (failure) {
    const std::string name = steps[done - 1].name;
    rethrow_in_step(failure, steps.size() > 1 ? "step " + std::to_string(done) + " of " + std::to_string(steps.size()) + " (" + name + ")"
                                              : name);
  }
  std::printf("record of the run: %s\n", (run_folder / run_record_name).c_str());
  return 0;
}

nlohmann::json read_run_record(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError(file, "no such run record");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, std::string("is not valid JSON (") + e.what() + ")");
  }
  // The shape the runner wrote, checked before anything reads it (a record may be edited by hand).
  const auto need = [&](bool ok, const std::string& what) {
    if (!ok) throw InputError(file, "is not a run record of uniem run: " + what);
  };
  need(j.is_object() && j.value("uniem_run", 0) == 1, "no \"uniem_run\": 1");
  need(j.contains("job") && j["job"].is_object(), "\"job\" is not an object");
  for (const char* key : {"job_folder", "run_folder"}) need(j.contains(key) && j[key].is_string(), std::string("\"") + key + "\" is not a path");
  need(j.contains("uniem") && j["uniem"].is_object(), "\"uniem\" is not an object");
  need(j.contains("threads") && j["threads"].is_number_integer(), "\"threads\" is not a number");
  need(j.contains("steps") && j["steps"].is_array(), "\"steps\" is not a list");
  for (size_t i = 0; i < j["steps"].size(); ++i) {
    const auto& s = j["steps"][i];
    const std::string at = "steps[" + std::to_string(i) + "]";
    need(s.is_object() && s.contains("command") && s["command"].is_string(), at + " has no command");
    for (const char* list : {"inputs", "outputs"}) {
      need(s.contains(list) && s[list].is_array(), at + "." + list + " is not a list");
      for (size_t k = 0; k < s[list].size(); ++k)
        need(s[list][k].is_object() && s[list][k].contains("path") && s[list][k]["path"].is_string(),
             at + "." + list + "[" + std::to_string(k) + "] has no path");
    }
    need(!s.contains("metrics") || s["metrics"].is_object(), at + ".metrics is not an object");
  }
  return j;
}

}  // namespace uniem::apps
