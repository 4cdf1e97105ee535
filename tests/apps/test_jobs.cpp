// uniem run, rerun and describe with the real binary: a job file gives what the command line gives
// (checksums of the outputs), a rerun says whether it came out the same, and a bad job file is
// refused whole with the command line's message.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "io/fingerprint.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::test;  // TempDir, run_uniem, quote, ...
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

fs::path write_job(const fs::path& file, const json& job) {
  std::ofstream(file) << job.dump(1);
  return file;
}

json read_json(const fs::path& file) { return json::parse(std::ifstream(file)); }

// `cli` run as a command line and `job` run by uniem run in `folder`: the same exit code and
// the same content at `cli_out` and `job_out` (output paths relative to `folder`).
void check_same(const fs::path& folder, const std::string& cli, const json& job, const fs::path& cli_out,
                const std::string& job_out) {
  CAPTURE(cli);
  const auto a = run_uniem(cli + " --progress off");
  REQUIRE_MESSAGE(a.exit_code == 0, a.output);
  const auto b = run_uniem("run " + quote(write_job(folder / "job.json", job)) + " --progress off");
  REQUIRE_MESSAGE(b.exit_code == 0, b.output);
  const Fingerprint x = fingerprint(cli_out), y = fingerprint(folder / job_out);
  CHECK(x.kind != "missing");
  CHECK(x.files == y.files);
  CHECK_MESSAGE(x.sha256 == y.sha256, ("differing files: " + [&] {
                  std::string s;
                  for (const auto& f : differing_files(x, y)) s += f + " ";
                  return s;
                }()));
  const json record = read_json(folder / "run.json");
  CHECK(record["exit_status"] == 0);
  const json& recorded = record["steps"][0]["outputs"][0];
  if (recorded["path"] == (folder / job_out).string()) CHECK(recorded["sha256"] == y.sha256);
  fs::remove(folder / "run.json");
}

}  // namespace

TEST_CASE("uniem run: every command gives through a job file what it gives on the command line") {
  TempDir dir;
  const fs::path a = dir / "a", cli = dir / "cli", jobs = dir / "jobs";
  fs::create_directories(cli);
  fs::create_directories(jobs);
  REQUIRE(run_uniem("synth " + quote(a) + " --shape 16,64,64 --voxel-size 12,6,6 --quiet").exit_code == 0);
  const std::string A = a.string();

  check_same(jobs, "synth " + quote(cli / "synth") + " --shape 4,48,48 --seed 3",
             {{"command", "synth"}, {"arguments", {{"out", "synth"}, {"shape", {4, 48, 48}}, {"seed", 3}}}}, cli / "synth", "synth");
  check_same(jobs, "convert " + quote(a / "image") + " " + quote(cli / "image.tif"),
             {{"command", "convert"}, {"arguments", {{"in", A + "/image"}, {"out", "image.tif"}}}}, cli / "image.tif", "image.tif");
  check_same(jobs, "filter " + quote(a / "image") + " " + quote(cli / "mask.tif") + " --gaussian 1 --threshold otsu --invert",
             {{"command", "filter"},
              {"arguments", {{"in", A + "/image"}, {"out", "mask.tif"}, {"steps", {{{"gaussian", 1}}, {{"threshold", "otsu"}}, {{"invert", true}}}}}}},
             cli / "mask.tif", "mask.tif");
  check_same(jobs, "label " + quote(cli / "mask.tif") + " " + quote(cli / "objects.tif") + " --connectivity 6",
             {{"command", "label"}, {"arguments", {{"in", (cli / "mask.tif").string()}, {"out", "objects.tif"}, {"connectivity", 6}}}},
             cli / "objects.tif", "objects.tif");
  check_same(jobs, "watershed " + quote(a / "image") + " " + quote(cli / "ws.tif") + " --seeds-below otsu",
             {{"command", "watershed"}, {"arguments", {{"in", A + "/image"}, {"out", "ws.tif"}, {"seeds-below", "otsu"}}}},
             cli / "ws.tif", "ws.tif");
  check_same(jobs, "mesh " + quote(a / "neurons") + " " + quote(cli / "meshes") + " --downsample 2",
             {{"command", "mesh"}, {"arguments", {{"labels", A + "/neurons"}, {"outdir", "meshes"}, {"downsample", 2}}}},
             cli / "meshes", "meshes");
  const std::string small = " --filters 4 --depth 2 --patch 32 --batch 2 --steps 6 --validate-every 3 --log-every 3 --seed 5";
  check_same(jobs, "train2d --images " + quote(a / "image") + " --labels " + quote(a / "membranes") + small + " --model " + quote(cli / "m"),
             {{"command", "train2d"},
              {"arguments", {{"images", A + "/image"}, {"labels", A + "/membranes"}, {"model", "m"}, {"filters", 4}, {"depth", 2},
                             {"patch", 32}, {"batch", 2}, {"steps", 6}, {"validate-every", 3}, {"log-every", 3}, {"seed", 5}}}},
             cli / "m", "m");
  check_same(jobs, "infer2d --model " + quote(cli / "m") + " --images " + quote(a / "image") + " --out " + quote(cli / "inferred") + " --tile 64",
             {{"command", "infer2d"}, {"arguments", {{"model", (cli / "m").string()}, {"images", A + "/image"}, {"out", "inferred"}, {"tile", 64}}}},
             cli / "inferred", "inferred");
  const std::string net = " --fov 5,9,9 --deltas 1,2,2 --depth 2 --filters 4";
  check_same(jobs, "ffn prep --images " + quote(a / "image") + " --labels " + quote(a / "neurons") + " --out " + quote(cli / "prep") + net + " --min-size 100",
             {{"command", "ffn prep"},
              {"arguments", {{"images", A + "/image"}, {"labels", A + "/neurons"}, {"out", "prep"}, {"fov", "5,9,9"}, {"deltas", {1, 2, 2}},
                             {"depth", 2}, {"filters", 4}, {"min-size", 100}}}},
             cli / "prep", "prep");
  check_same(jobs, "ffn train --prep " + quote(cli / "prep") + net + " --steps 4 --log-every 2 --model " + quote(cli / "ffn"),
             {{"command", "ffn train"},
              {"arguments", {{"prep", (cli / "prep").string()}, {"model", "ffn"}, {"fov", "5,9,9"}, {"deltas", "1,2,2"}, {"depth", 2},
                             {"filters", 4}, {"steps", 4}, {"log-every", 2}}}},
             cli / "ffn", "ffn");
  check_same(jobs, "ffn segment --model " + quote(cli / "ffn") + " --images " + quote(a / "image") + " --min-size 20 --out " + quote(cli / "seg"),
             {{"command", "ffn segment"},
              {"arguments", {{"model", (cli / "ffn").string()}, {"images", A + "/image"}, {"min-size", 20}, {"out", "seg"}}}},
             cli / "seg", "seg");
  REQUIRE(run_uniem("ffn segment --model " + quote(cli / "ffn") + " --images " + quote(a / "image") +
                    " --min-size 20 --max-seeds 4 --quiet --out " + quote(cli / "part")).exit_code == 0);
  check_same(jobs, "ffn export " + quote(cli / "part.ffn-state") + " " + quote(cli / "partial"),
             {{"command", "ffn export"}, {"arguments", {{"state", (cli / "part.ffn-state").string()}, {"out", "partial"}}}},
             cli / "partial", "partial");
  // demo is no job (it runs a queue of its own and ends serving the workbench); its project is exported by one.
  REQUIRE(run_uniem("demo --no-serve --shape 4,32,32 --quiet --output " + quote(cli / "demo")).exit_code == 0);
  check_same(jobs, "export " + quote(cli / "demo" / "proofreading" / "neurons") + " " + quote(cli / "exported.tif"),
             {{"command", "export"}, {"arguments", {{"project", (cli / "demo" / "proofreading" / "neurons").string()}, {"out", "exported.tif"}}}},
             cli / "exported.tif", "exported.tif");

  // Commands whose result is what they print: the same lines.
  for (const auto& [command_line, job] : std::vector<std::pair<std::string, json>>{
           {"info " + quote(a / "image"), {{"command", "info"}, {"arguments", {{"stack", A + "/image"}}}}},
           {"eval " + quote(cli / "ws.tif") + " " + quote(a / "neurons"),
            {{"command", "eval"}, {"arguments", {{"seg", (cli / "ws.tif").string()}, {"gt", A + "/neurons"}}}}}}) {
    CAPTURE(command_line);
    fs::remove(jobs / "run.json");
    const auto x = run_uniem(command_line);
    const auto y = run_uniem("run " + quote(write_job(jobs / "print.json", job)));
    REQUIRE(x.exit_code == 0);
    REQUIRE(y.exit_code == 0);
    CHECK(y.output.find(x.output) == 0);
    CHECK(y.output.find("record of the run: ") != std::string::npos);
  }
  // eval's scores are the record's metrics.
  const json record = read_json(jobs / "run.json");
  CHECK(record["metrics"].contains("adapted_rand_error"));
  CHECK(record["steps"][0]["inputs"][0]["sha256"].get<std::string>().size() == 64);
}

TEST_CASE("uniem run: a bad job file gets the command line's message, exit status 2, and nothing runs") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "a") + " --shape 3,40,40 --quiet").exit_code == 0);
  const std::string image = (dir / "a" / "image").string();
  struct Case {
    json job;
    std::string cli, expected;  // cli: the command line with the same mistake ("" when it has none)
  };
  const std::vector<Case> cases = {
      {{{"command", "frobnicate"}}, "", "unknown command 'frobnicate'"},
      {{{"command", "filter"}, {"arguments", {{"in", image}, {"out", "x.tif"}, {"no-such", 1}}}},
       "filter " + image + " x.tif --no-such 1", "unknown option --no-such"},
      {{{"command", "train2d"}, {"arguments", {{"images", image}, {"labels", image}, {"model", "m"}, {"batch", 0}}}},
       "train2d --images " + image + " --labels " + image + " --model m --batch 0", "--batch takes 1 to 1024, not 0"},
      {{{"command", "train2d"}, {"arguments", {{"images", image}, {"labels", image}, {"model", "m"}, {"steps", "many"}}}},
       "train2d --images " + image + " --labels " + image + " --model m --steps many", "--steps: 'many' is not a number"},
      {{{"command", "mesh"}, {"arguments", {{"labels", image}, {"outdir", "m"}, {"format", "vrml"}}}},
       "mesh " + image + " m --format vrml", "--format takes ply, obj, stl or precomputed, not 'vrml'"},
      {{{"command", "filter"}, {"arguments", {{"in", image}, {"out", "x.tif"}, {"3d", "yes"}}}}, "", "--3d is a switch: true or false"},
      {{{"command", "label"}, {"arguments", {{"in", "missing-stack"}, {"out", "x.tif"}}}}, "", "'in': missing-stack does not exist"},
      {{{"command", "label"}, {"arguments", {{"out", "x.tif"}}}}, "", "'in' is missing"},
      {{{"command", "watershed"}, {"arguments", {{"in", image}, {"out", "w.tif"}}}},
       "watershed " + image + " w.tif", "give exactly one of --markers, --seeds-below, --split or --preset"},
      {{{"command", "ffn segment"}, {"arguments", {{"images", image}, {"out", "o"}}}},
       "ffn segment --images " + image + " --out o", "--model is required (see uniem ffn segment --help)"},
      // A pipeline whose third step is wrong runs none of them.
      {{{"pipeline",
         {{{"command", "synth"}, {"arguments", {{"out", "s"}, {"shape", "3,40,40"}}}},
          {{"command", "label"}, {"arguments", {{"in", "s/neurons"}, {"out", "l.tif"}}}},
          {{"command", "mesh"}, {"arguments", {{"labels", "l.tif"}, {"outdir", "m"}, {"decimate", 2}}}}}}},
       "", "step 3 (mesh): --decimate takes 0 to 1, not 2"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.job.dump());
    const fs::path folder = dir / "job";
    fs::create_directories(folder);
    const auto r = run_uniem("run " + quote(write_job(folder / "job.json", c.job)));
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(c.expected) != std::string::npos);
    CHECK(r.output.substr(0, r.output.find('\n')).find(c.expected) != std::string::npos);  // said in the first line
    CHECK(std::distance(fs::directory_iterator(folder), fs::directory_iterator()) == 1);  // only job.json
    if (!c.cli.empty()) {
      const auto x = run_uniem(c.cli);
      CHECK(x.exit_code == 2);
      CHECK(x.output.find(c.expected) != std::string::npos);
    }
    fs::remove_all(folder);
  }
  // Confined (as the workbench runs jobs): nothing outside the workspace is read or written, and
  // whether it exists is not said.
  fs::create_directories(dir / "ws" / "a");
  for (const auto& [field, path] : std::vector<std::pair<std::string, std::string>>{{"out", "../escaped"}, {"out", "/tmp/escaped"},
                                                                                    {"in", "../a/image"}}) {
    json job = {{"command", "label"}, {"arguments", {{"in", "a"}, {"out", "x.tif"}}}};
    job["arguments"][field] = path;
    const auto r = run_uniem("run " + quote(write_job(dir / "ws" / "job.json", job)) + " --confine --out " + quote(dir / "ws" / "run"));
    CAPTURE(path);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("'" + field + "': " + path + (field == "out" ? " is outside the job's folder" : " is outside the workspace")) !=
          std::string::npos);
    CHECK(r.output.find("does not exist") == std::string::npos);
  }
  CHECK_FALSE(fs::exists(dir / "escaped"));
  // A folder added to the workspace in the workbench (its .uniem/folders.json) may be read.
  fs::create_directories(dir / "ws" / ".uniem");
  std::ofstream(dir / "ws" / ".uniem" / "folders.json") << json({{"folders", {(dir / "elsewhere").string()}}}).dump();
  fs::create_directories(dir / "elsewhere");
  REQUIRE(run_uniem("synth " + quote(dir / "elsewhere" / "s") + " --shape 3,32,32 --quiet").exit_code == 0);
  const json added = {{"command", "label"}, {"arguments", {{"in", (dir / "elsewhere" / "s" / "membranes").string()}, {"out", "x.tif"}}}};
  const auto from_added = run_uniem("run " + quote(write_job(dir / "ws" / "job.json", added)) + " --confine --out " + quote(dir / "ws" / "run2"));
  CHECK_MESSAGE(from_added.exit_code == 0, from_added.output);
  // A run folder holding an earlier run's record is not run into again (its record would be lost).
  const json synth = {{"command", "synth"}, {"arguments", {{"out", "s"}, {"shape", "3,32,32"}}}};
  REQUIRE(run_uniem("run " + quote(write_job(dir / "again.json", synth)) + " --out " + quote(dir / "r")).exit_code == 0);
  const std::string first = read_json(dir / "r" / "run.json")["started"];
  const auto again = run_uniem("run " + quote(dir / "again.json") + " --out " + quote(dir / "r"));
  CHECK(again.exit_code == 2);
  CHECK(again.output.find("holds the record of an earlier run") != std::string::npos);
  CHECK(read_json(dir / "r" / "run.json")["started"] == first);
  // A hand-edited record is refused, naming what is wrong.
  json edited = read_json(dir / "r" / "run.json");
  edited["steps"] = 5;
  std::ofstream(dir / "r" / "run.json") << edited.dump();
  const auto broken = run_uniem("rerun " + quote(dir / "r" / "run.json"));
  CHECK(broken.exit_code == 1);
  CHECK(broken.output.find("run.json: is not a run record of uniem run: \"steps\" is not a list") != std::string::npos);

  CHECK(run_uniem("run " + quote(dir / "none.json")).exit_code == 2);
  test::write_text(dir / "broken.json", "{\"command\": ");
  const auto r = run_uniem("run " + quote(dir / "broken.json"));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("not valid JSON") != std::string::npos);
}

TEST_CASE("uniem rerun: a 20-step train2d pipeline and an ffn segment come out identical; changed inputs are named") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "a") + " --shape 16,64,64 --voxel-size 12,6,6 --quiet").exit_code == 0);
  const json job = {
      {"threads", 2},
      {"pipeline",
       {{{"command", "train2d"},
         {"arguments", {{"images", "a/image"}, {"labels", "a/membranes"}, {"model", "model"}, {"filters", 4}, {"depth", 2},
                        {"patch", 32}, {"batch", 2}, {"steps", 20}, {"validate-every", 10}, {"log-every", 5}}}},
        {{"command", "infer2d"},
         {"arguments", {{"model", "model"}, {"images", "a/image"}, {"out", "inferred"}, {"tile", 64}, {"threshold", 0.5}}}},
        {{"command", "eval"}, {"arguments", {{"seg", "inferred/mask"}, {"gt", "a/membranes"}, {"mode", "semantic"}}}}}}};
  auto r = run_uniem("run " + quote(write_job(dir / "experiment.json", job)) + " --out " + quote(dir / "run1") + " --progress json");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("step 3 of 3: uniem eval") != std::string::npos);
  CHECK(r.output.find("{\"event\":\"metrics\",\"phase\":\"train2d\"") != std::string::npos);
  const json record = read_json(dir / "run1" / "run.json");
  CHECK(record["threads"] == 2);
  CHECK(record["steps"].size() == 3);
  for (const auto& in : record["steps"][1]["inputs"])
    if (in["field"] == "model") CHECK(in["from_step"] == 1);  // infer2d reads what train2d wrote
  CHECK(record["steps"][0]["options"]["steps"] == "20");
  CHECK(record["steps"][0]["options"]["net"] == "unet");  // defaults resolved
  CHECK(record["steps"][0]["device"] == "auto");
  CHECK(record["steps"][0]["metrics"].contains("loss"));
  CHECK(record["metrics"].contains("mean_jaccard"));
  CHECK(record["uniem"]["commit"].get<std::string>().size() > 0);

  r = run_uniem("rerun " + quote(dir / "run1" / "run.json") + " --out " + quote(dir / "run2"));
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("all 2 outputs identical") != std::string::npos);
  // Another thread count: named when the outputs differ.
  r = run_uniem("rerun " + quote(dir / "run1" / "run.json") + " --out " + quote(dir / "run3") + " --threads 1");
  if (r.exit_code == 1) CHECK(r.output.find("the recorded run used 2 threads, this one 1") != std::string::npos);
  else CHECK(r.exit_code == 0);

  // ffn segment, rerun into the default folder (run name + .rerun).
  const std::string net = " --fov 5,9,9 --deltas 1,2,2 --depth 2 --filters 4";
  REQUIRE(run_uniem("ffn prep --images " + quote(dir / "a" / "image") + " --labels " + quote(dir / "a" / "neurons") + " --out " +
                    quote(dir / "prep") + net + " --min-size 100 --quiet").exit_code == 0);
  REQUIRE(run_uniem("ffn train --prep " + quote(dir / "prep") + net + " --steps 6 --quiet --model " + quote(dir / "ffn")).exit_code == 0);
  fs::create_directories(dir / "seg");
  r = run_uniem("run " + quote(write_job(dir / "seg" / "job.json", {{"command", "ffn segment"},
                                                                    {"arguments", {{"model", "../ffn"}, {"images", "../a/image"}, {"min-size", 20}, {"out", "objects"}}}})));
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  r = run_uniem("rerun " + quote(dir / "seg" / "run.json"));
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("identical  ffn segment out (objects)") != std::string::npos);
  CHECK(fs::exists(dir / "seg.rerun" / "objects" / "segmentation.json"));

  // A changed input stops the rerun, naming it; --force runs anyway.
  test::write_text(dir / "a" / "image" / "0000.png", "not the image any more");
  r = run_uniem("rerun " + quote(dir / "seg" / "run.json"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("input 'images' of ffn segment") != std::string::npos);
  CHECK(r.output.find("--force") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "seg.rerun-2"));
}

TEST_CASE("uniem describe: every command's options as JSON, for forms") {
  auto r = run_uniem("describe");
  REQUIRE(r.exit_code == 0);
  const json all = json::parse(r.output);
  std::vector<std::string> names;
  for (const auto& c : all["commands"]) names.push_back(c["command"]);
  for (const char* expected : {"synth", "info", "convert", "filter", "label", "watershed", "mesh", "eval", "train2d", "infer2d",
                               "ffn prep", "ffn train", "ffn segment", "ffn export", "ffn import-tf", "export"})
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());
  r = run_uniem("train2d --describe");
  REQUIRE(r.exit_code == 0);
  const json train = json::parse(r.output);
  bool batch = false, images = false, beta = false;
  for (const auto& a : train["arguments"]) {
    if (a["name"] == "batch") {
      batch = true;
      CHECK(a["type"] == "integer");
      CHECK(a["min"] == 1);
      CHECK(a["max"] == 1024);
      CHECK(a["level"] == "basic");
    }
    if (a["name"] == "images") images = a["role"] == "input";
    if (a["name"] == "beta1") beta = a["level"] == "advanced";
  }
  CHECK(batch);
  CHECK(images);
  CHECK(beta);
  r = run_uniem("ffn segment --describe");
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.output)["command"] == "ffn segment");
  CHECK(run_uniem("filter --help").output.find("Steps, applied in the order given:") != std::string::npos);
  CHECK(run_uniem("train2d --help").output.find("Advanced options:") != std::string::npos);
}

TEST_CASE("external tools: a manifest in tools/ runs as a job step, checked like a command, recorded, cancelled") {
  TempDir dir;
  const fs::path ws = dir / "ws";
  fs::create_directories(ws / "tools");
  REQUIRE(run_uniem("synth " + quote(ws / "s") + " --shape 4,32,32 --quiet").exit_code == 0);
  // A tool in shell: copies a stack, says what it got; fails on request; sleeps on request.
  write_text(ws / "tools" / "copy.sh",
             "#!/bin/sh\necho \"copy got: $*\"\nin=$1; out=$2; shift 2\n"
             "for a in \"$@\"; do case $a in --fail) mkdir -p \"$out\"; exit 3;; --sleep=*) mkdir -p \"$out\"; sleep ${a#--sleep=};; esac; done\n"
             "cp -r \"$in\" \"$out\"\n");
  fs::permissions(ws / "tools" / "copy.sh", fs::perms::owner_all);
  write_text(ws / "tools" / "copy.json", json({{"summary", "copy a stack"},
                                                {"executable", "copy.sh"},
                                                {"arguments", {{{"name", "in"}, {"kind", "positional"}, {"type", "path"}, {"role", "input"}, {"help", "stack"}},
                                                               {{"name", "out"}, {"kind", "positional"}, {"type", "path"}, {"role", "output"}, {"help", "copy"}},
                                                               {{"name", "sleep"}, {"kind", "option"}, {"type", "integer"}, {"min", 1}, {"max", 30}, {"help", "wait"}},
                                                               {{"name", "fail"}, {"kind", "flag"}, {"help", "fail"}}}}})
                                              .dump());
  auto job = [&](const json& arguments) {
    return write_job(ws / "job.json", {{"command", "tool:copy"}, {"arguments", arguments}});
  };
  // Runs, with its output in the run folder and in the record like a command's.
  auto r = run_uniem("run " + quote(job({{"in", "s/image"}, {"out", "copy"}})) + " --out " + quote(ws / "runs" / "a"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("copy got: " + (ws / "s" / "image").string() + " " + (ws / "runs" / "a" / "copy").string()) != std::string::npos);
  CHECK(fingerprint(ws / "runs" / "a" / "copy").sha256 == fingerprint(ws / "s" / "image").sha256);
  const json record = read_json(ws / "runs" / "a" / "run.json");
  CHECK(record["steps"][0]["command"] == "tool:copy");
  CHECK(record["steps"][0]["outputs"][0]["sha256"] == fingerprint(ws / "s" / "image").sha256);
  CHECK(record["steps"][0]["inputs"][0]["field"] == "in");
  // Checked before it runs, with the command line's messages.
  r = run_uniem("run " + quote(job({{"in", "s/image"}, {"out", "x"}, {"sleep", 99}})) + " --out " + quote(ws / "runs" / "b"));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--sleep takes 1 to 30, not 99") != std::string::npos);
  r = run_uniem("run " + quote(job({{"in", "nothing"}, {"out", "x"}})) + " --out " + quote(ws / "runs" / "b"));
  CHECK(r.output.find("'in': nothing does not exist") != std::string::npos);
  r = run_uniem("run " + quote(write_job(ws / "job.json", {{"command", "tool:none"}})) + " --out " + quote(ws / "runs" / "b"));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("there is no tool 'none'") != std::string::npos);
  // A tool that fails leaves no output; its status is the job's failure.
  r = run_uniem("run " + quote(job({{"in", "s/image"}, {"out", "copy"}, {"fail", true}})) + " --out " + quote(ws / "runs" / "c"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("tool:copy ended with status 3") != std::string::npos);
  CHECK(!fs::exists(ws / "runs" / "c" / "copy"));
  CHECK(read_json(ws / "runs" / "c" / "run.json")["exit_status"] == 1);
  // ...but what was there before it ran is not its to remove.
  fs::create_directories(dir / "precious");
  write_text(dir / "precious" / "keep.txt", "mine");
  r = run_uniem("run " + quote(job({{"in", "s/image"}, {"out", (dir / "precious").string()}, {"fail", true}})) + " --out " + quote(ws / "runs" / "c2"));
  CHECK(r.exit_code == 1);
  CHECK(fs::exists(dir / "precious" / "keep.txt"));
  r = run_uniem("run " + quote(job({{"in", "s/image"}, {"out", "."}, {"fail", true}})) + " --out " + quote(ws / "runs" / "c3"));
  CHECK(fs::exists(ws / "runs" / "c3" / "run.json"));
  // A confined job reads nothing hidden in the workspace (its .uniem holds the page's secret).
  fs::create_directories(ws / ".uniem");
  write_text(ws / ".uniem" / "page-secret", "secret");
  r = run_uniem("run " + quote(job({{"in", ".uniem/page-secret"}, {"out", "leak"}})) + " --confine --out " + quote(ws / "runs" / "c4"));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("is outside the workspace") != std::string::npos);
  // Cancelled (SIGTERM to uniem run): the tool is stopped, its output removed.
  r = run_uniem("run " + quote(job({{"in", "s/image"}, {"out", "copy"}, {"sleep", 20}})) + " --out " + quote(ws / "runs" / "d") +
                " & sleep 1; kill -TERM $!; wait $!");
  CHECK(r.exit_code == 143);
  CHECK(!fs::exists(ws / "runs" / "d" / "copy"));
  // Manifests that are wrong are named with what is wrong.
  write_text(ws / "tools" / "bad.json", R"({"executable": "missing.sh", "arguments": []})");
  r = run_uniem("run " + quote(write_job(ws / "job.json", {{"command", "tool:bad"}})) + " --out " + quote(ws / "runs" / "e"));
  CHECK(r.output.find("bad.json: the executable") != std::string::npos);
  write_text(ws / "tools" / "bad.json", R"({"executable": "copy.sh", "arguments": [{"name": "x", "kind": "option", "type": "colour"}]})");
  r = run_uniem("run " + quote(write_job(ws / "job.json", {{"command", "tool:bad"}})) + " --out " + quote(ws / "runs" / "e"));
  CHECK(r.output.find("\"type\" is text, integer, number, choice or path, not 'colour'") != std::string::npos);
  write_text(ws / "tools" / "bad.json", R"({"executable": "copy.sh", "arguments": [{"name": "n", "kind": "positional", "type": "integer"}]})");
  r = run_uniem("run " + quote(write_job(ws / "job.json", {{"command", "tool:bad"}})) + " --out " + quote(ws / "runs" / "e"));
  CHECK(r.output.find("a positional argument is a path") != std::string::npos);
  write_text(ws / "tools" / "bad.json", R"({"executable": "copy.sh", "arguments": [{"name": "x", "kind": 5}]})");
  r = run_uniem("run " + quote(write_job(ws / "job.json", {{"command", "tool:bad"}})) + " --out " + quote(ws / "runs" / "e"));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("bad.json: a field has the wrong type") != std::string::npos);
}
