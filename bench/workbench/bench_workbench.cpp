// bench/workbench: the workbench's pages against the goals (no peer program does this):
//   1. the home page of a workspace with 200 image stacks: the page, its scripts and the data list
//      (GET /api/data) when first opened (every stack's headers read) and opened again (known
//      stacks are not read again); and one thumbnail (thumbnails load lazily, as they scroll in);
//   2. page and API requests while a train2d job takes every core: latency of GET /, /api/jobs,
//      /api/data, /api/training and /api/training/log, round robin, every 50 ms of the job's run;
//   3. the training monitor's delay: lines appended to a training log at random moments, read by
//      a client that polls /api/training/log once a second, as the page does: written to seen.
// Usage: bench_workbench [--stacks N] (default 200)
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/workbench_process.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

struct Spread {
  double median, p99, max;
};
Spread spread(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)], v.back()};
}

// GET path; exits when it fails (a benchmark of a broken server means nothing).
std::string get(httplib::Client& c, const std::string& path) {
  const auto r = c.Get(path);
  if (!r || r->status != 200) {
    std::fprintf(stderr, "bench_workbench: GET %s failed (%s)\n", path.c_str(), r ? r->body.c_str() : "no answer");
    std::exit(1);
  }
  return r->body;
}

}  // namespace

int main(int argc, char** argv) {
  int stacks = 200;
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--stacks" && i + 1 < argc) stacks = std::atoi(argv[++i]);
  const std::string uniem = UNIEM_BINARY;
  const fs::path dir = fs::temp_directory_path() / ("uniem-bench-workbench-" + std::to_string(::getpid()));
  const fs::path ws = dir / "ws";
  fs::create_directories(ws / "stacks");
  if (std::system((uniem + " synth " + (ws / "s").string() + " --shape 16,256,256 --quiet").c_str()) != 0) return 1;
  for (int i = 0; i < stacks; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "stack-%03d", i);
    fs::copy(ws / "s" / "image", ws / "stacks" / name);
  }

  // 1. The home page.
  uniem::bench::WorkbenchProcess server(uniem, ws, dir / "workbench.log", "W");
  httplib::Client c = server.client();
  auto home = [&] {
    for (const char* path : {"/", "/assets/workbench.js", "/assets/workbench_data.js", "/assets/workbench.css"}) get(c, path);
    return json::parse(get(c, "/api/data"));
  };
  auto start = Clock::now();
  const json first = home();
  const double first_ms = ms_since(start);
  std::vector<double> again;
  for (int r = 0; r < 5; ++r) {
    start = Clock::now();
    home();
    again.push_back(ms_since(start));
  }
  std::vector<double> thumbnails;
  for (int i = 0; i < 20; ++i) {
    start = Clock::now();
    get(c, first["items"][static_cast<size_t>(i)]["thumbnail"].get<std::string>().insert(0, "/"));
    thumbnails.push_back(ms_since(start));
  }
  std::printf("home page of a workspace with %zu items (%d stacks of 16 x 256 x 256 PNG): first open %.0f ms, again %.0f ms "
              "(median of 5); a thumbnail %.1f ms (median of 20)\n",
              first["items"].size(), stacks, first_ms, spread(again).median, spread(thumbnails).median);

  // 2. Requests while a training takes every core.
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const json job = {{"threads", cores},
                    {"command", "train2d"},
                    {"arguments", {{"images", "s/image"}, {"labels", "s/membranes"}, {"model", "model"}, {"filters", 16},
                                   {"patch", 128}, {"batch", 4}, {"steps", 60}, {"validate-every", 30}, {"log-every", 5}}}};
  const auto submitted = c.Post("/api/jobs", json{{"job", job}}.dump(), "application/json");
  if (!submitted || submitted->status != 200) {
    std::fprintf(stderr, "bench_workbench: the job was not taken: %s\n", submitted ? submitted->body.c_str() : "no answer");
    return 1;
  }
  const std::string job_path = "/api/jobs/" + std::to_string(json::parse(submitted->body)["id"].get<int64_t>());
  std::vector<double> during;
  const std::vector<std::string> paths = {"/", "/api/jobs", "/api/data", "/api/training", "/api/training/log?path=runs/job-1/model&since=0"};
  for (size_t k = 0;; ++k) {
    const json state = json::parse(get(c, job_path));
    if (state["state"] != "running" && state["state"] != "queued") break;
    if (state["state"] == "running" && fs::exists(ws / "runs" / "job-1" / "model" / "training-log.jsonl")) {
      start = Clock::now();
      const auto r = c.Get(paths[k % paths.size()]);
      if (r) during.push_back(ms_since(start));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (during.empty()) {
    std::fprintf(stderr, "bench_workbench: the training ended before any request was timed\n");
    return 1;
  }
  const Spread d = spread(during);
  std::printf("requests while a train2d job uses all %d cores (%zu requests, round robin over page, jobs, data, training "
              "runs, training log): median %.1f ms, p99 %.1f ms, max %.1f ms\n", cores, during.size(), d.median, d.p99, d.max);

  // 3. The monitor's delay.
  fs::create_directories(ws / "monitor");
  const fs::path log = ws / "monitor" / "training-log.jsonl";
  std::ofstream(log) << "{\"step\": 0, \"loss\": 1}\n";
  const int lines = 20;
  std::vector<Clock::time_point> written(lines + 1);
  std::atomic<int> count{0};
  std::thread writer([&] {
    std::mt19937 random(7);
    std::uniform_int_distribution<int> pause(200, 1500);
    for (int i = 1; i <= lines; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(pause(random)));
      std::ofstream(log, std::ios::app) << "{\"step\": " << i << ", \"loss\": 0.5}\n" << std::flush;
      written[static_cast<size_t>(i)] = Clock::now();
      count = i;
    }
  });
  std::vector<double> delay;
  int64_t since = 0;
  while (static_cast<int>(delay.size()) < lines) {
    const json answer = json::parse(get(c, "/api/training/log?path=monitor&since=" + std::to_string(since)));
    const auto seen = Clock::now();
    since = answer["next"];
    for (const auto& line : answer["lines"]) {
      const int step = line["step"];
      if (step > 0) delay.push_back(std::chrono::duration<double, std::milli>(seen - written[static_cast<size_t>(step)]).count());
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));  // the page's interval
  }
  writer.join();
  const Spread m = spread(delay);
  std::printf("training monitor: %d log lines written at random moments, read by polling once a second: delay median "
              "%.0f ms, max %.0f ms\n", lines, m.median, m.max);
  fs::remove_all(dir);
  return 0;
}
