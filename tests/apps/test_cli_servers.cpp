// Commands that end in a server for a person at the browser, started from the command line:
// `uniem` without a command (the workbench for the current folder) and `uniem mesh --open` (the
// 3D annotator on the new meshes). Each is stopped with Ctrl+C (SIGINT) after a few seconds:
// `timeout --foreground` sends it once, as a terminal does (without it, timeout sends it to the
// program and again to its process group, and a second Ctrl+C rightly ends uniem at once).
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::test;  // TempDir, run_uniem, quote, ...
namespace fs = std::filesystem;

TEST_CASE("uniem without a command starts the workbench for the current folder") {
  TempDir dir;
  // Stopped with Ctrl+C (SIGINT) after 3 s; on a free port when 8000 is taken.
  const auto r = run_uniem("", "cd " + quote(dir.path()) + " && timeout --foreground -s INT 3");
  CHECK(r.output.find("No command given: starting the workbench for this folder") != std::string::npos);
  CHECK(r.output.find("The workbench for " + fs::canonical(dir.path()).string() + " is at http://127.0.0.1:") != std::string::npos);
  CHECK(r.output.find("Stopped; the job queue is kept in") != std::string::npos);
  CHECK(fs::exists(dir / ".uniem" / "jobs.sqlite"));
}

TEST_CASE("uniem mesh --open serves the 3D annotator on the new mesh folder; a job may not ask for it") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 4,32,32 --quiet").exit_code == 0);
  const auto r = run_uniem("mesh " + quote(dir / "s" / "neurons") + " " + quote(dir / "m") + " --open", "timeout --foreground -s INT 4");
  CHECK(r.output.find("The workbench for " + fs::canonical(dir.path()).string() + " is at http://127.0.0.1:") != std::string::npos);
  CHECK(r.output.find("/annotator/?path=m\n") != std::string::npos);
  CHECK(fs::exists(dir / "m" / "measurements.csv"));
  CHECK(run_uniem("mesh " + quote(dir / "s" / "neurons") + " " + quote(dir / "p") + " --open --single-file").exit_code == 2);
  test::write_text(dir / "job.json", R"({"command": "mesh", "arguments": {"labels": "s/neurons", "outdir": "x", "open": true}})");
  const auto job = run_uniem("run " + quote(dir / "job.json") + " --check");
  CHECK(job.exit_code == 2);
  CHECK(job.output.find("--open is for the command line") != std::string::npos);
}
