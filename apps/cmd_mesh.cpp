// uniem mesh: surface meshes of every object of a label volume (io/label_meshes.h).
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "apps/cli.h"
#include "core/progress.h"
#include "apps/commands.h"
#include "apps/serve_project.h"
#include "apps/stack_options.h"
#include "io/atomic_output.h"
#include "io/label_meshes.h"
#include "io/precomputed.h"
#include "io/stack.h"
#include "web/http.h"

namespace fs = std::filesystem;

namespace uniem::apps {
namespace {

std::vector<uint64_t> parse_labels(const std::string& text) {
  std::vector<uint64_t> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    size_t used = 0;
    uint64_t v = 0;
    try {
      v = std::stoull(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || item.empty() || v == 0)
      throw UsageError("--labels takes positive label numbers separated by commas, e.g. 3,17,42; not '" + text + "'");
    out.push_back(v);
  }
  return out;
}

}  // namespace

cli::Command mesh_command() {
  cli::Command command(
      "mesh", "surface meshes of labelled objects, with their area and volume",
      "Makes a closed triangle surface for every object (nonzero label) of LABELS, all objects at\n"
      "once (not one sweep of the volume per object), at full resolution and in nanometres (the\n"
      "voxel size from the files or --voxel-size). Objects that touch each other get separate\n"
      "surfaces; objects cut by the volume border are closed there. The surfaces are smoothed with\n"
      "Taubin's method, which removes the voxel staircase without shrinking the object (--no-smooth\n"
      "keeps the raw marching-cubes surface, whose area is about 9% too large), and can be\n"
      "simplified with --decimate.\n"
      "\n"
      "OUTDIR (new, or an empty folder) gets one file per object, label_N.ply, or with --single-file\n"
      "one meshes.ply holding all (faces carry their label); --format obj or stl instead of PLY, or\n"
      "--format precomputed for a folder Neuroglancer opens as a precomputed:// mesh source (its\n"
      "fragments are also the compact binary form uniem's web pages read); written inside a\n"
      "precomputed segmentation (seg.precomputed/mesh), the segmentation's info names it, so that\n"
      "Neuroglancer shows each segment's surface with it. measurements.csv lists,\n"
      "per object: voxels, volume from the voxels and from the mesh (nm^3), surface area (nm^2),\n"
      "bounding box (voxels), centroid (nm), vertices and triangles.",
      "  uniem mesh segmentation.tif meshes/ --voxel-size 30,6,6\n"
      "  uniem mesh mito-objects/ mito-meshes/ --labels 3,17 --decimate 0.25 --format obj\n"
      "  uniem mesh neurons.tif ng-meshes/ --downsample 2 --format precomputed\n"
      "  uniem mesh neurons.precomputed neurons.precomputed/mesh --format precomputed");
  command.positional("LABELS", "label volume: folder of PNG/TIFF sections or a multi-page TIFF").input()
      .positional("OUTDIR", "new folder for the meshes and measurements.csv").output()
      .option("voxel-size", "Z,Y,X", "voxel size in nm, when the files do not say it").unit("nm")
      .option("labels", "A,B,...", "mesh only these labels (default: every nonzero label)")
      .option("downsample", "F", "mesh blocks of F^3 voxels (each the most frequent label)", "1").integer(1, 64)
      .option("format", "F", "ply, obj, stl or precomputed", "ply").choices({"ply", "obj", "stl", "precomputed"})
      .flag("single-file", "one file with all objects instead of one per object")
      .flag("no-smooth", "keep the raw marching-cubes surface")
      .option("smooth-iterations", "N", "Taubin iterations (lambda 0.5)", "20").integer(0, {}).advanced()
      .option("pass-band", "K", "Taubin pass band; smaller smooths more", "0.05").number(0, 2).advanced()
      .option("decimate", "R", "keep this fraction of each object's triangles (0 < R <= 1)", "1").number(0, 1)
      .option("triangles", "N", "or simplify each object to about N triangles").integer(4, {})
      .flag("noisy-labels", "mesh even a volume that looks like an image (few neighbours share a value)").advanced()
      .flag("overwrite", "replace OUTDIR if it exists")
      .flag("open", "then show the meshes in the 3D annotator: serves the workbench on OUTDIR's folder and opens the page")
      .interactive();
  command.rule([](const cli::Args& args) {
    if (args.has("open") && args.has("single-file"))
      throw UsageError("--open shows one file per object: leave out --single-file");
  });
  return command;
}

int run_mesh(const cli::Args& args) {
  MeshJob job;
  if (args.has("labels")) job.surfaces.labels = parse_labels(args.get("labels"));
  job.surfaces.downsample = static_cast<int>(args.integer("downsample"));
  job.format = args.get("format");
  if (job.format == "precomputed" && args.has("single-file"))
    throw UsageError("--single-file does not apply to --format precomputed (one fragment per object)");
  job.single_file = args.has("single-file");
  job.allow_noisy_labels = args.has("noisy-labels");
  job.smooth = !args.has("no-smooth");
  job.smoothing.iterations = static_cast<int>(args.integer("smooth-iterations"));
  job.smoothing.pass_band = args.number("pass-band");
  if (!(job.smoothing.pass_band > 0 && job.smoothing.pass_band < 2)) throw UsageError("--pass-band takes a number in (0, 2)");
  job.decimation.ratio = args.number("decimate");
  if (!(job.decimation.ratio > 0 && job.decimation.ratio <= 1)) throw UsageError("--decimate takes a fraction in (0, 1]");
  if (args.has("triangles")) job.decimation.triangles = args.integer("triangles");

  const std::string in = args.positional(0), out = args.positional(1);
  AtomicOutput output(out, AtomicOutput::Kind::folder, args.has("overwrite"));
  const Volume labels = read_volume(in, read_options(args));
  const MeshSummary s = write_label_meshes(labels, in, output.temporary(), job);
  output.commit();
  if (job.format == "precomputed" && attach_precomputed_meshes(out))
    std::printf("the segmentation %s now names these meshes: Neuroglancer shows them with it\n", fs::path(out).parent_path().string().c_str());
  progress_event(nlohmann::json{{"event", "metrics"}, {"phase", "mesh"}, {"objects", s.objects}, {"triangles", s.triangles},
                                {"vertices", s.vertices}}.dump());  // for a job's record
  if (s.objects == 0) {
    std::printf("note: %s has no labelled voxels (every voxel is 0): no meshes, measurements.csv is empty -> %s\n",
                in.c_str(), out.c_str());
    return 0;
  }
  std::printf("%lld objects, %lld triangles, %lld vertices (%s, voxel size %s) -> %s\n", static_cast<long long>(s.objects),
              static_cast<long long>(s.triangles), static_cast<long long>(s.vertices), job.format.c_str(),
              labels.voxel_size.to_string().c_str(), out.c_str());
  if (!args.has("open")) return 0;
  const fs::path folder = fs::weakly_canonical(fs::absolute(out));
  ServeOptions serve;
  serve.port = 8000;
  serve.any_port_if_taken = true;
  std::fflush(stdout);
  return serve_workbench(folder.parent_path(), serve, true, "annotator/?path=" + web::url_component(folder.filename().string()));
}

}  // namespace uniem::apps
