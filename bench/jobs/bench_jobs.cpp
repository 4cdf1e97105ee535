// bench/jobs: what running a command as a job costs. Two figures, in one run:
//   1. the job runner's overhead: a 200-step train2d run by `uniem run JOB.json` (planning,
//      fingerprints of inputs and outputs, the run record) against the same command line, median
//      of alternating runs; and, free of run-to-run noise, the runner's own time outside the
//      command as run.json records it (the whole run's seconds less the step's);
//   2. the progress event latency of the job service: from the moment a job's process makes an
//      event (its "time") to the moment a client of `uniem workbench` receives it as a
//      server-sent event, for every progress event of a train2d job.
// Usage: bench_jobs [--reps N]   (default 3)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/workbench_process.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

int run(const std::string& command) { return std::system((command + " > /dev/null 2>&1").c_str()); }

double seconds(const std::string& command) {
  const auto start = Clock::now();
  if (run(command) != 0) {
    std::fprintf(stderr, "bench_jobs: failed: %s\n", command.c_str());
    std::exit(1);
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double epoch_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

}  // namespace

int main(int argc, char** argv) {
  int reps = 3;
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
  const std::string uniem = UNIEM_BINARY;
  const fs::path dir = fs::temp_directory_path() / ("uniem-bench-jobs-" + std::to_string(::getpid()));
  fs::create_directories(dir / "ws");
  if (run(uniem + " synth " + (dir / "ws" / "s").string() + " --shape 8,128,128 --quiet") != 0) return 1;

  // 1. Runner overhead.
  const json arguments = {{"images", "s/image"}, {"labels", "s/membranes"}, {"filters", 8}, {"depth", 3}, {"patch", 64},
                          {"batch", 4}, {"steps", 200}, {"validate-every", 100}, {"log-every", 10}, {"threads", 2}};
  std::string cli = uniem + " train2d";
  for (const auto& [key, value] : arguments.items())
    if (key != "threads") cli += " --" + key + " " + (value.is_string() ? (dir / "ws" / value.get<std::string>()).string() : value.dump());
  std::vector<double> direct, runner, own;  // own: the runner's time outside the command, from run.json
  for (int r = 0; r < reps; ++r) {
    fs::remove_all(dir / "direct");
    direct.push_back(seconds(cli + " --threads 2 --quiet --model " + (dir / "direct").string()));
    json job_args = arguments;
    job_args.erase("threads");
    job_args["model"] = "model";
    const fs::path folder = dir / ("run" + std::to_string(r));
    fs::create_directories(folder);
    std::ofstream(dir / "ws" / "job.json") << json{{"threads", 2}, {"command", "train2d"}, {"arguments", job_args}}.dump();
    runner.push_back(seconds(uniem + " run " + (dir / "ws" / "job.json").string() + " --quiet --out " + folder.string()));
    const json record = json::parse(std::ifstream(folder / "run.json"));
    const double step = record["steps"][0]["seconds"].get<double>();
    own.push_back((record["seconds"].get<double>() - step) / step);
  }
  const double d = median(direct), j = median(runner);
  std::printf("runner overhead, 200-step train2d (2 threads, %d runs each, median): command line %.2f s, uniem run %.2f s: "
              "%+.2f%% (run to run noise included)\n", reps, d, j, 100 * (j - d) / d);
  std::printf("runner's own work (planning, input and output checksums, the record) against the command's time, from "
              "run.json: %.3f%% (median)\n", 100 * median(own));

  // 2. Event latency through the job service.
  uniem::bench::WorkbenchProcess server(uniem, dir / "ws", dir / "workbench.log", "B");
  httplib::Client c = server.client();
  json job_args = arguments;
  job_args.erase("threads");
  job_args["model"] = "served";
  job_args["steps"] = 600;
  job_args["log-every"] = 5;
  const auto submitted = c.Post("/api/jobs", json{{"job", {{"threads", 2}, {"command", "train2d"}, {"arguments", job_args}}}}.dump(),
                                "application/json");
  if (!submitted || submitted->status != 200) {
    std::fprintf(stderr, "bench_jobs: the job was not taken: %s\n", submitted ? submitted->body.c_str() : "no answer");
    return 1;
  }
  const int64_t id = json::parse(submitted->body)["id"];
  std::vector<double> late;
  bool done = false;
  c.Get("/api/jobs/" + std::to_string(id) + "/events", [&](const char* data, size_t size) {
    const double now = epoch_now();
    const std::string text(data, size);
    for (size_t at = 0; (at = text.find("data: ", at)) != std::string::npos; at += 6) {
      const json e = json::parse(text.substr(at + 6, text.find("\n\n", at) - at - 6), nullptr, false);
      if (!e.is_object()) continue;
      for (const auto& ev : e["events"]) {
        if (ev.contains("time")) late.push_back(1000 * (now - ev["time"].get<double>()));
        if (ev.value("event", "") == "state" && ev.value("state", "") != "running" && ev.value("state", "") != "queued") done = true;
      }
    }
    return !done;
  });
  std::sort(late.begin(), late.end());
  if (late.empty()) {
    std::fprintf(stderr, "bench_jobs: no events came\n");
    return 1;
  }
  std::printf("progress event latency through uniem workbench (%zu events of a train2d job): median %.1f ms, p99 %.1f ms, "
              "max %.1f ms\n", late.size(), late[late.size() / 2], late[late.size() * 99 / 100], late.back());
  fs::remove_all(dir);
  return 0;
}
