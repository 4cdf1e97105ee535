// The job service: commands run as jobs from the browser (or any program), one at a time, as
// child processes of the same program (`uniem run JOB --progress json`), at a lower CPU priority
// than the server, so that a job that crashes or takes every core never takes the server down.
// The queue and the history live in the workspace (WORKSPACE/.uniem/jobs.sqlite, job_store.h);
// each job runs in WORKSPACE/runs/job-N/ (job.json, log.txt, events.jsonl with its metrics,
// run.json, its outputs). Inputs named relatively start at the workspace.
//
//   GET  /api/commands              what jobs can run: every command's options (uniem describe),
//                                   then the workspace's external tools ("tool": true), and
//                                   "tool_problems": the manifests that cannot be read, why
//   GET  /api/jobs                  {"jobs": [...]}, newest first, a running one with its latest
//                                   progress and metrics events ("progress", "metrics"); each
//                                   with "user" (who started it), "mine" (this browser did) and
//                                   "may_cancel" (this browser may)
//   GET  /api/jobs/N                one job, with its run record once there is one
//   GET  /api/jobs/N/log?lines=K    the last K lines of its log (default 200)
//   GET  /api/jobs/N/events?since=S server-sent events: {"next", "state", "events": [progress,
//                                   metrics and state events]}, at least one a second while it runs
//   POST /api/jobs                  {"job": {...}, "name"?, "user"?} -> {"id"}; checked first (uniem
//                                   run --check): a bad job gets 400 with the command line's message
//                                   and the fields it names ({"error", "fields"})
//   POST /api/jobs/check {"job"}    the same check alone (as a form is filled in): {"ok", "message",
//                                   "fields": the arguments the message names, e.g. ["steps"]}
//   POST /api/jobs/cancel {"id"}    a queued job is dropped, a running one stopped (SIGTERM: it
//                                   keeps no partial output; training keeps its checkpoint); only
//                                   the browser that started it may (403), a program's job anyone
//   POST /api/jobs/resume {"id"}    a cancelled, failed or interrupted job queued again, to go on
//                                   where it stopped (uniem run --resume)
// When the server stops, a running job is stopped and marked interrupted; a server killed outright
// takes its job with it (the job is told by the kernel, PR_SET_PDEATHSIG) and finds it interrupted
// when started again.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <filesystem>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "io/folder_lock.h"
#include "web/http.h"
#include "web/jobs/job_store.h"

namespace uniem::web {

struct JobServiceOptions {
  std::filesystem::path workspace;
  std::string program;       // the uniem binary that runs jobs
  nlohmann::json commands;   // uniem describe's JSON, served at /api/commands
  // The workspace's external tools, read at each request (they come and go with their manifests):
  // {"tools": [describe JSON...], "problems": [messages]}; added to /api/commands.
  std::function<nlohmann::json()> tools;
  int niceness = 10;         // the jobs' CPU priority below the server's
  // Told every event as it is published (progress, metrics, state), from the queue's thread: a
  // program that runs a queue without a server (uniem demo) shows them in the terminal.
  std::function<void(int64_t job, const nlohmann::json& event)> on_event;
};

class JobService {
 public:
  // Registers the routes and takes the workspace (InputError when another server has it); the
  // queue runs from start() on (after the server could bind its port).
  JobService(HttpServer& http, JobServiceOptions options);
  // A queue without routes, run by a program (uniem demo): it submits to store() and waits.
  explicit JobService(JobServiceOptions options);
  ~JobService();
  JobService(const JobService&) = delete;
  JobService& operator=(const JobService&) = delete;

  void start();
  // Stops the queue; a running job is stopped (SIGTERM, SIGKILL after 30 s) and recorded as
  // interrupted. Idempotent.
  void stop();
  JobStore& store() { return *store_; }

 private:
  struct Event {
    int64_t seq, job;
    nlohmann::json body;
  };
  void routes(HttpServer& http);
  void work();
  void run(const JobRow& row);
  void publish(int64_t job, nlohmann::json body);  // under no lock
  nlohmann::json check(const nlohmann::json& job);  // {"ok", "message"}
  nlohmann::json describe(const JobRow& row, bool with_record);
  std::filesystem::path run_folder(int64_t id) const;

  JobServiceOptions options_;
  std::unique_ptr<FolderLock> lock_;
  std::unique_ptr<JobStore> store_;
  std::mutex mutex_;
  std::atomic<int> checks_running_{0};
  std::condition_variable changed_;
  std::deque<Event> events_;  // the latest events of every job, oldest first
  int64_t next_seq_ = 1;
  std::map<int64_t, nlohmann::json> progress_;  // job -> its latest progress event
  std::map<int64_t, nlohmann::json> metrics_;   // job -> its latest metrics event (a training's step)
  int64_t running_ = 0;
  pid_t pid_ = 0;
  bool cancel_ = false, stopping_ = false;
  std::optional<std::chrono::steady_clock::time_point> stop_time_;
  std::thread worker_;
};

}  // namespace uniem::web
