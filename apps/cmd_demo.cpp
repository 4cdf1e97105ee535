// uniem demo: the built-in default job of `make run`. It makes a workspace of an EM-like volume
// with ground truth and runs the workflow on it as jobs of the workbench's queue (the same job
// files, child processes, logs and run records as jobs started from the browser), so that the
// workbench it opens at the end shows each step as a finished job. Later parts of the workflow
// add their jobs here.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/compute_device.h"
#include "apps/describe.h"
#include "apps/jobs/runner.h"
#include "apps/serve_project.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/progress.h"
#include "io/atomic_output.h"
#include "io/folder_lock.h"
#include "web/jobs/job_service.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::apps {
namespace {
constexpr const char* marker = "uniem-demo.json";
constexpr const char* demo_user = "uniem demo";

// One job of the demo: what it is called in the queue, the folder it runs in (the workspace's
// `folder`/), and the job as the workbench would submit it.
struct DemoJob {
  std::string folder, name;
  json job;
};

// The workflow: paths a step reads are relative to the workspace, or name what an earlier step
// of the same job wrote; paths it writes are relative to the job's folder.
std::vector<DemoJob> demo_jobs(const std::vector<int64_t>& shape, int64_t seed, const json& device) {
  const std::string zyx = std::to_string(shape[0]) + "," + std::to_string(shape[1]) + "," + std::to_string(shape[2]);
  const std::string unseen = std::to_string(std::min<int64_t>(shape[0], 8)) + "," + std::to_string(shape[1]) + "," +
                             std::to_string(shape[2]);
  // 128 pixels, or what fits a small --shape once validation has held out its rows (a quarter at most)
  const int64_t patch = std::max<int64_t>(8, std::min<int64_t>(128, std::min(shape[1] * 3 / 4, shape[2]) / 4 * 4));
  json train = {{"images", "volume/png/image"}, {"labels", "volume/png/mitochondria"}, {"model", "model"},
                {"filters", 8}, {"depth", 3}, {"loss", "logistic"}, {"steps", 150}, {"learning-rate", 2e-3},
                {"patch", patch}, {"validate-every", 150}, {"checkpoint-every", 150}, {"log-every", 10}, {"seed", seed}};
  json infer = {{"model", "model"}, {"images", "unseen/image"}, {"out", "predicted"}, {"threshold", 0.5}, {"tile", 256}};
  train.update(device);
  infer.update(device);
  return {
      {"volume", "synthetic EM volume with ground truth (PNG folders and multi-page TIFFs)",
       {{"pipeline",
         {{{"command", "synth"}, {"arguments", {{"out", "png"}, {"shape", zyx}, {"seed", seed}}}},
          {{"command", "synth"}, {"arguments", {{"out", "tiff"}, {"shape", zyx}, {"seed", seed}, {"format", "tiff"}}}}}}}},
      {"classic", "classic segmentation of the neurons: smoothing, watershed, scores, meshes",
       {{"pipeline",
         {{{"command", "filter"},
           {"arguments", {{"in", "volume/tiff/image.tif"}, {"out", "boundary.tif"}, {"steps", {{{"gaussian", 1.5}}, {{"invert", true}}}}}}},
          {{"command", "watershed"}, {"arguments", {{"in", "boundary.tif"}, {"out", "segmentation.tif"}, {"seeds-below", "otsu"}}}},
          {{"command", "eval"}, {"arguments", {{"seg", "segmentation.tif"}, {"gt", "volume/tiff/neurons.tif"}}}},
          {{"command", "mesh"}, {"arguments", {{"labels", "segmentation.tif"}, {"outdir", "meshes"}}}}}}}},
      {"cnn", "2D CNN: a U-Net learns the mitochondria, then finds them in a volume it never saw",
       {{"pipeline",
         {{{"command", "train2d"}, {"arguments", train}},
          {{"command", "synth"}, {"arguments", {{"out", "unseen"}, {"shape", unseen}, {"seed", seed + 1000}}}},
          {{"command", "infer2d"}, {"arguments", infer}},
          {{"command", "eval"},
           {"arguments", {{"seg", "predicted/mask"}, {"gt", "unseen/mitochondria"}, {"mode", "semantic"}}}}}}}},
      {"proofreading", "proofreading project of the classic segmentation",
       {{"command", "project"},
        {"arguments", {{"images", "volume/tiff/image.tif"}, {"labels", "classic/segmentation.tif"}, {"project", "neurons"}}}}},
  };
}

// `folder` ready for a new demo: made, or empty, or an earlier demo's output (replaced, unless a
// workbench serves it). Anything else is left alone: InputError.
void prepare_folder(const fs::path& folder) {
  std::error_code ec;
  if (fs::exists(folder / marker)) {
    { FolderLock lock(folder / ".uniem" / "lock", folder.string() + " is served by a uniem workbench; stop it first"); }
    fs::remove_all(folder);
  } else if (fs::exists(folder) && !(fs::is_directory(folder) && fs::is_empty(folder, ec))) {
    throw InputError(folder, "exists and is not an earlier demo's output (it has no " + std::string(marker) +
                                 "); choose another --output");
  }
  fs::create_directories(folder);
  write_file_atomically(folder / marker,
                        json{{"complete", false}, {"note", "made by uniem demo; the next uniem demo here replaces this folder"}}.dump(2) + "\n", true);
}

// What the terminal shows of a job's events: when it starts and ends, the training's loss, and on
// a terminal a line with the running step's progress.
class Narrator {
 public:
  void name(int64_t job, const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    names_[job] = name;
  }
  void operator()(int64_t job, const json& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string event = e.value("event", ""), state = e.value("state", "");
    if (event == "state" && state == "running" && !e.contains("seconds")) {
      say("[" + std::to_string(++started_) + "/" + std::to_string(names_.size()) + "] " + names_[job]);
    } else if (event == "state" && state != "running") {
      say("      " + state + (e.contains("message") ? ": " + e.value("message", "") : ""));
    } else if (event == "metrics" && e.value("phase", "") == "train2d" && e.contains("loss")) {
      char line[160];
      std::snprintf(line, sizeof line, "      training step %lld, loss %.4f", static_cast<long long>(e.value("step", int64_t{0})),
                    e.value("loss", 0.0));
      say(line);
    } else if (event == "progress" && tty_) {
      const std::string left = e.contains("eta_seconds") ? ", " + format_duration(e.value("eta_seconds", 0.0)) + " left" : "";
      std::printf("\r      %s: %lld/%lld%s\033[K", e.value("phase", "").c_str(), static_cast<long long>(e.value("done", int64_t{0})),
                  static_cast<long long>(e.value("total", int64_t{0})), left.c_str());
      std::fflush(stdout);
      bar_ = true;
    }
  }

 private:
  void say(const std::string& line) {
    std::printf("%s%s\n", bar_ ? "\r\033[K" : "", line.c_str());
    std::fflush(stdout);
    bar_ = false;
  }
  std::mutex mutex_;
  std::map<int64_t, std::string> names_;
  bool tty_ = ::isatty(1) == 1, bar_ = false;
  int started_ = 0;
};

// Submits the jobs to the workspace's queue and runs it, as the workbench does, until each has
// ended, one failed, or Ctrl+C stopped it. Returns each job's row as it ended.
std::vector<web::JobRow> run_queue(const fs::path& workspace, const std::vector<DemoJob>& jobs) {
  auto narrator = std::make_shared<Narrator>();
  web::JobServiceOptions options = workbench_job_options(workspace);
  options.on_event = [narrator](int64_t job, const json& e) { (*narrator)(job, e); };
  web::JobService queue(options);
  std::vector<int64_t> ids;
  for (const auto& j : jobs) {
    ids.push_back(queue.store().submit(j.job, j.name, demo_user, "", (workspace / j.folder).string()));
    narrator->name(ids.back(), j.name);
  }
  const auto rows = [&] {
    std::vector<web::JobRow> r;
    for (const int64_t id : ids) r.push_back(*queue.store().get(id));
    return r;
  };
  queue.start();
  for (bool going = true; going && !cancel_requested();) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    bool failed = false;
    going = false;
    for (const auto& r : rows()) {
      failed = failed || r.state == "failed" || r.state == "cancelled";
      going = going || r.state == "queued" || r.state == "running";
    }
    going = going && !failed;
  }
  queue.stop();  // a job still running is stopped and marked interrupted
  return rows();
}

json read_json(const fs::path& file) {
  std::ifstream in(file);
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) throw InputError(file, "is not the JSON the demo's job wrote");
  return j;
}

// The metrics a job's step reported (run.json), by the step's command.
json step_metrics(const web::JobRow& row, const std::string& command, int which = 0) {
  const json record = read_run_record(fs::path(row.run_folder) / run_record_name);
  for (const auto& step : record["steps"])
    if (step.value("command", "") == command && which-- == 0) return step.value("metrics", json::object());
  throw Error(row.run_folder + "/run.json: no " + command + " step");
}

}  // namespace

cli::Command demo_command() {
  cli::Command command(
      "demo", "run the uniem workflow on a synthetic EM volume",
      "Makes OUTPUT a workspace and runs the workflow in it as jobs, one after the other, as the\n"
      "workbench runs them: synthesises an EM-like volume with ground truth (see 'uniem synth --help'),\n"
      "as PNG folders and multi-page TIFFs (volume/); segments the neurons the classic way (smoothing,\n"
      "watershed), scores that against the ground truth and meshes every segment (classic/); trains a\n"
      "small U-Net to find the mitochondria and tests it on a second volume it never saw (cnn/); makes\n"
      "a proofreading project of the segmentation (proofreading/). Each job keeps its log and its run\n"
      "record (run.json). Then it opens the workbench on OUTPUT (uniem workbench) and prints its\n"
      "address: in your browser, see the finished jobs and their records, look through the stacks,\n"
      "follow the U-Net's training curves, proofread the segmentation and run any command on the data;\n"
      "Ctrl+C ends the demo (--no-serve skips this). A previous demo output in the same folder is\n"
      "replaced, with its proofreading and jobs; any other existing folder is left alone.",
      "  uniem demo\n  uniem demo --output /tmp/my-demo --seed 3");
  command.option("output", "DIR", "where to write", "demo-output").output()
      .option("seed", "N", "random seed", "1").integer(0, {})
      .option("shape", "Z,Y,X", "size in voxels", "48,256,256").unit("voxels")
      .option("port", "N", "port of the workbench (another free one when it is taken)", "8080")
      .integer(0, 65535)
      .advanced()
      .flag("no-serve", "end without opening the workbench");
  add_device_options(command);
  return command;
}

int run_demo(const cli::Args& args) {
  const fs::path folder = fs::absolute(args.get("output")).lexically_normal();
  const auto shape = args.integers("shape", 3);
  const int64_t seed = args.integer("seed");
  // Said once here, and a GPU asked for but missing stops the demo before anything is made; the
  // jobs compute on the device chosen here.
  const Device device = choose_device(args);
  json on = {{"device", device.str()}};
  if (args.has("precision")) on["precision"] = args.get("precision");
  std::printf("uniem demo: a workspace in %s, its steps run as jobs (each with its log and run.json):\n", folder.c_str());
  std::fflush(stdout);
  prepare_folder(folder);
  const std::vector<DemoJob> jobs = demo_jobs(shape, seed, on);
  const std::vector<web::JobRow> rows = run_queue(folder, jobs);
  for (const auto& row : rows) {
    if (row.state == "done") continue;
    if (row.state == "interrupted" || cancel_requested()) {
      std::printf("Stopped. What was done stays in %s; the next 'uniem demo' there starts again.\n", folder.c_str());
      return cancel_exit_code();
    }
    throw Error("the demo's job '" + row.name + "' " + row.state + ": " + row.message + " (its log: " + row.run_folder + "/log.txt)");
  }

  const json synth = read_json(folder / "volume" / "png" / "synth.json");
  const json scores = step_metrics(rows[1], "eval"), mesh = step_metrics(rows[1], "mesh");
  const json training = step_metrics(rows[2], "train2d"), unseen = step_metrics(rows[2], "eval");
  json record = {{"complete", true},
                 {"volume", synth},
                 {"jobs", json::array()},
                 {"segmentation",
                  {{"method", "gaussian 1.5, invert, seeds below Otsu, 6-connected watershed"},
                   {"v_rand", scores.value("v_rand", 0.0)},
                   {"vi_bits", scores.value("vi_bits", 0.0)},
                   {"segments", scores.value("segments", 0)}}},
                 {"meshes", {{"objects", mesh.value("objects", 0)}, {"triangles", mesh.value("triangles", 0)}, {"format", "ply"}}},
                 {"cnn",
                  {{"network", "unet, 8 filters, depth 3"},
                   {"steps", training.value("step", 0)},
                   {"validation_jaccard", training.value("validation", json::object()).value("jaccard", 0.0)},
                   {"unseen_jaccard", unseen.value("mean_jaccard", 0.0)},
                   {"unseen_dice", unseen.value("mean_dice", 0.0)}}}};
  for (const auto& row : rows)
    record["jobs"].push_back({{"id", row.id}, {"name", row.name}, {"folder", fs::relative(row.run_folder, folder).string()}});
  write_file_atomically(folder / marker, record.dump(2) + "\n", true);

  std::printf("\n%lld neurons and %lld mitochondria, written as PNG folders and multi-page TIFFs.\n\n",
              static_cast<long long>(synth.value("neurons", 0)), static_cast<long long>(synth.value("mitochondria", 0)));
  for (const char* name : {"image", "neurons"}) {
    const fs::path file = folder / "volume" / "tiff" / (std::string(name) + ".tif");
    StackInfo info;
    const Volume v = read_volume(file, {}, &info);
    std::printf("uniem info %s\n%s\n", file.c_str(), describe_text(describe_json(file.string(), v, info)).c_str());
  }
  std::printf("Classic segmentation (uniem filter --gaussian 1.5 --invert, then uniem watershed\n"
              "--seeds-below otsu), scored with uniem eval against the ground truth:\n"
              "  %lld segments for %lld neurons, V_rand %.4f (1 is perfect), variation of information %.4f bits\n\n",
              static_cast<long long>(record["segmentation"]["segments"].get<int64_t>()),
              static_cast<long long>(synth.value("neurons", 0)), record["segmentation"]["v_rand"].get<double>(),
              record["segmentation"]["vi_bits"].get<double>());
  std::printf("Surface meshes of the %lld segments (uniem mesh): %lld triangles, smoothed, in nm, one PLY file per\n"
              "segment (open in MeshLab, Blender or ParaView, or View in 3D in the workbench), with area and volume\n"
              "in classic/meshes/measurements.csv\n\n",
              static_cast<long long>(mesh.value("objects", 0)), static_cast<long long>(mesh.value("triangles", 0)));
  std::printf("2D CNN (uniem train2d, then uniem infer2d on a second synthetic volume it never saw):\n"
              "  a U-Net, %lld steps; the mitochondria of the unseen sections found with Jaccard %.3f (1 is perfect)\n\n",
              static_cast<long long>(record["cnn"]["steps"].get<int64_t>()), record["cnn"]["unseen_jaccard"].get<double>());
  std::printf("Demo output in %s/ (each job's folder has its job.json, log.txt and run.json):\n", folder.c_str());
  std::printf("  volume/png/image/, volume/png/neurons/, ...     PNG stacks (0000.png ...)\n");
  std::printf("  volume/tiff/image.tif, volume/tiff/neurons.tif  multi-page TIFFs (open in Fiji)\n");
  std::printf("  classic/segmentation.tif                        the classic segmentation (and boundary.tif, its landscape)\n");
  std::printf("  classic/meshes/                                 surface of each segment (PLY), measurements.csv\n");
  std::printf("  cnn/model/                                      the trained model (uniem infer2d --model)\n");
  std::printf("  cnn/unseen/image/, cnn/predicted/mask/          the second volume and what the model found\n");
  std::printf("  proofreading/neurons/                           the segmentation as a proofreading project\n");
  std::printf("  uniem-demo.json                                 what was made, with the scores\n");
  if (args.has("no-serve")) return 0;
  std::printf("\nThe workbench on the demo output (uniem workbench %s): its Run page lists the demo's\n"
              "jobs with their records, the Training page the U-Net's curves and sample pictures, the\n"
              "Data page the stacks, the model and the meshes; 'Proofread' on the project 'neurons' opens\n"
              "the segmentation in the proofreader.\n",
              folder.c_str());
  ServeOptions serve;
  serve.port = static_cast<int>(args.integer("port"));
  serve.any_port_if_taken = true;
  return serve_workbench(folder, serve, true, "#run");
}

}  // namespace uniem::apps
