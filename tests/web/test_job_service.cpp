// The job service of `uniem workbench` (web/jobs/), over HTTP, with the real binary: a job is
// checked, queued and run in a child process; its progress comes as server-sent events at least
// once a second; it can be cancelled; a server killed outright finds its job interrupted after a
// restart, and resuming finishes it; queued jobs run one after the other.
#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::test;  // TempDir, run_uniem, quote, ...
namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// `uniem workbench FOLDER --port 0 --token T`, its port read from what it prints.
struct Workbench {
  pid_t pid = -1;
  int port = 0;
  fs::path log;

  explicit Workbench(const fs::path& folder) {
    static int started = 0;
    log = folder.parent_path() / ("workbench-" + std::to_string(++started) + ".log");
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(UNIEM_BINARY, UNIEM_BINARY, "workbench", folder.c_str(), "--port", "0", "--token", "T", nullptr);
      ::_exit(127);
    }
    for (int k = 0; k < 300 && port == 0; ++k) {
      std::ifstream in(log);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (const auto at = text.find("http://127.0.0.1:"); at != std::string::npos) port = std::stoi(text.substr(at + 17));
      else std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(port > 0);
  }
  ~Workbench() { end(SIGTERM); }
  int end(int signal) {
    if (pid <= 0) return -1;
    ::kill(pid, signal);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return status;
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_default_headers({{"X-Uniem-Token", "T"}});
    c.set_read_timeout(30, 0);
    return c;
  }
  json get(const std::string& path) const {
    auto r = client().Get(path);
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 200, r->body);
    return json::parse(r->body);
  }
  // POST: (status, body)
  std::pair<int, json> post(const std::string& path, const json& body) const {
    auto r = client().Post(path, body.dump(), "application/json");
    REQUIRE(r);
    return {r->status, json::parse(r->body)};
  }
  json job(int64_t id) const { return get("/api/jobs/" + std::to_string(id)); }
  // Waits until job `id` is in one of `states`; returns it.
  json wait_for(int64_t id, const std::vector<std::string>& states, int seconds = 120) const {
    const auto end = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < end) {
      json j = job(id);
      for (const auto& s : states)
        if (j["state"] == s) return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("job " << id << " did not reach the expected state: " << job(id).dump());
    return {};
  }
};

json train_job(const std::string& model, int steps) {
  return {{"command", "train2d"},
          {"arguments", {{"images", "s/image"}, {"labels", "s/membranes"}, {"model", model}, {"filters", 8}, {"depth", 3},
                         {"patch", 64}, {"batch", 4}, {"steps", steps}, {"validate-every", 100}, {"log-every", 10},
                         {"checkpoint-every", 20}}}};
}

}  // namespace

TEST_CASE("job service: submit, progress every second, cancel; bad jobs refused with the command line's message") {
  TempDir dir;
  const fs::path ws = dir / "ws";
  fs::create_directories(ws);
  REQUIRE(run_uniem("synth " + quote(ws / "s") + " --shape 6,96,96 --quiet").exit_code == 0);
  Workbench wb(ws);
  CHECK(wb.get("/api/commands")["commands"].size() >= 16);

  auto [status, refused] = wb.post("/api/jobs", {{"job", {{"command", "train2d"}, {"arguments", {{"images", "s/image"}, {"labels", "s/membranes"}, {"model", "m"}, {"batch", 0}}}}}});
  CHECK(status == 400);
  CHECK(refused["error"].get<std::string>().find("--batch takes 1 to 1024, not 0") != std::string::npos);
  CHECK(refused["fields"] == json({"batch"}));
  std::tie(status, refused) = wb.post("/api/jobs", {{"job", {{"command", "label"}, {"arguments", {{"in", "nothing"}, {"out", "x.tif"}}}}}});
  CHECK(status == 400);
  CHECK(refused["error"].get<std::string>().find("'in': nothing does not exist") != std::string::npos);
  std::tie(status, refused) = wb.post("/api/jobs", {{"job", {{"command", "synth"}, {"arguments", {{"out", "../../victim"}, {"overwrite", true}}}}}});
  CHECK(status == 400);
  CHECK(refused["error"].get<std::string>().find("is outside the job's folder") != std::string::npos);
  CHECK(wb.get("/api/jobs")["jobs"].empty());

  auto [ok, submitted] = wb.post("/api/jobs", {{"job", train_job("m", 5000)}, {"name", "long training"}});
  REQUIRE(ok == 200);
  const int64_t id = submitted["id"];
  // Events as they come: progress or "still running" at least once a second.
  std::vector<double> times;
  std::vector<json> events;
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    auto c = wb.client();
    const auto start = Clock::now();
    c.Get("/api/jobs/" + std::to_string(id) + "/events", [&](const char* data, size_t size) {
      const std::string text(data, size);
      for (size_t at = 0; (at = text.find("data: ", at)) != std::string::npos; at += 6) {
        const json e = json::parse(text.substr(at + 6, text.find("\n\n", at) - at - 6));
        for (const auto& ev : e["events"]) {
          times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
          events.push_back(ev);
        }
      }
      return !stop;
    });
  });
  wb.wait_for(id, {"running"});
  std::this_thread::sleep_for(std::chrono::seconds(4));
  auto [cancel_status, cancelling] = wb.post("/api/jobs/cancel", {{"id", id}});
  CHECK(cancel_status == 200);
  const json ended = wb.wait_for(id, {"cancelled", "failed", "done"});
  CHECK(ended["state"] == "cancelled");
  CHECK(ended["exit_status"] == 143);
  stop = true;
  wb.post("/api/jobs/cancel", {{"id", id}});  // wakes the stream for its last check
  reader.join();
  // While it ran, no gap of more than a second and a half between events; metrics among them.
  size_t running_from = 0;
  for (size_t i = 0; i < events.size(); ++i)
    if (events[i].value("state", "") == "running") {
      running_from = i;
      break;
    }
  double widest = 0;
  for (size_t i = running_from + 1; i < times.size(); ++i) widest = std::max(widest, times[i] - times[i - 1]);
  CHECK(times.size() - running_from >= 4);
  CHECK(widest < 1.5);
  bool metrics = false;
  for (const auto& e : events) metrics = metrics || e.value("event", "") == "metrics";
  CHECK(metrics);
  CHECK(events.back().value("state", "") == "cancelled");
  // Its log and record say what happened.
  const std::string log = wb.get("/api/jobs/" + std::to_string(id) + "/log")["log"];
  CHECK(log.find("cancelled") != std::string::npos);
  CHECK(wb.job(id)["record"]["exit_status"] == 143);
  auto [again, conflict] = wb.post("/api/jobs/cancel", {{"id", id}});
  CHECK(again == 409);
}

TEST_CASE("job service: a killed server finds its job interrupted; resume finishes it; queued jobs run one at a time") {
  TempDir dir;
  const fs::path ws = dir / "ws";
  fs::create_directories(ws);
  REQUIRE(run_uniem("synth " + quote(ws / "s") + " --shape 6,96,96 --quiet").exit_code == 0);
  int64_t id = 0;
  {
    Workbench wb(ws);
    id = wb.post("/api/jobs", {{"job", train_job("m", 400)}}).second["id"];
    wb.wait_for(id, {"running"});
    // Killed once training has saved a checkpoint.
    for (int k = 0; k < 600 && !fs::exists(ws / "runs" / ("job-" + std::to_string(id)) / "m" / "last.checkpoint"); ++k)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const int status = wb.end(SIGKILL);
    CHECK(WIFSIGNALED(status));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the orphaned job saves its state and ends
  Workbench wb(ws);
  std::ifstream in(wb.log);
  const std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(said.find("1 job stopped when the server last stopped") != std::string::npos);
  json j = wb.job(id);
  CHECK(j["state"] == "interrupted");
  CHECK(wb.post("/api/jobs/resume", {{"id", id}}).first == 200);
  j = wb.wait_for(id, {"done", "failed", "cancelled"});
  REQUIRE_MESSAGE(j["state"] == "done", wb.get("/api/jobs/" + std::to_string(id) + "/log").dump());
  CHECK(j["runs"] == 2);
  const std::string log = wb.get("/api/jobs/" + std::to_string(id) + "/log?lines=1000")["log"];
  CHECK(log.find("resuming from step") != std::string::npos);
  CHECK(j["record"]["steps"][0]["metrics"]["step"] == 400);

  // Two jobs queued at once: the second starts after the first ended.
  const int64_t a = wb.post("/api/jobs", {{"job", train_job("a", 60)}}).second["id"];
  const int64_t b = wb.post("/api/jobs", {{"job", {{"command", "synth"}, {"arguments", {{"out", "b"}, {"shape", "4,64,64"}}}}}}).second["id"];
  const json first = wb.wait_for(a, {"done"}), second = wb.wait_for(b, {"done"});
  CHECK(second["started"].get<std::string>() >= first["ended"].get<std::string>());
  CHECK(fs::exists(ws / "runs" / ("job-" + std::to_string(b)) / "b" / "image"));
  // A job cancelled while it waits never runs.
  const int64_t c = wb.post("/api/jobs", {{"job", train_job("c", 200)}}).second["id"];
  const int64_t d = wb.post("/api/jobs", {{"job", {{"command", "synth"}, {"arguments", {{"out", "d"}, {"shape", "4,64,64"}}}}}}).second["id"];
  CHECK(wb.post("/api/jobs/cancel", {{"id", d}}).first == 200);
  wb.wait_for(c, {"done"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(wb.job(d)["state"] == "cancelled");
  CHECK_FALSE(fs::exists(ws / "runs" / ("job-" + std::to_string(d))));
  CHECK(wb.get("/api/jobs")["jobs"].size() == 5);
  // One workbench per workspace.
  const auto other = run_uniem("workbench " + quote(ws) + " --port 0");
  CHECK(other.exit_code == 1);
  CHECK(other.output.find("is served by another uniem workbench") != std::string::npos);
}

TEST_CASE("job service: a form checked as it is filled in; only the browser that started a job cancels it") {
  TempDir dir;
  const fs::path ws = dir / "ws";
  fs::create_directories(ws);
  REQUIRE(run_uniem("synth " + quote(ws / "s") + " --shape 6,96,96 --quiet").exit_code == 0);
  Workbench wb(ws);
  // The check alone: the command line's message and the fields it names.
  auto [status, checked] = wb.post("/api/jobs/check", {{"job", train_job("m", 0)}});
  REQUIRE(status == 200);
  CHECK(checked["ok"] == false);
  CHECK(checked["message"].get<std::string>().find("--steps must be at least 1, not 0") != std::string::npos);
  CHECK(checked["fields"] == json({"steps"}));
  std::tie(status, checked) = wb.post("/api/jobs/check", {{"job", {{"command", "label"}, {"arguments", {{"in", "nothing"}, {"out", "x.tif"}}}}}});
  CHECK(checked["fields"][0] == "in");
  std::tie(status, checked) = wb.post("/api/jobs/check", {{"job", train_job("m", 10)}});
  CHECK(checked["ok"] == true);
  CHECK(wb.get("/api/jobs")["jobs"].empty());  // a check queues nothing

  // Two browsers: each loaded the page (with the token) and holds its own cookie.
  auto browser = [&] {
    auto c = wb.client();
    c.set_default_headers({});
    const auto page = c.Get("/?token=T");
    REQUIRE(page);
    const std::string set = page->get_header_value("Set-Cookie");
    REQUIRE(!set.empty());
    c.set_default_headers({{"Cookie", set.substr(0, set.find(';'))}});
    return c;
  };
  auto ana = browser(), ben = browser();
  const auto submitted = ana.Post("/api/jobs", json({{"job", train_job("m", 5000)}, {"user", "Ana"}}).dump(), "application/json");
  REQUIRE(submitted);
  REQUIRE_MESSAGE(submitted->status == 200, submitted->body);
  const int64_t id = json::parse(submitted->body)["id"];
  const json seen_by_ben = json::parse(ben.Get("/api/jobs")->body)["jobs"][0];
  CHECK(seen_by_ben["user"] == "Ana");
  CHECK(seen_by_ben["mine"] == false);
  CHECK(seen_by_ben["may_cancel"] == false);
  CHECK(json::parse(ana.Get("/api/jobs")->body)["jobs"][0]["mine"] == true);
  const auto refused = ben.Post("/api/jobs/cancel", json({{"id", id}}).dump(), "application/json");
  CHECK(refused->status == 403);
  CHECK(refused->body.find("started by Ana in another browser") != std::string::npos);
  const auto cancelled = ana.Post("/api/jobs/cancel", json({{"id", id}}).dump(), "application/json");
  CHECK(cancelled->status == 200);
  wb.wait_for(id, {"cancelled"});
}

TEST_CASE("job service: the workspace's external tools are offered beside the commands, as their manifests come and go") {
  TempDir dir;
  const fs::path ws = dir / "ws";
  fs::create_directories(ws / "tools");
  Workbench wb(ws);
  auto tools = [&] {
    std::string names;
    const json commands = wb.get("/api/commands");
    for (const auto& c : commands["commands"])
      if (c.value("tool", false)) names += c["command"].get<std::string>() + " ";
    return names;
  };
  CHECK(tools() == "");
  write_text(ws / "tools" / "say.json", R"({"summary": "says hello", "executable": "echo",
    "arguments": [{"name": "words", "kind": "option", "help": "what to say", "default": "hello"}]})");
  write_text(ws / "tools" / "broken.json", "{not json");
  CHECK(tools() == "tool:say ");
  const json commands = wb.get("/api/commands");
  REQUIRE(commands["tool_problems"].size() == 1);
  CHECK(commands["tool_problems"][0].get<std::string>().find("broken.json") != std::string::npos);
  auto [status, submitted] = wb.post("/api/jobs", {{"job", {{"command", "tool:say"}, {"arguments", {{"words", "hi"}}}}}});
  REQUIRE(status == 200);
  const json done = wb.wait_for(submitted["id"], {"done", "failed"});
  CHECK(done["state"] == "done");
  auto log = wb.client().Get("/api/jobs/" + std::to_string(submitted["id"].get<int64_t>()) + "/log");
  CHECK(log->body.find("--words=hi") != std::string::npos);
}

TEST_CASE("job service: a segmentation made into a proofreading project by a job opens in the workbench's proofreader") {
  TempDir dir;
  const fs::path ws = dir / "ws";
  fs::create_directories(ws);
  REQUIRE(run_uniem("synth " + quote(ws / "s") + " --shape 4,64,64 --quiet").exit_code == 0);
  Workbench wb(ws);
  auto [status, submitted] = wb.post("/api/jobs", {{"job", {{"command", "project"},
                                                            {"arguments", {{"images", "s/image"}, {"labels", "s/neurons"}, {"project", "proofreading"}}}}}});
  REQUIRE(status == 200);
  const json done = wb.wait_for(submitted["id"], {"done", "failed"});
  REQUIRE_MESSAGE(done["state"] == "done", done.dump());
  const json projects = wb.get("/api/projects")["projects"];
  REQUIRE(projects.size() == 1);
  CHECK(projects[0]["id"] == "runs~job-1~proofreading");
  CHECK(projects[0]["name"] == "runs/job-1/proofreading");
  const json info = wb.get("/projects/runs~job-1~proofreading/api/info");
  CHECK(info["shape"] == json({4, 64, 64}));
  CHECK(info["segments"].get<int64_t>() > 1);
  auto missing = wb.client().Get("/projects/runs~job-9~proofreading/api/info");
  CHECK(missing->status == 404);
  CHECK(wb.client().Get("/projects/..~escape/api/info")->status == 404);
}
