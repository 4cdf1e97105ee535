// A queue of tasks kept as files in a folder that every worker sees (a cluster's shared disk, or
// this computer's), for work cut into blocks that many processes do at once (`uniem worker`).
//
//   QUEUE/plan.json      what to do: the command and its arguments, the phases and their task
//                        counts, how long a lease lasts
//   QUEUE/todo/P-K       task K of phase P, not taken (names zero-padded, so they sort in order)
//   QUEUE/leased/P-K@W   taken by worker W ("host-pid"), by renaming it from todo/: of workers
//                        that try at once, exactly one succeeds. W touches it while it works; a
//                        lease not touched for lease_seconds (a worker killed, a node lost) is
//                        renamed back to todo/ by whichever worker sees it first
//   QUEUE/done/P-K       the task's done marker (JSON: worker, seconds), written once it finished
//   QUEUE/failed/P-K     why it failed (JSON: worker, message, log): workers stop taking tasks
//   QUEUE/work/          what tasks hand on to later phases (each file written under a temporary
//                        name and renamed, publish())
//   QUEUE/logs/W.log     each worker's log
//
// A phase's tasks are taken only when every task of the phases before it is done (map steps, then
// a reduce such as the union-find of labels, then map steps again). Tasks are idempotent and
// write atomically, so a task done twice (a lease that expired under a slow, living worker) gives
// the same files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace uniem {

struct TaskId {
  int phase = 0;
  int64_t index = 0;
  std::string name() const;  // "1-000003"
  static std::optional<TaskId> parse(const std::string& name);
  bool operator==(const TaskId& o) const { return phase == o.phase && index == o.index; }
};

struct QueuePhase {
  std::string name;   // "components", "join", ...
  int64_t tasks = 1;
};

struct TaskLease {
  TaskId task;
  std::string worker;
  std::filesystem::path file;  // leased/P-K@W
};

struct QueueStatus {
  struct Phase {
    std::string name;
    int64_t tasks = 0, todo = 0, running = 0, done = 0, failed = 0;
    double median_seconds = 0;  // of its done tasks
  };
  struct Running {
    TaskId task;
    std::string worker;
    double seconds = 0;  // since it was taken
    double quiet = 0;    // since its worker last touched it
  };
  struct Failure {
    TaskId task;
    std::string worker, message, log;
  };
  std::vector<Phase> phases;
  std::vector<Running> running;
  std::vector<Failure> failures;
  double lease_seconds = 0;
  bool finished() const;          // every task done
  int64_t tasks() const;          // in all phases
  int64_t done() const;
};

class TaskQueue {
 public:
  // Makes the queue folder `folder` (which must not exist: InputError) holding `plan` (a JSON
  // object; "phases" and "lease_seconds" are added), every task in todo/.
  static TaskQueue create(const std::filesystem::path& folder, nlohmann::json plan, const std::vector<QueuePhase>& phases,
                          double lease_seconds);
  // Opens an existing queue (InputError naming the folder when it is none).
  explicit TaskQueue(const std::filesystem::path& folder);

  const std::filesystem::path& folder() const { return folder_; }
  const nlohmann::json& plan() const { return plan_; }
  const std::vector<QueuePhase>& phases() const { return phases_; }
  double lease_seconds() const { return lease_seconds_; }
  std::filesystem::path work() const { return folder_ / "work"; }
  std::filesystem::path log_file(const std::string& worker) const { return folder_ / "logs" / (worker + ".log"); }

  // Gives the leases not touched for lease_seconds back to todo/; returns how many.
  int64_t reclaim_expired() const;
  // Takes a task of the first phase not done, if it is at most `last_phase`: nullopt when every
  // task up to it is done, failed, or held by another worker.
  std::optional<TaskLease> take(const std::string& worker, int last_phase) const;
  // Tells the others the worker still works on it; false when the lease was taken back.
  bool touch(const TaskLease& lease) const;
  void complete(const TaskLease& lease, double seconds) const;
  void fail(const TaskLease& lease, const std::string& message, const std::filesystem::path& log) const;
  // Puts the failed tasks back into todo/ (after their cause was fixed); returns how many.
  int64_t retry_failed() const;
  QueueStatus status() const;

  // Writes `content` to work/`name` under a temporary name of this worker, then renames it.
  void publish(const std::string& name, const std::string& content) const;
  // A temporary path beside work/`name` for a writer that makes its own file; rename it onto
  // work/`name` when it is complete.
  std::filesystem::path scratch(const std::string& name) const;

 private:
  std::filesystem::path folder_;
  nlohmann::json plan_;
  std::vector<QueuePhase> phases_;
  double lease_seconds_ = 600;
};

// "host-pid": the name of this process in a queue.
std::string worker_name();

}  // namespace uniem
