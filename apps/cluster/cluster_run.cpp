#include "apps/cluster/cluster_run.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

#include "apps/cluster/block_tasks.h"
#include "apps/cluster/slurm.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/memory_budget.h"
#include "core/progress.h"
#include "core/threads.h"

extern char** environ;

namespace fs = std::filesystem;

namespace uniem::apps {
namespace {

std::string program_path() { return fs::read_symlink("/proc/self/exe").string(); }

// Starts `uniem worker QUEUE --quiet` (its log is in the queue); returns its pid.
pid_t start_worker(const std::string& program, const fs::path& queue, int threads) {
  std::vector<std::string> words = {program, "worker", queue.string(), "--quiet", "--threads", std::to_string(threads),
                                    "--memory", std::to_string(std::max<int64_t>(64, memory_budget() >> 20))};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (const int e = posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), environ); e != 0)
    throw Error("could not start a worker: " + std::string(std::strerror(e)));
  return pid;
}

// Shows the queue's tasks done as one progress bar until `still_working` says the workers have
// stopped or every task is done; the status at the end.
QueueStatus follow(const TaskQueue& queue, const std::function<bool()>& still_working) {
  QueueStatus s = queue.status();
  Progress progress("block tasks of " + queue.folder().filename().string(), s.tasks());
  int64_t shown = 0;
  while (true) {
    s = queue.status();
    if (s.done() > shown) progress.advance(s.done() - shown), shown = s.done();
    if (s.finished() || !s.failures.empty() || !still_working()) return queue.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}

int outcome(const TaskQueue& queue, const QueueStatus& s) {
  if (s.finished()) {
    std::printf("%s\n", queue_result(queue).c_str());
    return 0;
  }
  std::fprintf(stderr, "%s", queue_report(queue, s).c_str());
  if (!s.failures.empty()) {
    const auto& f = s.failures.front();
    throw InputError(f.message + " (the worker's log: " + f.log + ")");
  }
  throw Error("the workers stopped before every task was done; see uniem status " + queue.folder().string());
}

int run_local(const TaskQueue& queue, int workers) {
  const std::string program = program_path();
  const int threads = std::max(1, thread_count() / workers);
  std::vector<pid_t> pids;
  for (int i = 0; i < workers; ++i) pids.push_back(start_worker(program, queue.folder(), threads));
  std::vector<bool> running(pids.size(), true);
  const auto reap = [&] {
    bool any = false;
    for (size_t i = 0; i < pids.size(); ++i) {
      if (running[i] && ::waitpid(pids[i], nullptr, WNOHANG) == pids[i]) running[i] = false;
      any = any || running[i];
    }
    return any;
  };
  QueueStatus s;
  try {
    s = follow(queue, [&] {
      check_cancelled();
      return reap();
    });
  } catch (const Cancelled&) {
    for (size_t i = 0; i < pids.size(); ++i)
      if (running[i]) ::kill(pids[i], SIGINT);  // each gives its task back
    for (size_t i = 0; i < pids.size(); ++i)
      if (running[i]) ::waitpid(pids[i], nullptr, 0);
    throw Cancelled("cancelled; the queue " + queue.folder().string() + " keeps what was done: uniem worker " +
                    queue.folder().string() + " goes on");
  }
  while (reap()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return outcome(queue, queue.status());
}

int run_slurm(const TaskQueue& queue, const cli::Args& args) {
  SlurmOptions o;
  o.workers = static_cast<int>(args.integer("workers"));
  o.partition = args.has("partition") ? args.get("partition") : "";
  o.account = args.has("account") ? args.get("account") : "";
  o.time = args.get("time");
  if (args.has("memory")) o.memory_mb = args.integer("memory") + 512;  // the budget and the program itself
  if (args.has("threads")) o.threads = static_cast<int>(args.integer("threads"));
  const auto jobs = submit_to_slurm(queue, o, program_path());
  std::printf("Submitted to Slurm:");
  for (const auto& j : jobs) std::printf(" %s (%s%s)", j.id.c_str(), queue.phases()[static_cast<size_t>(j.phase)].name.c_str(),
                                         j.tasks > 1 ? (", " + std::to_string(j.tasks) + " workers").c_str() : "");
  std::printf("\nFollow it with: uniem status %s\n", queue.folder().c_str());
  std::fflush(stdout);
  if (!args.has("wait")) return 0;
  return outcome(queue, follow(queue, [&] {
                   check_cancelled();
                   return slurm_jobs_active(jobs);
                 }));
}

}  // namespace

void add_cluster_options(cli::Command& command) {
  command.option("cluster", "WHERE",
                 "run as block tasks of many workers: local (processes on this computer), slurm (a Slurm job array), "
                 "kubernetes (writes a Job manifest); none runs here in one process",
                 "none")
      .choices({"none", "local", "slurm", "kubernetes"})
      .advanced()
      .option("workers", "N", "workers of a --cluster run", "2")
      .integer(1, 100000)
      .advanced()
      .option("queue", "DIR", "the queue folder of a --cluster run, on a disk every worker sees (default: OUT.queue)")
      .advanced()
      .option("block-sections", "N", "sections per block task (default: from --memory, at least two tasks a worker)")
      .integer(1, {})
      .advanced()
      .option("lease", "SECONDS", "a task whose worker is silent this long is given to another worker", "600")
      .number(1, {})
      .unit("s")
      .advanced()
      .option("partition", "NAME", "Slurm partition (default: the cluster's)")
      .advanced()
      .option("time", "H:MM:SS", "Slurm time limit of each worker", "1:00:00")
      .advanced()
      .option("account", "NAME", "Slurm account to charge")
      .advanced()
      .flag("wait", "with --cluster slurm: wait until every task is done, showing progress")
      .advanced();
}

bool is_cluster_option(const std::string& name) {
  for (const char* o : {"cluster", "workers", "queue", "block-sections", "lease", "partition", "time", "account", "wait"})
    if (name == o) return true;
  return false;
}

std::optional<int> run_on_cluster(const cli::Command& command, const cli::Args& args) {
  const std::string where = args.get("cluster");
  if (where == "none") return std::nullopt;
  if (!has_block_tasks(command.name())) throw UsageError("--cluster is not available for " + command.name());
  const int workers = static_cast<int>(args.integer("workers"));
  const fs::path out = fs::absolute(args.positional(1));
  const fs::path folder = args.has("queue") ? fs::absolute(args.get("queue")) : fs::path(out.string() + ".queue");
  const int64_t sections = args.has("block-sections") ? args.integer("block-sections") : 0;
  const TaskQueue queue = plan_block_tasks(folder, command, args, workers, sections, args.number("lease"));
  std::printf("Queue %s: %lld block tasks in %zu phases.\n", folder.c_str(), static_cast<long long>(queue.status().tasks()),
              queue.phases().size());
  std::fflush(stdout);
  if (where == "local") return run_local(queue, workers);
  if (where == "slurm") return run_slurm(queue, args);
  const fs::path manifest = write_kubernetes_job(queue, workers, program_path());
  std::printf("Wrote %s: name the shared volume in it, then: kubectl apply -f %s\nFollow it with: uniem status %s\n",
              manifest.c_str(), manifest.c_str(), folder.c_str());
  return 0;
}

std::string queue_report(const TaskQueue& queue, const QueueStatus& s) {
  std::ostringstream r;
  r << "Queue " << queue.folder().string() << " (" << queue.plan().value("command", std::string("?")) << "): " << s.done() << " of "
    << s.tasks() << " tasks done" << (s.finished() ? ", finished" : "") << "\n";
  for (const auto& p : s.phases) {
    r << "  " << p.name << ": " << p.done << " of " << p.tasks << " done";
    if (p.running) r << ", " << p.running << " running";
    if (p.todo) r << ", " << p.todo << " waiting";
    if (p.failed) r << ", " << p.failed << " failed";
    if (p.done) r << " (median " << format_duration(p.median_seconds) << ")";
    r << "\n";
  }
  for (const auto& run : s.running) {
    const double median = s.phases[static_cast<size_t>(run.task.phase)].median_seconds;
    r << "  running: " << describe_task(queue, run.task) << " on " << run.worker << " for " << format_duration(run.seconds);
    if (median > 0 && run.seconds > 3 * median + 10) r << "  <- slow: more than 3 times the median";
    if (run.quiet > s.lease_seconds) r << "  <- its worker is silent; the task goes back to the queue";
    r << "\n";
  }
  for (const auto& f : s.failures) r << "  FAILED: " << f.message << "\n    log: " << f.log << "\n";
  if (!s.failures.empty()) r << "  Fix the cause, then: uniem worker " << queue.folder().string() << " --retry\n";
  return r.str();
}

}  // namespace uniem::apps
