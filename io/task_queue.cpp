#include "io/task_queue.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "io/atomic_output.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Seconds since the file was last changed, renamed or touched (its ctime: a rename into leased/
// counts as new, though it keeps the todo file's mtime), or -1 when it is gone.
double age(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return -1;
  const double modified = static_cast<double>(st.st_ctim.tv_sec) + static_cast<double>(st.st_ctim.tv_nsec) * 1e-9;
  return now_seconds() - modified;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

json read_json(const fs::path& file) {
  const json j = json::parse(read_text(file), nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

// The names in `folder` (none when it cannot be listed), sorted.
std::vector<std::string> names_in(const fs::path& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// "P-K@W" -> (P-K, W)
std::pair<std::string, std::string> split_lease(const std::string& name) {
  const size_t at = name.find('@');
  if (at == std::string::npos) return {name, ""};
  return {name.substr(0, at), name.substr(at + 1)};
}

// Writes `content` to `target` under a name of this process, then renames it (replacing).
void replace_file(const fs::path& target, const std::string& content) {
  static std::atomic<int> counter{0};
  const fs::path tmp = target.string() + ".part-" + worker_name() + "-" + std::to_string(counter++);
  write_file(tmp, content);
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw InputError(target, "could not be written (" + ec.message() + ")");
  }
}

}  // namespace

std::string TaskId::name() const {
  char text[32];
  std::snprintf(text, sizeof text, "%d-%06lld", phase, static_cast<long long>(index));
  return text;
}

std::optional<TaskId> TaskId::parse(const std::string& name) {
  int phase = 0;
  long long index = 0;
  int used = 0;
  if (std::sscanf(name.c_str(), "%d-%lld%n", &phase, &index, &used) != 2 || used != static_cast<int>(name.size())) return std::nullopt;
  return TaskId{phase, index};
}

bool QueueStatus::finished() const { return done() == tasks(); }

int64_t QueueStatus::tasks() const {
  int64_t n = 0;
  for (const auto& p : phases) n += p.tasks;
  return n;
}

int64_t QueueStatus::done() const {
  int64_t n = 0;
  for (const auto& p : phases) n += p.done;
  return n;
}

std::string worker_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || !host[0]) std::snprintf(host, sizeof host, "host");
  std::string name = host;
  for (char& c : name)
    if (c == '@' || c == '/' || c == ' ') c = '_';
  return name + "-" + std::to_string(::getpid());
}

TaskQueue TaskQueue::create(const fs::path& folder, json plan, const std::vector<QueuePhase>& phases, double lease_seconds) {
  std::error_code ec;
  if (fs::exists(folder, ec)) throw InputError(folder, "already exists; choose a new queue folder (or remove it)");
  plan["phases"] = json::array();
  for (const auto& p : phases) plan["phases"].push_back({{"name", p.name}, {"tasks", p.tasks}});
  plan["lease_seconds"] = lease_seconds;
  // Made under a temporary name and renamed: a queue is complete, or absent.
  AtomicOutput out(folder, AtomicOutput::Kind::folder, false);
  const fs::path t = out.temporary();
  for (const char* sub : {"todo", "leased", "done", "failed", "work", "logs"}) fs::create_directories(t / sub);
  write_file(t / "plan.json", plan.dump(2) + "\n");
  for (size_t p = 0; p < phases.size(); ++p)
    for (int64_t k = 0; k < phases[p].tasks; ++k) write_file(t / "todo" / TaskId{static_cast<int>(p), k}.name(), "");
  out.commit();
  return TaskQueue(folder);
}

TaskQueue::TaskQueue(const fs::path& folder) : folder_(folder) {
  std::error_code ec;
  if (!fs::is_regular_file(folder / "plan.json", ec))
    throw InputError(folder, "is not a task queue (no plan.json; uniem makes one with --cluster)");
  plan_ = json::parse(read_text(folder / "plan.json"), nullptr, false);
  if (plan_.is_discarded() || !plan_.is_object() || !plan_.contains("phases") || !plan_["phases"].is_array())
    throw InputError(folder / "plan.json", "is not a queue's plan (no list of phases)");
  for (const auto& p : plan_["phases"]) phases_.push_back({p.value("name", ""), p.value("tasks", int64_t{0})});
  lease_seconds_ = plan_.value("lease_seconds", 600.0);
}

int64_t TaskQueue::reclaim_expired() const {
  int64_t n = 0;
  for (const auto& name : names_in(folder_ / "leased")) {
    const fs::path file = folder_ / "leased" / name;
    const double quiet = age(file);
    if (quiet < lease_seconds_) continue;
    const std::string task = split_lease(name).first;
    std::error_code ec;
    if (fs::exists(folder_ / "done" / task, ec)) {
      fs::remove(file, ec);  // done, but its worker died before giving the lease back
      continue;
    }
    fs::rename(file, folder_ / "todo" / task, ec);  // one of the workers that see it at once wins
    if (!ec) ++n;
  }
  return n;
}

std::optional<TaskLease> TaskQueue::take(const std::string& worker, int last_phase) const {
  std::map<int, int64_t> done;
  for (const auto& name : names_in(folder_ / "done"))
    if (const auto id = TaskId::parse(name)) ++done[id->phase];
  int phase = 0;
  while (phase < static_cast<int>(phases_.size()) && done[phase] >= phases_[static_cast<size_t>(phase)].tasks) ++phase;
  if (phase >= static_cast<int>(phases_.size()) || phase > last_phase) return std::nullopt;
  for (const auto& name : names_in(folder_ / "todo")) {
    const auto id = TaskId::parse(name);
    if (!id || id->phase != phase) continue;
    std::error_code ec;
    if (fs::exists(folder_ / "done" / name, ec)) {  // done by a worker whose lease had expired
      fs::remove(folder_ / "todo" / name, ec);
      continue;
    }
    TaskLease lease{*id, worker, folder_ / "leased" / (name + "@" + worker)};
    fs::rename(folder_ / "todo" / name, lease.file, ec);
    if (ec) continue;  // another worker took it first
    std::ofstream(lease.file, std::ios::trunc) << json{{"worker", worker}, {"taken", now_seconds()}}.dump() << "\n";
    return lease;
  }
  return std::nullopt;
}

bool TaskQueue::touch(const TaskLease& lease) const {
  return ::utimensat(AT_FDCWD, lease.file.c_str(), nullptr, 0) == 0;
}

void TaskQueue::complete(const TaskLease& lease, double seconds) const {
  replace_file(folder_ / "done" / lease.task.name(), json{{"worker", lease.worker}, {"seconds", seconds}}.dump() + "\n");
  std::error_code ec;
  fs::remove(lease.file, ec);
}

void TaskQueue::fail(const TaskLease& lease, const std::string& message, const fs::path& log) const {
  replace_file(folder_ / "failed" / lease.task.name(),
               json{{"worker", lease.worker}, {"message", message}, {"log", log.string()}}.dump() + "\n");
  std::error_code ec;
  fs::remove(lease.file, ec);
}

int64_t TaskQueue::retry_failed() const {
  int64_t n = 0;
  for (const auto& name : names_in(folder_ / "failed")) {
    std::error_code ec;
    fs::rename(folder_ / "failed" / name, folder_ / "todo" / name, ec);
    if (!ec) {
      std::ofstream(folder_ / "todo" / name, std::ios::trunc);
      ++n;
    }
  }
  return n;
}

QueueStatus TaskQueue::status() const {
  QueueStatus s;
  s.lease_seconds = lease_seconds_;
  for (const auto& p : phases_) s.phases.push_back({p.name, p.tasks});
  const auto at = [&](const TaskId& id) -> QueueStatus::Phase* {
    return id.phase >= 0 && id.phase < static_cast<int>(s.phases.size()) ? &s.phases[static_cast<size_t>(id.phase)] : nullptr;
  };
  std::map<int, std::vector<double>> seconds;
  for (const auto& name : names_in(folder_ / "done"))
    if (const auto id = TaskId::parse(name); id && at(*id)) {
      ++at(*id)->done;
      seconds[id->phase].push_back(read_json(folder_ / "done" / name).value("seconds", 0.0));
    }
  for (auto& [phase, list] : seconds) {
    std::sort(list.begin(), list.end());
    s.phases[static_cast<size_t>(phase)].median_seconds = list[list.size() / 2];
  }
  for (const auto& name : names_in(folder_ / "todo"))
    if (const auto id = TaskId::parse(name); id && at(*id)) ++at(*id)->todo;
  for (const auto& name : names_in(folder_ / "leased")) {
    const auto [task, worker] = split_lease(name);
    const auto id = TaskId::parse(task);
    if (!id || !at(*id)) continue;
    ++at(*id)->running;
    const fs::path file = folder_ / "leased" / name;
    const double taken = read_json(file).value("taken", 0.0);
    s.running.push_back({*id, worker, taken > 0 ? now_seconds() - taken : 0, std::max(0.0, age(file))});
  }
  for (const auto& name : names_in(folder_ / "failed"))
    if (const auto id = TaskId::parse(name); id && at(*id)) {
      ++at(*id)->failed;
      const json f = read_json(folder_ / "failed" / name);
      s.failures.push_back({*id, f.value("worker", ""), f.value("message", ""), f.value("log", "")});
    }
  return s;
}

void TaskQueue::publish(const std::string& name, const std::string& content) const { replace_file(work() / name, content); }

fs::path TaskQueue::scratch(const std::string& name) const {
  static std::atomic<int> counter{0};
  return work() / (".part-" + worker_name() + "-" + std::to_string(counter++) + "-" + name);
}

}  // namespace uniem
