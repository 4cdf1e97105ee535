#include "web/jobs/job_service.h"

#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>
#include <fstream>
#include <regex>
#include <sstream>

#include "io/atomic_output.h"
#include "io/folder_lock.h"
#include "web/request_error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::web {
namespace {

constexpr int max_checks = 4;  // `uniem run --check` processes at once

using Clock = std::chrono::steady_clock;

// A started child: its pid and the read end of its stderr.
struct Child {
  pid_t pid = -1;
  int err = -1;
};

// Starts `argv` in its own process group in `folder`, at `niceness`, stdout appended to `log`,
// stderr into the pipe returned, no other descriptor of the server (its clients' sockets) open.
// Told SIGTERM when this thread ends.
Child spawn(const std::vector<std::string>& argv, const fs::path& log, const fs::path& folder, int niceness) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw Error("job service: no pipe for a job's output");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string log_path = log.string(), folder_path = folder.string();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw Error("job service: cannot start a job (fork failed)");
  }
  if (pid == 0) {  // only async-signal-safe calls until exec
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(143);
    ::setpriority(PRIO_PROCESS, 0, niceness);
    const int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) ::_exit(126);
    ::dup2(out, 1);
    ::dup2(pipe_fds[1], 2);
    ::close_range(3, ~0U, 0);
    if (::chdir(folder_path.c_str()) != 0) ::_exit(126);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  ::setpgid(pid, pid);  // here too: a cancel right after fork must reach the group
  return {pid, pipe_fds[0]};
}

// SIGTERM (or `signal`) to a job's process group, or to the process when the group is not made yet.
void signal_job(pid_t pid, int signal) {
  if (::kill(-pid, signal) != 0) ::kill(pid, signal);
}

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// "uniem run: step 2 (infer2d): --tile ..." -> "step 2 (infer2d): --tile ..."
std::string plain_message(std::string line) {
  for (const char* prefix : {"uniem run: ", "uniem: "})
    if (line.starts_with(prefix)) line = line.substr(std::strlen(prefix));
  return line;
}

// The fields a check's message names, in order: 'in' (a positional), --steps (an option).
json fields_named(const std::string& message) {
  static const std::regex field(R"('([a-z][a-z0-9_]*)'|--([a-z][a-z0-9-]*))");
  json fields = json::array();
  for (auto it = std::sregex_iterator(message.begin(), message.end(), field); it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1].matched ? (*it)[1].str() : (*it)[2].str();
    if (std::find(fields.begin(), fields.end(), name) == fields.end()) fields.push_back(name);
  }
  return fields;
}

std::string tail_lines(const fs::path& file, int lines) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg(), start = std::max<std::streamoff>(0, size - (256 << 10));
  in.seekg(start);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = text.size();
  if (!text.empty() && text.back() == '\n') --pos;
  for (int n = 0; n < lines && pos != std::string::npos && pos > 0; ++n) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

int64_t job_id(const json& body) {
  if (!body.is_object() || !body.contains("id") || !body["id"].is_number_integer())
    throw RequestError(400, "give the job as {\"id\": N}");
  return body["id"].get<int64_t>();
}

std::string default_name(const json& job) {
  if (job.contains("command") && job["command"].is_string()) return job["command"];
  std::string s = "pipeline:";
  if (job.contains("pipeline") && job["pipeline"].is_array())
    for (const auto& step : job["pipeline"]) s += " " + step.value("command", std::string("?"));
  return s;
}

}  // namespace

JobService::JobService(HttpServer& http, JobServiceOptions options) : JobService(std::move(options)) { routes(http); }

JobService::JobService(JobServiceOptions options) : options_(std::move(options)) {
  options_.workspace = fs::absolute(options_.workspace).lexically_normal();
  fs::create_directories(options_.workspace / ".uniem");
  fs::create_directories(options_.workspace / "runs");
  lock_ = std::make_unique<FolderLock>(options_.workspace / ".uniem" / "lock",
                                       options_.workspace.string() + " is served by another uniem workbench; stop that one first");
  store_ = std::make_unique<JobStore>(options_.workspace / ".uniem" / "jobs.sqlite");
}

void JobService::start() {
  if (!worker_.joinable()) worker_ = std::thread([this] { work(); });
}

JobService::~JobService() { stop(); }

void JobService::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_ && pid_ > 0) {
      std::fprintf(stderr, "uniem workbench: stopping job %lld (resume it later)...\n", static_cast<long long>(running_));
      signal_job(pid_, SIGTERM);
    }
    stopping_ = true;
    stop_time_ = Clock::now();
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

fs::path JobService::run_folder(int64_t id) const { return options_.workspace / "runs" / ("job-" + std::to_string(id)); }

void JobService::publish(int64_t job, json body) {
  if (options_.on_event) options_.on_event(job, body);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (body.value("event", "") == "progress") progress_[job] = body;
    if (body.value("event", "") == "metrics") metrics_[job] = body;
    events_.push_back({next_seq_++, job, std::move(body)});
    if (events_.size() > 4096) events_.pop_front();
  }
  changed_.notify_all();
}

void JobService::work() {
  // Nothing that fails here may end the server (and the proofreading sessions it holds): a
  // failure is said on stderr and in the job, and the queue goes on after a pause.
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    std::optional<JobRow> next;
    try {
      next = store_->next_queued();
      if (next) run(*next);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "uniem workbench: %s%s\n", next ? ("job " + std::to_string(next->id) + " could not run: ").c_str() : "", e.what());
      try {
        if (next) store_->set_ended(next->id, "failed", 1, std::string("the job could not run: ") + e.what());
        if (next) publish(next->id, {{"event", "state"}, {"state", "failed"}, {"message", e.what()}});
      } catch (const std::exception&) {
      }
      next.reset();
    }
    if (!next) {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait_for(lock, std::chrono::milliseconds(250));
    }
  }
}

void JobService::run(const JobRow& row) {
  const fs::path folder = row.run_folder.empty() ? run_folder(row.id) : fs::path(row.run_folder), job_file = folder / "job.json", log = folder / "log.txt";
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;  // never started: it stays queued for the next start
  }
  if (row.runs == 0 && fs::exists(folder)) {  // left by a job store that was made again: kept aside, never mixed in
    const fs::path aside = folder.string() + ".earlier-" + std::to_string(std::time(nullptr));
    fs::rename(folder, aside);
    std::fprintf(stderr, "uniem workbench: %s was there before job %lld; moved to %s\n", folder.c_str(),
                 static_cast<long long>(row.id), aside.c_str());
  }
  fs::create_directories(folder);
  write_file_atomically(job_file, row.job.dump(1) + "\n", true);  // always what was submitted
  {
    std::ofstream header(log, std::ios::app);
    header << "=== " << (row.runs == 0 ? "started" : "resumed") << " " << utc_now() << ": " << row.name << " ===\n";
  }
  std::vector<std::string> argv = {options_.program, "run", job_file.string(), "--out", folder.string(),
                                   "--from", options_.workspace.string(), "--progress", "json", "--confine"};
  if (row.resume) argv.push_back("--resume");
  const auto start = Clock::now();
  Child child;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;  // never started: it stays queued for the next start
    if (!store_->set_running(row.id, folder.string())) return;  // cancelled meanwhile
    child = spawn(argv, log, folder, options_.niceness);
    pid_ = child.pid;
    running_ = row.id;
    progress_.erase(row.id);  // a resumed job's last run says nothing about this one
    metrics_.erase(row.id);
    cancel_ = false;
  }
  publish(row.id, {{"event", "state"}, {"state", "running"}});

  std::ofstream log_out(log, std::ios::app), metrics_out(folder / "events.jsonl", std::ios::app);
  std::string pending, last_line;
  bool killed = false;
  auto last_event = Clock::now();
  char buffer[8192];
  while (true) {
    pollfd p{child.err, POLLIN, 0};
    const int ready = ::poll(&p, 1, 1000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready > 0) {
      const ssize_t n = ::read(child.err, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      pending.append(buffer, static_cast<size_t>(n));
      for (size_t end; (end = pending.find('\n')) != std::string::npos;) {
        const std::string line = pending.substr(0, end);
        pending.erase(0, end + 1);
        json event = line.starts_with("{") ? json::parse(line, nullptr, false) : json();
        if (event.is_object() && event.contains("event")) {
          if (event["event"] == "metrics") metrics_out << line << "\n" << std::flush;
          publish(row.id, std::move(event));
          last_event = Clock::now();
        } else if (!line.empty()) {
          log_out << line << "\n" << std::flush;
          if (line.starts_with("uniem")) last_line = line;  // what stopped it ("uniem run: step 2 of 3 (eval): ...")
        }
      }
    }
    {
      // Stopping the server: the job had SIGTERM (stop()); one that does not end within 30 s is killed.
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ && stop_time_ && Clock::now() - *stop_time_ > std::chrono::seconds(30) && !killed) {
        std::fprintf(stderr, "uniem workbench: job %lld did not stop within 30 s; killed\n", static_cast<long long>(row.id));
        signal_job(child.pid, SIGKILL);
        killed = true;
      }
    }
    if (Clock::now() - last_event >= std::chrono::seconds(1)) {  // still running: said once a second
      publish(row.id, {{"event", "state"}, {"state", "running"},
                       {"seconds", std::chrono::duration<double>(Clock::now() - start).count()}});
      last_event = Clock::now();
    }
  }
  ::close(child.err);
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  const int code = exit_status(status);
  std::string state, message = plain_message(last_line);
  bool cancelled = false, stopping = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pid_ = 0;
    running_ = 0;
    cancelled = cancel_;
    stopping = stopping_;
  }
  if (code == 0) {
    state = "done";
    message = "finished in " + std::to_string(static_cast<int64_t>(std::chrono::duration<double>(Clock::now() - start).count())) + " s";
  } else if (stopping) {
    state = "interrupted";
    message = "the server stopped while it ran; resume goes on where it stopped";
  } else if (cancelled) {
    state = "cancelled";
    message = message.empty() ? "cancelled" : message;
  } else {
    state = "failed";
    if (message.empty()) message = "ended with status " + std::to_string(code);
  }
  log_out << "=== " << state << " " << utc_now() << " (exit status " << code << ") ===\n";
  store_->set_ended(row.id, state, code, message);
  publish(row.id, {{"event", "state"}, {"state", state}, {"exit_status", code}, {"message", message}});
}

json JobService::check(const json& job) {
  // At most a few checks at once: forms are checked as they are typed in, by every browser.
  struct Slot {
    std::atomic<int>& n;
    explicit Slot(std::atomic<int>& count) : n(count) { ++n; }
    ~Slot() { --n; }
  } slot(checks_running_);
  if (checks_running_ > max_checks)
    throw RequestError(503, "the server is checking many forms at once; the check is tried again as you type");
  const fs::path file = options_.workspace / ".uniem" / ("check-" + make_token().substr(0, 12) + ".json");
  write_file(file, job.dump());
  const fs::path log = options_.workspace / ".uniem" / (file.stem().string() + ".log");
  Child child = spawn({options_.program, "run", file.string(), "--check", "--confine", "--from", options_.workspace.string(),
                       "--out", (options_.workspace / "runs" / "check").string(), "--progress", "off"},
                      log, options_.workspace, 0);
  std::string err;
  char buffer[4096];
  for (ssize_t n; (n = ::read(child.err, buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    err.append(buffer, static_cast<size_t>(n));
  }
  ::close(child.err);
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::error_code ec;
  fs::remove(file, ec);
  fs::remove(log, ec);
  const int code = exit_status(status);
  if (code == 0) return {{"ok", true}};
  const std::string first = err.substr(0, err.find('\n'));
  return {{"ok", false}, {"status", code}, {"message", plain_message(first.empty() ? "the job could not be checked" : first)}};
}

json JobService::describe(const JobRow& row, bool with_record) {
  json j = row.to_json();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = progress_.find(row.id); it != progress_.end() && row.state == "running") j["progress"] = it->second;
    if (auto it = metrics_.find(row.id); it != metrics_.end() && row.state == "running") j["metrics"] = it->second;
  }
  if (with_record && !row.run_folder.empty()) {
    std::ifstream in(fs::path(row.run_folder) / "run.json");
    if (in) j["record"] = json::parse(in, nullptr, false);
  }
  return j;
}

void JobService::routes(HttpServer& http) {
  // Whether the browser that sent `req` submitted the job (a program's jobs are anyone's).
  const auto mine = [&http](const httplib::Request& req, const JobRow& row) { return !row.client.empty() && row.client == http.client(req); };
  const auto row_of = [this](const httplib::Request& req) {
    const std::string text = req.matches[1];
    if (text.size() > 15) throw RequestError(404, "no job " + text);
    const auto row = store_->get(std::stoll(text));
    if (!row) throw RequestError(404, "no job " + text);
    return *row;
  };
  http.get("/api/commands", [this](const httplib::Request&, httplib::Response& res) {
    json answer = options_.commands;
    if (options_.tools) {
      const json tools = options_.tools();
      for (const auto& t : tools.value("tools", json::array())) answer["commands"].push_back(t);
      answer["tool_problems"] = tools.value("problems", json::array());
    }
    send_json(res, answer);
  });
  http.get("/api/jobs", [this, mine](const httplib::Request& req, httplib::Response& res) {
    json list = json::array();
    for (const auto& row : store_->list()) {
      list.push_back(describe(row, false));
      list.back()["mine"] = mine(req, row);
      list.back()["may_cancel"] = row.client.empty() || mine(req, row);
    }
    send_json(res, {{"jobs", list}, {"workspace", options_.workspace.string()}});
  });
  http.get(R"(/api/jobs/(\d+))", [this, row_of, mine](const httplib::Request& req, httplib::Response& res) {
    const JobRow row = row_of(req);
    json j = describe(row, true);
    j["mine"] = mine(req, row);
    j["may_cancel"] = row.client.empty() || mine(req, row);
    send_json(res, j);
  });
  http.get(R"(/api/jobs/(\d+)/log)", [row_of](const httplib::Request& req, httplib::Response& res) {
    const JobRow row = row_of(req);
    const int lines = static_cast<int>(query_integer(req, "lines", 1, 10000, 200, false));
    const std::string text = row.run_folder.empty() ? "" : tail_lines(fs::path(row.run_folder) / "log.txt", lines);
    send_json(res, {{"id", row.id}, {"log", text}});
  });
  http.stream(R"(/api/jobs/(\d+)/events)", [this, row_of](const httplib::Request& req) -> StreamStep {
    const int64_t id = row_of(req).id;
    int64_t seen = query_integer(req, "since", 0, INT64_MAX / 2, 0, false);
    return [this, id, seen]() mutable {
      std::unique_lock<std::mutex> lock(mutex_);
      json events = json::array();
      const auto collect = [&] {
        for (const auto& e : events_)
          if (e.seq > seen && e.job == id) {
            events.push_back(e.body);
            seen = e.seq;
            if (events.size() >= 256) break;
          }
        return !events.empty() || stopping_;
      };
      changed_.wait_for(lock, std::chrono::seconds(2), collect);
      if (events.empty() && stopping_) return std::string();  // the server stops: the stream ends
      if (events.empty()) return std::string(": idle\n\n");
      return "data: " + json{{"id", id}, {"next", seen}, {"events", events}}.dump() + "\n\n";
    };
  });
  http.post("/api/jobs", [this, &http](const httplib::Request& req, const json& body, httplib::Response& res) {
    if (!body.is_object() || !body.contains("job") || !body["job"].is_object())
      throw RequestError(400, "send {\"job\": {\"command\": ..., \"arguments\": {...}}, \"name\": optional}");
    const json checked = check(body["job"]);
    if (!checked["ok"].get<bool>()) {
      const std::string message = checked["message"];
      return send_json(res, {{"error", message}, {"fields", fields_named(message)}}, 400);
    }
    const std::string name = body.contains("name") && body["name"].is_string() && !body["name"].get<std::string>().empty()
                                 ? body["name"].get<std::string>().substr(0, 200)
                                 : default_name(body["job"]);
    const std::string client = http.client(req);
    if (body.contains("user") && !body["user"].is_string()) throw RequestError(400, "'user' is a name, as text");
    std::string user = body.value("user", "");
    user = user.substr(0, std::min<size_t>(user.size(), 100));
    if (user.find_first_not_of(" \t") == std::string::npos) user = client.empty() ? "a program" : "someone in a browser";
    const int64_t id = store_->submit(body["job"], name, user, client);
    publish(id, {{"event", "state"}, {"state", "queued"}});
    send_json(res, {{"id", id}, {"state", "queued"}, {"name", name}});
  });
  http.post("/api/jobs/check", [this](const httplib::Request&, const json& body, httplib::Response& res) {
    if (!body.is_object() || !body.contains("job") || !body["job"].is_object())
      throw RequestError(400, "send {\"job\": {\"command\": ..., \"arguments\": {...}}}");
    json checked = check(body["job"]);
    checked["fields"] = json::array();
    if (checked.contains("message")) checked["fields"] = fields_named(checked["message"].get<std::string>());
    send_json(res, checked);
  });
  http.post("/api/jobs/cancel", [this, mine](const httplib::Request& req, const json& body, httplib::Response& res) {
    const int64_t id = job_id(body);
    if (const auto row = store_->get(id); row && !row->client.empty() && !mine(req, *row))
      throw RequestError(403, "job " + std::to_string(id) + " was started by " + row->user +
                                  " in another browser; only they can cancel it (or stop the workbench with Ctrl+C)");
    if (store_->cancel_queued(id)) {
      publish(id, {{"event", "state"}, {"state", "cancelled"}, {"message", "cancelled before it started"}});
      return send_json(res, {{"id", id}, {"state", "cancelled"}});
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (running_ == id && pid_ > 0) {
        cancel_ = true;
        signal_job(pid_, SIGTERM);
        return send_json(res, {{"id", id}, {"state", "cancelling"}});
      }
    }
    const auto row = store_->get(id);
    if (!row) throw RequestError(404, "no job " + std::to_string(id));
    throw RequestError(409, "job " + std::to_string(id) + " is " + row->state + "; only queued or running jobs can be cancelled");
  });
  http.post("/api/jobs/resume", [this](const httplib::Request&, const json& body, httplib::Response& res) {
    const int64_t id = job_id(body);
    if (store_->resume(id)) {
      publish(id, {{"event", "state"}, {"state", "queued"}});
      changed_.notify_all();
      return send_json(res, {{"id", id}, {"state", "queued"}});
    }
    const auto row = store_->get(id);
    if (!row) throw RequestError(404, "no job " + std::to_string(id));
    throw RequestError(409, "job " + std::to_string(id) + " is " + row->state + "; only cancelled, failed or interrupted jobs resume");
  });
}

}  // namespace uniem::web
