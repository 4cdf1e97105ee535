// Disk faults on the way to an acknowledgement, injected by tests/web/fault_shim.c (this test runs
// with it in LD_PRELOAD): for every kind of call (fsync, fdatasync, the directory sync, write,
// rename) and every N, the Nth call fails once while a session takes edits, flushes and compacts
// its journal, and the process then dies without closing anything. Opened again without faults,
// the project holds exactly the edits that were acknowledged: none lost, none extra. The same for
// making a project and exporting labels: a failure leaves nothing, or something whole.
#include <doctest/doctest.h>
#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "io/stack.h"
#include "tests/test_support.h"
#include "web/proofreading/project.h"
#include "web/server.h"
#include "web/proofreading/session.h"

using nlohmann::json;
using namespace uniem;
using namespace uniem::web;

namespace {

const std::string kind_names[] = {"fsync", "fdatasync", "directory sync", "write", "rename"};
constexpr int kinds = 5;
constexpr int edits = 14;

using Arm = void (*)(int, long);
using Count = long (*)(int);

Arm arm() { return reinterpret_cast<Arm>(dlsym(RTLD_DEFAULT, "uniem_fault_arm")); }
Count count() { return reinterpret_cast<Count>(dlsym(RTLD_DEFAULT, "uniem_fault_count")); }

// Edit k paints voxel (k % 2, 3 + k, 5) with id 2 over the 1 on the left half.
std::array<int64_t, 3> voxel(int k) { return {k % 2, 3 + k, 5}; }

void make(const std::filesystem::path& folder) {
  Volume image(DType::u8, 2, 32, 32), labels(DType::u8, 2, 32, 32);
  for (int64_t i = 0; i < labels.voxels(); ++i) labels.data<uint8_t>()[i] = i % 32 < 16 ? 1 : 2;
  create_project(folder, image, &labels, "image", "labels");
}

// In a child process: the session under the fault, then death without any destructor. Writes
// "A k" for every acknowledged edit, "R k" for one refused because saving failed (503), and
// "C count" (the calls of `kind` made) to `out`.
void child(const std::filesystem::path& project, int kind, long n, int out) {
  auto say = [out](const std::string& line) { (void)!::write(out, line.data(), line.size()); };
  arm()(kind, n);
  try {
    SessionOptions o;
    o.flush_seconds = 0;
    o.undo_depth = 2;  // compaction after every few edits
    Session s(project, o);
    int64_t version = s.version();
    for (int k = 0; k < edits; ++k) {
      const auto v = voxel(k);
      try {
        const json r = s.apply(json{{"op", "paint"}, {"user", "u"}, {"version", version}, {"z", v[0]},
                                    {"points", {{v[1], v[2]}}}, {"radius", 0.5}, {"id", 2}});
        version = r["version"].get<int64_t>();
        say("A " + std::to_string(k) + "\n");
      } catch (const RequestError& e) {
        if (e.status == 503) say("R " + std::to_string(k) + "\n");
      }
      if (k % 3 == 2) try {
          s.flush();
        } catch (const InputError&) {
        }
    }
  } catch (const InputError&) {
  }
  say("C " + std::to_string(count()(kind)) + "\n");
  ::_exit(0);
}

struct Outcome {
  std::set<int> acknowledged;
  long calls = 0;
  bool acknowledged_after_failure = false;  // an edit acknowledged after saving one had failed
};

Outcome run(const std::filesystem::path& project, int kind, long n) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    child(project, kind, n, pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  std::string text;
  char buffer[256];
  for (ssize_t got; (got = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<size_t>(got));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  Outcome o;
  bool failed = false;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = text.find('\n', at);
    const std::string line = text.substr(at, end - at);
    if (line[0] == 'A') o.acknowledged.insert(std::stoi(line.substr(2)));
    if (line[0] == 'A' && failed) o.acknowledged_after_failure = true;
    if (line[0] == 'R') failed = true;
    if (line[0] == 'C') o.calls = std::stol(line.substr(2));
    at = end + 1;
  }
  return o;
}

}  // namespace

TEST_CASE("faults: the shim is loaded (LD_PRELOAD)") {
  REQUIRE_MESSAGE(static_cast<bool>(arm()), "run this test with LD_PRELOAD=libuniem_fault_shim.so (ctest does)");
}

TEST_CASE("faults: for every failing call on the way to acknowledgement, edits are never lost nor invented") {
  REQUIRE(static_cast<bool>(arm()));
  int faults = 0;
  for (int kind = 0; kind < kinds; ++kind) {
    long calls = 0;
    {
      test::TempDir dir("uniem-faults");
      make(dir / "p");
      const Outcome clean = run(dir / "p", kind, 0);
      CHECK(clean.acknowledged.size() == edits);
      calls = clean.calls;
    }
    INFO("kind " << kind_names[kind] << ", " << calls << " calls in a run without faults");
    CHECK(calls > 0);
    for (long n = 1; n <= calls; ++n) {
      test::TempDir dir("uniem-faults");
      make(dir / "p");
      const Outcome o = run(dir / "p", kind, n);
      SessionOptions quiet;
      quiet.flush_seconds = 0;
      Session s(dir / "p", quiet);
      int wrong = 0;
      for (int k = 0; k < edits; ++k) {
        const auto v = voxel(k);
        const bool present = s.label_at(v[0], v[1], v[2]) == 2;
        wrong += present != (o.acknowledged.count(k) > 0);
      }
      CHECK_MESSAGE(wrong == 0, kind_names[kind] << " call " << n << " failed: " << wrong << " edits differ from the "
                                                 << o.acknowledged.size() << " acknowledged");
      CHECK(s.version() == static_cast<int64_t>(o.acknowledged.size()));
      // A failed sync is never retried and assumed good: once saving failed, nothing more is acknowledged.
      CHECK_MESSAGE(!o.acknowledged_after_failure, kind_names[kind] << " call " << n);
      faults += o.acknowledged.size() < edits;
    }
  }
  CHECK(faults > 0);  // the faults did stop acknowledgements
}

TEST_CASE("faults: a failed project creation or export leaves nothing, or something whole") {
  REQUIRE(static_cast<bool>(arm()));
  for (int kind = 0; kind < kinds; ++kind) {
    long calls = 0;
    for (long n = 0; n <= calls; ++n) {
      test::TempDir dir("uniem-faults");
      make(dir / "p");
      const pid_t pid = ::fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        arm()(kind, n);
        int code = 0;
        try {
          make(dir / "q");
          SessionOptions o;
          o.read_only = true;
          Session s(dir / "p", o);
          export_labels(s, "tif", 0);
        } catch (const InputError&) {
          code = 1;
        }
        const long made = count()(kind);
        ::_exit(n == 0 ? static_cast<int>(std::min<long>(made, 200)) : code);
      }
      int status = 0;
      ::waitpid(pid, &status, 0);
      REQUIRE(WIFEXITED(status));
      if (n == 0) calls = WEXITSTATUS(status);
      INFO(kind_names[kind] << " call " << n << " of " << calls);
      if (std::filesystem::exists(dir / "q")) {  // whole: it opens and holds the labels
        SessionOptions o;
        o.read_only = true;
        Session q(dir / "q", o);
        CHECK(q.label_at(1, 4, 20) == 2);
      }
      const auto export_file = dir / "p" / "exports" / "labels-v0.tif";
      if (std::filesystem::exists(export_file)) {
        const Volume labels = read_volume(export_file.string());
        CHECK(labels.nz() == 2);
        CHECK(labels.value(20) == 2);
      }
      for (const auto& folder : {dir.path(), dir / "p" / "exports"})
        for (const auto& e : std::filesystem::directory_iterator(folder))
          CHECK_MESSAGE(e.path().filename().string().find(".tmp-") == std::string::npos, e.path().string());
    }
    if (kind != 1) CHECK(calls > 0);  // making and exporting sync whole files (fsync), never fdatasync
  }
}
