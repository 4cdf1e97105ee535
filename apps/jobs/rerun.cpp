#include "apps/jobs/rerun.h"

#include <cmath>
#include <cstdio>

#include "apps/jobs/job_file.h"
#include "apps/jobs/runner.h"
#include "core/error.h"
#include "io/fingerprint.h"

namespace fs = std::filesystem;

namespace uniem::apps {
namespace {

std::string step_name(const nlohmann::json& record, size_t i) {
  const auto& steps = record["steps"];
  const std::string command = steps[i].value("command", "?");
  return steps.size() > 1 ? "step " + std::to_string(i + 1) + " (" + command + ")" : command;
}

// The inputs whose content differs from the record's, one line each.
std::vector<std::string> changed_inputs(const nlohmann::json& record) {
  std::vector<std::string> changed;
  for (size_t i = 0; i < record["steps"].size(); ++i)
    for (const auto& in : record["steps"][i].value("inputs", nlohmann::json::array())) {
      if (in.contains("from_step")) continue;
      const Fingerprint then = Fingerprint::from_json(in), now = fingerprint(then.path);
      if (then.same_content(now)) continue;
      std::string why = now.kind == "missing" ? "it is gone"
                        : then.bytes != now.bytes
                            ? "its size went from " + std::to_string(then.bytes) + " to " + std::to_string(now.bytes) + " bytes"
                            : "its content differs (checksums)";
      changed.push_back("input '" + in.value("field", "?") + "' of " + step_name(record, i) + ", " + then.path +
                        ", changed since the run: " + why + " (recorded as modified " + then.modified + ", now " +
                        (now.modified.empty() ? "-" : now.modified) + ")");
    }
  return changed;
}

fs::path default_folder(const fs::path& old_folder) {
  fs::path candidate = old_folder.string() + ".rerun";
  for (int n = 2; fs::exists(candidate); ++n) candidate = old_folder.string() + ".rerun-" + std::to_string(n);
  return candidate;
}

std::string number_text(const nlohmann::json& v) { return v.is_number_float() ? std::to_string(v.get<double>()) : v.dump(); }

// What differs between the two runs' circumstances, as the likely causes of different results.
std::vector<std::string> causes(const nlohmann::json& a, const nlohmann::json& b) {
  std::vector<std::string> out;
  if (a.value("threads", 0) != b.value("threads", 0))
    out.push_back("the recorded run used " + std::to_string(a.value("threads", 0)) + " threads, this one " +
                  std::to_string(b.value("threads", 0)) + " (sums split over threads round differently)");
  for (size_t i = 0; i < a["steps"].size() && i < b["steps"].size(); ++i)
    for (const char* key : {"device", "precision"})
      if (a["steps"][i].value(key, nlohmann::json()) != b["steps"][i].value(key, nlohmann::json()))
        out.push_back(step_name(a, i) + ": " + key + " " + a["steps"][i].value(key, nlohmann::json()).dump() + " then, " +
                      b["steps"][i].value(key, nlohmann::json()).dump() + " now");
  for (const char* key : {"commit", "build", "linkage", "compiler", "host"})
    if (a["uniem"].value(key, "") != b["uniem"].value(key, ""))
      out.push_back(std::string(key == std::string("host") ? "computer" : std::string("uniem ") + key) + " " + a["uniem"].value(key, "") +
                    " then, " + b["uniem"].value(key, "") + " now");
  return out;
}

}  // namespace

int rerun(const RerunOptions& o) {
  const nlohmann::json old = read_run_record(o.record);
  if (old.value("exit_status", 1) != 0)
    std::printf("note: the recorded run did not finish (exit status %d); its finished steps are compared\n",
                old.value("exit_status", 1));
  const auto changed = changed_inputs(old);
  for (const auto& line : changed) std::fprintf(stderr, "uniem rerun: %s\n", line.c_str());
  if (!changed.empty() && !o.force)
    throw InputError(o.record, std::to_string(changed.size()) + " input" + (changed.size() == 1 ? "" : "s") +
                                   " changed since the run (listed above); --force runs it anyway");
  const fs::path old_folder = old.value("run_folder", "");
  const fs::path folder = fs::absolute(o.out ? *o.out : default_folder(old_folder)).lexically_normal();
  if (folder == old_folder) throw UsageError("--out must be another folder than the recorded run's (" + old_folder.string() + ")");
  Job job = job_from_json(old["job"], old.value("job_folder", ""), o.record.string());
  job.threads = o.threads ? *o.threads : old.value("threads", 1);
  std::printf("running %s again into %s (%d threads)\n", o.record.c_str(), folder.c_str(), *job.threads);
  std::fflush(stdout);
  run_job(job, folder);
  const nlohmann::json now = read_run_record(folder / run_record_name);

  int identical = 0, compared = 0;
  std::printf("\ncompared with the recorded run:\n");
  for (size_t i = 0; i < old["steps"].size() && i < now["steps"].size(); ++i) {
    const auto& a = old["steps"][i]["outputs"];
    const auto& b = now["steps"][i]["outputs"];
    for (size_t k = 0; k < a.size() && k < b.size(); ++k) {
      const Fingerprint x = Fingerprint::from_json(a[k]), y = Fingerprint::from_json(b[k]);
      ++compared;
      const std::string label = step_name(old, i) + " " + a[k].value("field", "?") + " (" + fs::path(y.path).filename().string() + ")";
      if (x.same_content(y)) {
        ++identical;
        std::printf("  identical  %s\n", label.c_str());
        continue;
      }
      std::printf("  DIFFERS    %s", label.c_str());
      const auto files = differing_files(x, y);
      for (size_t f = 0; f < files.size() && f < 5; ++f) std::printf("%s%s", f == 0 ? ": " : ", ", files[f].c_str());
      if (files.size() > 5) std::printf(" and %zu more", files.size() - 5);
      std::printf("\n");
    }
    const auto& ma = old["steps"][i].value("metrics", nlohmann::json::object());
    const auto& mb = now["steps"][i].value("metrics", nlohmann::json::object());
    for (const auto& [key, value] : ma.items()) {
      if (!mb.contains(key) || mb[key] == value || key.ends_with("seconds") || key.ends_with("per_second")) continue;
      std::string change = number_text(value) + " -> " + number_text(mb[key]);
      if (value.is_number() && mb[key].is_number()) {
        char d[48];
        std::snprintf(d, sizeof d, " (%+.3g)", mb[key].get<double>() - value.get<double>());
        change += d;
      }
      std::printf("  metric     %s %s: %s\n", step_name(old, i).c_str(), key.c_str(), change.c_str());
    }
  }
  if (identical == compared) {
    std::printf("all %d output%s identical\n", compared, compared == 1 ? "" : "s");
    return 0;
  }
  std::printf("%d of %d outputs differ\n", compared - identical, compared);
  const auto why = causes(old, now);
  if (why.empty()) std::printf("the runs had the same threads, device and uniem build: this is worth reporting\n");
  for (const auto& w : why) std::printf("likely cause: %s\n", w.c_str());
  return 1;
}

}  // namespace uniem::apps
