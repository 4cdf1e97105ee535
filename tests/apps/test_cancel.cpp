// Cancelling long commands with SIGTERM (as Ctrl+C or a job queue does) at random moments, ten
// times each for filter, mesh, train2d, infer2d and ffn segment
// (core/cancel.h): the command ends with status 143 (128 + SIGTERM) and a message saying what
// was kept, or has
// already finished (status 0); either way no partial output and no temporary is left. Training
// keeps its resumable state, and resuming gives the model an uninterrupted run gives.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "io/checkpoint.h"
#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::test;  // TempDir, run_uniem, quote, ...
namespace fs = std::filesystem;

namespace {

struct Ended {
  int status = -1;
  std::string output;
};

// Runs uniem with `arguments` (no shell, output into `log`); once `ready` appears in the log (if
// given), waits `delay` and sends SIGTERM; then waits for the end, two minutes at most.
Ended run_and_cancel(const std::vector<std::string>& arguments, std::chrono::milliseconds delay, const fs::path& log,
                     const std::string& ready = "") {
  std::vector<char*> argv{const_cast<char*>(UNIEM_BINARY)};
  for (const auto& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(UNIEM_BINARY, argv.data());
    ::_exit(127);
  }
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  bool ended = false;
  while (!ready.empty() && !ended && read_text(log).find(ready) == std::string::npos &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ended = ::waitpid(pid, &status, WNOHANG) == pid;
  }
  if (!ended) {
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGTERM);
    for (int k = 0; k < 1200 && !ended; ++k) {
      ended = ::waitpid(pid, &status, WNOHANG) == pid;
      if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!ended) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL("uniem did not end within two minutes of SIGTERM");
    }
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(log)};
}

int leftovers(const fs::path& folder) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(folder)) n += e.path().filename().string().find(".tmp-") != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("cancel: filter and mesh stopped at random moments leave nothing half-written") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 40,512,512 --quiet").exit_code == 0);
  std::mt19937 random(11);
  int cancelled = 0;
  for (int k = 0; k < 20; ++k) {  // ten of each
    const bool mesh = k % 2;
    const fs::path out = dir / ("out" + std::to_string(k) + (mesh ? "" : ".tif"));
    const std::vector<std::string> arguments =
        mesh ? std::vector<std::string>{"mesh", (dir / "s" / "neurons").string(), out.string()}
             : std::vector<std::string>{"filter", (dir / "s" / "image").string(), out.string(), "--median", "4", "--3d"};
    const Ended e = run_and_cancel(arguments, std::chrono::milliseconds(20 + random() % 480), dir / "log");
    INFO(arguments[0] << ": " << e.output);
    CHECK((e.status == 143 || e.status == 0));
    if (e.status == 143) {
      ++cancelled;
      CHECK(!fs::exists(out));
      CHECK(e.output.find("cancelled; outputs that were not finished were removed") != std::string::npos);
    } else {
      CHECK(fs::exists(out));
    }
    CHECK(leftovers(dir.path()) == 0);
  }
  CHECK(cancelled >= 10);  // most were stopped mid-way, not after they finished
}

TEST_CASE("cancel: train2d stopped mid-way keeps its step; resuming gives the uninterrupted model") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "a") + " --shape 6,96,96 --quiet").exit_code == 0);
  const std::vector<std::string> train = {"train2d", "--images", (dir / "a" / "image").string(), "--labels",
                                          (dir / "a" / "membranes").string(), "--filters", "8", "--depth", "3", "--patch",
                                          "64", "--batch", "2", "--validate-every", "1000", "--checkpoint-every", "1000",
                                          "--threads", "1", "--steps", "300", "--device", "cpu", "--log-every", "1"};
  std::vector<std::string> stopped = train;
  stopped.insert(stopped.end(), {"--model", (dir / "m").string()});
  const Ended e = run_and_cancel(stopped, std::chrono::milliseconds(100), dir / "log", "step 5/300");
  INFO(e.output);
  REQUIRE(e.status == 143);
  CHECK(e.output.find("training stopped at step") != std::string::npos);
  CHECK(e.output.find("continue with --resume") != std::string::npos);
  std::string args;
  for (const auto& a : train) args += " " + quote(a);
  REQUIRE(run_uniem(args.substr(1) + " --model " + quote(dir / "m") + " --resume --quiet").exit_code == 0);
  REQUIRE(run_uniem(args.substr(1) + " --model " + quote(dir / "straight") + " --quiet").exit_code == 0);
  const Checkpoint resumed = load_checkpoint(dir / "m" / "last.checkpoint"), straight = load_checkpoint(dir / "straight" / "last.checkpoint");
  REQUIRE(resumed.parameters.size() == straight.parameters.size());
  int different = 0;
  for (size_t i = 0; i < resumed.parameters.size(); ++i)
    different += resumed.parameters[i].tensor.to_vector() != straight.parameters[i].tensor.to_vector();
  CHECK(different == 0);
}

namespace {

// Runs `arguments` ten times, each stopped by SIGTERM at a random moment (a command that resumes
// by itself, as ffn segment from its state), each stopped run leaving no temporary in `folder`;
// then once to the end. Returns how many runs were stopped mid-way.
int stop_ten_times(const std::vector<std::string>& arguments, const fs::path& folder, uint32_t seed, int max_delay_ms) {
  std::mt19937 random(seed);
  int cancelled = 0;
  for (int k = 0; k < 10; ++k) {
    const Ended e = run_and_cancel(arguments, std::chrono::milliseconds(50 + random() % max_delay_ms), folder / "log");
    INFO(arguments[0] << " stop " << k << ": " << e.output);
    CHECK((e.status == 143 || e.status == 0));
    CHECK(leftovers(folder) == 0);
    if (e.status == 0) return cancelled;  // finished before the signal
    ++cancelled;
    CHECK(e.output.find("cancelled") != std::string::npos);
  }
  std::string line;
  for (const auto& a : arguments) line += " " + quote(a);
  CHECK(run_uniem(line.substr(1) + " --quiet").exit_code == 0);
  return cancelled;
}

}  // namespace

TEST_CASE("cancel: train2d stopped ten times at random moments, resumed each time, ends with the uninterrupted model") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "a") + " --shape 6,96,96 --quiet").exit_code == 0);
  const std::vector<std::string> train = {"train2d", "--images", (dir / "a" / "image").string(), "--labels",
                                          (dir / "a" / "membranes").string(), "--filters", "8", "--depth", "3", "--patch",
                                          "64", "--batch", "2", "--validate-every", "100", "--checkpoint-every", "50",
                                          "--threads", "1", "--steps", "400", "--device", "cpu"};
  std::vector<std::string> stopped = train;
  stopped.insert(stopped.end(), {"--model", (dir / "m").string()});
  // A run stopped before its first step leaves no model (nothing to resume): then the next one starts afresh.
  std::mt19937 random(7);
  int cancelled = 0;
  for (int k = 0; k < 10; ++k) {
    std::vector<std::string> run = stopped;
    if (fs::exists(dir / "m" / "last.checkpoint")) run.push_back("--resume");
    else fs::remove_all(dir / "m");
    const Ended e = run_and_cancel(run, std::chrono::milliseconds(100 + random() % 700), dir / "log");
    INFO("stop " << k << ": " << e.output);
    CHECK((e.status == 143 || e.status == 0));
    CHECK(leftovers(dir.path()) == 0);
    if (e.status == 0) break;
    ++cancelled;
  }
  CHECK(cancelled >= 5);
  std::string args;
  for (const auto& a : train) args += " " + quote(a);
  if (fs::exists(dir / "m" / "last.checkpoint")) {
    const auto r = run_uniem(args.substr(1) + " --model " + quote(dir / "m") + " --resume --quiet");
    CHECK_MESSAGE((r.exit_code == 0 || r.output.find("already") != std::string::npos), r.output);
  }
  REQUIRE(run_uniem(args.substr(1) + " --model " + quote(dir / "straight") + " --quiet").exit_code == 0);
  const Checkpoint resumed = load_checkpoint(dir / "m" / "last.checkpoint"), straight = load_checkpoint(dir / "straight" / "last.checkpoint");
  CHECK(resumed.step == straight.step);
  REQUIRE(resumed.parameters.size() == straight.parameters.size());
  int different = 0;
  for (size_t i = 0; i < resumed.parameters.size(); ++i)
    different += resumed.parameters[i].tensor.to_vector() != straight.parameters[i].tensor.to_vector();
  CHECK(different == 0);
}

TEST_CASE("cancel: infer2d and ffn segment stopped ten times each leave no partial output; ffn segment resumes to the same objects") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "a") + " --shape 20,128,128 --voxel-size 12,6,6 --quiet").exit_code == 0);
  REQUIRE(run_uniem("train2d --images " + quote(dir / "a" / "image") + " --labels " + quote(dir / "a" / "membranes") +
                    " --filters 8 --depth 3 --patch 64 --steps 5 --quiet --model " + quote(dir / "m")).exit_code == 0);
  std::mt19937 random(5);
  int cancelled = 0;
  for (int k = 0; k < 10; ++k) {
    const fs::path out = dir / ("inferred" + std::to_string(k));
    const Ended e = run_and_cancel({"infer2d", "--model", (dir / "m").string(), "--images", (dir / "a" / "image").string(),
                                    "--out", out.string(), "--threshold", "0.5", "--labels", "3d", "--flips"},
                                   std::chrono::milliseconds(50 + random() % 900), dir / "log");
    INFO("infer2d stop " << k << ": " << e.output);
    CHECK((e.status == 143 || e.status == 0));
    CHECK(fs::exists(out) == (e.status == 0));
    if (e.status == 0) CHECK(fs::exists(out / "inference.json"));
    cancelled += e.status == 143;
    CHECK(leftovers(dir.path()) == 0);
  }
  CHECK(cancelled >= 5);

  const std::string net = " --fov 5,9,9 --deltas 1,2,2 --depth 2 --filters 4";
  REQUIRE(run_uniem("ffn prep --images " + quote(dir / "a" / "image") + " --labels " + quote(dir / "a" / "neurons") + " --out " +
                    quote(dir / "prep") + net + " --min-size 100 --quiet").exit_code == 0);
  REQUIRE(run_uniem("ffn train --prep " + quote(dir / "prep") + net + " --steps 300 --optimizer adam --learning-rate 3e-3 --quiet --model " + quote(dir / "ffn")).exit_code == 0);
  const std::vector<std::string> segment = {"ffn", "segment", "--model", (dir / "ffn").string(), "--images",
                                            (dir / "a" / "image").string(), "--min-size", "20", "--checkpoint-interval",
                                            "0.05", "--threads", "1", "--out", (dir / "objects").string()};
  const int stopped = stop_ten_times(segment, dir.path(), 3, 700);  // some 2 s of work: stopped until little is left
  CHECK(stopped >= 3);
  CHECK_FALSE(fs::exists(dir / "objects.ffn-state"));  // removed once the output is complete
  std::string whole;
  for (const auto& a : segment) whole += " " + quote(a == (dir / "objects").string() ? (dir / "whole").string() : a);
  REQUIRE(run_uniem(whole.substr(1) + " --quiet").exit_code == 0);
  CHECK(test::same_voxels(read_volume(dir / "objects" / "labels"), read_volume(dir / "whole" / "labels")));
}
