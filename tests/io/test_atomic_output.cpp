// Outputs: replaced so that the old or the new one always exists, temporaries of killed writes
// cleaned up, the only copy left by a write killed between its renames restored, writes checked.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "io/atomic_output.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::test;  // TempDir, run_uniem, quote, ...
namespace fs = std::filesystem;

namespace {
// The pid of a process that has ended (a child that exited at once, reaped).
pid_t dead_pid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  REQUIRE(child > 0);
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}

std::vector<std::string> names(const fs::path& folder) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(folder)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST_CASE("--overwrite of a folder and of a file leaves the new content and nothing beside it") {
  TempDir dir;
  fs::create_directory(dir / "out");
  write_text(dir / "out" / "old.txt", "old");
  {
    AtomicOutput out(dir / "out", AtomicOutput::Kind::folder, true);
    write_text(out.temporary() / "new.txt", "new");
    CHECK(fs::exists(dir / "out" / "old.txt"));  // untouched until the commit
    out.commit();
  }
  CHECK(names(dir / "out") == std::vector<std::string>{"new.txt"});
  CHECK(read_text(dir / "out" / "new.txt") == "new");

  write_text(dir / "out.csv", "old");
  {
    AtomicOutput out(dir / "out.csv", AtomicOutput::Kind::file, true);
    write_text(out.temporary(), "new");
    out.commit();
  }
  CHECK(read_text(dir / "out.csv") == "new");
  write_file_atomically(dir / "out.csv", "newer", true);
  CHECK(read_text(dir / "out.csv") == "newer");
  CHECK(names(dir.path()) == std::vector<std::string>{"out", "out.csv"});

  // An empty folder is no output yet: it is replaced without --overwrite.
  fs::create_directory(dir / "empty");
  {
    AtomicOutput out(dir / "empty", AtomicOutput::Kind::folder, false);
    write_text(out.temporary() / "a.txt", "a");
    out.commit();
  }
  CHECK(names(dir / "empty") == std::vector<std::string>{"a.txt"});
  // A failed write leaves the old output and no temporary.
  {
    AtomicOutput out(dir / "out", AtomicOutput::Kind::folder, true);
    write_text(out.temporary() / "half.txt", "half");
  }
  CHECK(names(dir / "out") == std::vector<std::string>{"new.txt"});
  CHECK(names(dir.path()) == std::vector<std::string>{"empty", "out", "out.csv"});
}

TEST_CASE("temporaries of dead processes are removed; those of live ones, and other files, are kept") {
  TempDir dir;
  const std::string dead = std::to_string(dead_pid()), self = std::to_string(getpid());
  write_text(dir / "out.tif", "current");
  const std::vector<std::string> stale = {"out.tif.tmp-" + dead + "-0", "out.tif.old-" + dead + "-1"};
  const std::vector<std::string> kept = {
      "out.tif.tmp-" + self + "-99",   // this process: perhaps still being written
      "out.tif.tmp-1-0",               // init: alive
      "out.tif.tmp-" + dead,           // not our naming
      "out.tif.tmp-" + dead + "-x",    // not our naming
      "out.tif.tmp-" + dead + "-0.bak",
      "other.tif.tmp-" + dead + "-0",  // another output's
      "notes.txt"};
  for (const auto& n : stale) write_text(dir / n, "stale");
  fs::create_directory(dir / ("out.tif.tmp-" + dead + "-7"));  // a folder temporary, with contents
  write_text(dir / ("out.tif.tmp-" + dead + "-7") / "0000.png", "x");
  for (const auto& n : kept) write_text(dir / n, "keep");

  AtomicOutput::check(dir / "out.tif", AtomicOutput::Kind::file, true);  // a check cleans nothing
  CHECK(fs::exists(dir / stale[0]));
  {
    AtomicOutput out(dir / "out.tif", AtomicOutput::Kind::file, true);
    for (const auto& n : stale) CHECK_FALSE(fs::exists(dir / n));
    CHECK_FALSE(fs::exists(dir / ("out.tif.tmp-" + dead + "-7")));
    for (const auto& n : kept) CHECK(fs::exists(dir / n));
    write_text(out.temporary(), "new");
    out.commit();
  }
  CHECK(read_text(dir / "out.tif") == "new");
}

TEST_CASE("killed between its two renames: the old output, the only copy, is restored") {
  TempDir dir;
  const std::string dead = std::to_string(dead_pid());
  // The old folder moved aside by a process that died before it renamed the new one in.
  const fs::path aside = dir / ("out.old-" + dead + "-3");
  fs::create_directory(aside);
  write_text(aside / "0000.png", "old");
  fs::create_directory(dir / ("out.tmp-" + dead + "-2"));  // and its unfinished new one
  // Without --overwrite the restored output is refused as any existing one.
  CHECK(input_error_message([&] { AtomicOutput out(dir / "out", AtomicOutput::Kind::folder, false); })
            .find("out: already exists") != std::string::npos);
  CHECK(read_text(dir / "out" / "0000.png") == "old");
  CHECK(names(dir.path()) == std::vector<std::string>{"out"});

  // The same for a file, here replaced afterwards with --overwrite.
  write_text(dir / ("labels.tif.old-" + dead + "-0"), "old");
  {
    AtomicOutput out(dir / "labels.tif", AtomicOutput::Kind::file, true);
    CHECK(read_text(dir / "labels.tif") == "old");
    write_text(out.temporary(), "new");
    out.commit();
  }
  CHECK(read_text(dir / "labels.tif") == "new");
  // When the target exists, a dead process's ".old-" is an old copy, and goes.
  write_text(dir / ("labels.tif.old-" + dead + "-1"), "older");
  { AtomicOutput out(dir / "labels.tif", AtomicOutput::Kind::file, true); }
  CHECK(read_text(dir / "labels.tif") == "new");
  CHECK(names(dir.path()) == std::vector<std::string>{"labels.tif", "out"});
}

TEST_CASE("writes are checked: a full disk or a missing folder is an InputError naming the file") {
  TempDir dir;
  CHECK(input_error_message([&] { write_file(dir / "no" / "such" / "file.json", "{}"); })
            .starts_with((dir / "no" / "such" / "file.json").string() + ": could not be written"));
  if (fs::exists("/dev/full"))  // every write fails with ENOSPC
    CHECK(input_error_message([&] { write_file("/dev/full", "{}"); })
              .starts_with("/dev/full: could not be written (disk full or no permission?): No space left on device"));
  write_file(dir / "a.json", "{}\n");
  CHECK(read_text(dir / "a.json") == "{}\n");
}
