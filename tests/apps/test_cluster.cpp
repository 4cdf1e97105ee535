// Cluster runs without a cluster: label and filter cut into block tasks done by several local
// workers (`--cluster local`, `uniem worker`) give the files of a run in one process; a worker
// killed with SIGKILL in the middle of a task loses nothing; a failed task is named with its block
// and log; bad input is refused before a queue exists. (A real Slurm: tests/cluster/slurm.sh.)
#include <doctest/doctest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/image/metrics.h"
#include "io/stack.h"
#include "tests/test_support.h"

extern char** environ;

using namespace uniem;
using namespace uniem::test;
namespace fs = std::filesystem;

namespace {

// Every file of `a` and `b` (folders or files) byte for byte, but the OME name an image gets from its folder.
bool same_files(const fs::path& a, const fs::path& b) {
  if (fs::is_regular_file(a)) return read_text(a) == read_text(b);
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(a)) {
    if (!e.is_regular_file()) continue;
    ++n;
    const fs::path rel = fs::relative(e.path(), a);
    if (rel == ".zattrs") continue;
    if (!fs::exists(b / rel) || read_text(e.path()) != read_text(b / rel)) return false;
  }
  return n > 0;
}

pid_t spawn_worker(const fs::path& queue) {
  std::vector<std::string> words = {UNIEM_BINARY, "worker", queue.string(), "--quiet", "--threads", "1"};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, UNIEM_BINARY, nullptr, nullptr, argv.data(), environ) == 0);
  return pid;
}

}  // namespace

TEST_CASE("label and filter by local workers equal a run in one process") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 40,80,80 --seed 3 --quiet").exit_code == 0);
  REQUIRE(run_uniem("convert " + quote(dir / "s" / "neurons") + " " + quote(dir / "neurons.zarr") + " --quiet").exit_code == 0);
  struct Case {
    std::string args, out;
  };
  const std::vector<Case> cases = {
      {"label " + quote(dir / "s" / "neurons"), "a.tif"},
      {"label " + quote(dir / "neurons.zarr") + " --connectivity 6", "b.zarr"},
      {"label " + quote(dir / "s" / "membranes") + " --mode binary --connectivity 18", "c.tif"},
      {"filter " + quote(dir / "s" / "image") + " --gaussian 1.5 --3d --voxel-size 30,6,6", "d.tif"},
      {"filter " + quote(dir / "s" / "image") + " --median 1 --threshold 120 --dilate 1 --3d", "e.zarr"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.args);
    const auto one = run_uniem(c.args + " " + quote(dir / ("one-" + c.out)) + " --quiet");
    REQUIRE(one.exit_code == 0);
    const auto many = run_uniem(c.args + " " + quote(dir / c.out) + " --cluster local --workers 3 --block-sections 7 --quiet");
    CHECK(many.exit_code == 0);
    CHECK(many.output.find("block tasks of 7 sections") != std::string::npos);
    CHECK(same_files(dir / ("one-" + c.out), dir / c.out));
    // The queue keeps the plan, each worker's log and the result, not the slabs.
    const fs::path queue = dir / (c.out + ".queue");
    CHECK(fs::exists(queue / "plan.json"));
    CHECK(!fs::is_empty(queue / "logs"));
    CHECK(fs::exists(queue / "work" / "result.json"));
    CHECK(!fs::exists(queue / "work" / "slab-0.tif"));
    const auto status = run_uniem("status " + quote(queue));
    CHECK(status.exit_code == 0);
    CHECK(status.output.find("finished") != std::string::npos);
  }
  // The object count is printed as a run in one process prints it.
  const auto one = run_uniem("label " + quote(dir / "s" / "neurons") + " " + quote(dir / "f.tif") + " --quiet");
  const auto many = run_uniem("label " + quote(dir / "s" / "neurons") + " " + quote(dir / "g.tif") + " --cluster local --quiet");
  const std::string count = one.output.substr(0, one.output.find(" objects (label-preserving"));
  CHECK(many.output.find("\n" + count + " objects (label-preserving, 26-connectivity; in ") != std::string::npos);
}

TEST_CASE("the watershed by local workers: overlapping slabs stitched in a join task, as in one process") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 60,96,96 --seed 8 --quiet").exit_code == 0);
  REQUIRE(run_uniem("filter " + quote(dir / "s" / "image") + " " + quote(dir / "b.tif") + " --gaussian 1.5 --invert --quiet").exit_code == 0);
  REQUIRE(run_uniem("watershed " + quote(dir / "b.tif") + " " + quote(dir / "one.tif") + " --seeds-below otsu --quiet").exit_code == 0);
  const auto many = run_uniem("watershed " + quote(dir / "b.tif") + " " + quote(dir / "many.tif") +
                              " --seeds-below otsu --cluster local --workers 2 --block-sections 12 --quiet");
  CHECK(many.exit_code == 0);
  CHECK(many.output.find("regions (in 5 block tasks of 12 sections, each flooded with 8 more sections on each side)") != std::string::npos);
  const Volume one = read_volume(dir / "one.tif"), slabs = read_volume(dir / "many.tif");
  CHECK(instance_scores(contingency_table(slabs, one, false)).v_rand >= 0.999);
  const auto split = run_uniem("watershed " + quote(dir / "b.tif") + " " + quote(dir / "no.tif") + " --split --cluster local");
  CHECK(split.exit_code == 1);
  CHECK(split.output.find("--split and --preset need the whole volume; run it without --cluster") != std::string::npos);
  CHECK(!fs::exists(dir / "no.tif.queue"));
}

TEST_CASE("a worker killed in the middle of a task loses nothing: the task is done again") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 48,96,96 --seed 5 --quiet").exit_code == 0);
  REQUIRE(run_uniem("filter " + quote(dir / "s" / "image") + " " + quote(dir / "one.tif") + " --gaussian 2 --3d --quiet").exit_code == 0);
  // A queue for workers started by hand (the Kubernetes manifest is written beside it), with a short lease.
  const auto plan = run_uniem("filter " + quote(dir / "s" / "image") + " " + quote(dir / "many.tif") +
                              " --gaussian 2 --3d --cluster kubernetes --workers 2 --block-sections 4 --lease 2");
  REQUIRE(plan.exit_code == 0);
  const fs::path queue = dir / "many.tif.queue";
  const std::string manifest = read_text(queue / "kubernetes.yaml");
  CHECK(manifest.find("completionMode: Indexed") != std::string::npos);
  CHECK(manifest.find("completions: 2") != std::string::npos);
  CHECK(manifest.find("\"worker\", '" + queue.string() + "'") != std::string::npos);

  // Stop a worker while it holds a lease, then kill it: its task is neither done nor in the queue.
  bool killed = false;
  for (int attempt = 0; attempt < 20 && !killed; ++attempt) {
    const pid_t pid = spawn_worker(queue);
    const std::string mine = "-" + std::to_string(pid);
    for (int k = 0; k < 2000 && !killed; ++k) {
      for (const auto& e : fs::directory_iterator(queue / "leased"))
        if (e.path().filename().string().find(mine) != std::string::npos) {
          ::kill(pid, SIGSTOP);
          if (fs::exists(e.path())) {
            ::kill(pid, SIGKILL);
            killed = true;
          } else {
            ::kill(pid, SIGCONT);
          }
          break;
        }
      if (!killed) std::this_thread::sleep_for(std::chrono::microseconds(500));
      if (::waitpid(pid, nullptr, WNOHANG) == pid) break;  // it finished everything first
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  REQUIRE(killed);
  const auto before = run_uniem("status " + quote(queue));
  CHECK(before.output.find("running: filter") != std::string::npos);
  // Another worker waits for the lease to run out (2 s), takes the task back and finishes the run.
  const auto worker = run_uniem("worker " + quote(queue));
  CHECK(worker.exit_code == 0);
  CHECK(worker.output.find("expired lease") != std::string::npos);
  CHECK(same_files(dir / "one.tif", dir / "many.tif"));
}

TEST_CASE("a failed task names its block and the log; bad input is refused before a queue exists") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 16,64,64 --quiet").exit_code == 0);
  fs::copy(dir / "s" / "neurons", dir / "n");
  REQUIRE(run_uniem("label " + quote(dir / "n") + " " + quote(dir / "out.tif") + " --cluster kubernetes --block-sections 4").exit_code == 0);
  write_text(dir / "n" / "0009.png", "not a PNG any more");  // the input changed under the queue
  const auto worker = run_uniem("worker " + quote(dir / "out.tif.queue"));
  CHECK(worker.exit_code == 1);
  const auto status = run_uniem("status " + quote(dir / "out.tif.queue"));
  CHECK(status.exit_code == 1);
  CHECK(status.output.find("FAILED: label, components: sections ") != std::string::npos);
  CHECK(status.output.find("0009.png") != std::string::npos);
  CHECK(status.output.find("log: " + (dir / "out.tif.queue" / "logs").string()) != std::string::npos);
  CHECK(!fs::exists(dir / "out.tif"));

  const auto refused = [&](const std::string& args, int code, const std::string& message) {
    CAPTURE(args);
    const auto r = run_uniem(args);
    CHECK(r.exit_code == code);
    CHECK(r.output.find(message) != std::string::npos);
  };
  refused("worker " + quote(dir / "nothing"), 1, "is not a task queue");
  refused("label " + quote(dir / "s" / "neurons") + " " + quote(dir / "x.tif") + " --cluster local --stats x.csv", 2,
          "--stats is for a run in one process");
  refused("filter " + quote(dir / "s" / "image") + " " + quote(dir / "y.tif") + " --fill-holes --cluster local", 1,
          "--fill-holes needs the whole volume at once");
  refused("label " + quote(dir / "s" / "neurons") + " " + quote(dir / "z.tif") + " --cluster local --queue " + quote(dir / "s"), 1,
          "already exists");
  refused("label " + quote(dir / "s" / "neurons") + " " + quote(dir / "z.tif") + " --cluster moon", 2, "--cluster");
  write_text(dir / "taken.tif", "an earlier result");
  refused("label " + quote(dir / "s" / "neurons") + " " + quote(dir / "taken.tif") + " --cluster local", 1, "exists");
  CHECK(!fs::exists(dir / "taken.tif.queue"));
  CHECK(read_text(dir / "taken.tif") == "an earlier result");
  CHECK(!fs::exists(dir / "x.tif.queue"));
  CHECK(!fs::exists(dir / "y.tif.queue"));
}
