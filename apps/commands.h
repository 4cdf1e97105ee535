// The subcommands of `uniem`, one file each (cmd_<name>.cpp): each declares its arguments once
// (<name>_command(), the option schema of apps/cli.h) and runs them (run_<name>: parse, call the
// library, print). The run functions return the exit code: 0 success; failures are thrown
// (UsageError -> 2, Error -> 1, Cancelled -> 128 + signal).
#pragma once

#include <string>
#include <vector>

#include "apps/cli.h"

namespace uniem::apps {

using Arguments = std::vector<std::string>;

#define UNIEM_COMMAND(name)     \
  cli::Command name##_command(); \
  int run_##name(const Arguments& args);
UNIEM_COMMAND(info)
UNIEM_COMMAND(convert)
UNIEM_COMMAND(synth)
UNIEM_COMMAND(demo)
UNIEM_COMMAND(devices)
UNIEM_COMMAND(label)
UNIEM_COMMAND(eval)
UNIEM_COMMAND(filter)
UNIEM_COMMAND(watershed)
UNIEM_COMMAND(mesh)
UNIEM_COMMAND(train2d)
UNIEM_COMMAND(infer2d)
UNIEM_COMMAND(ffn_prep)
UNIEM_COMMAND(ffn_train)
UNIEM_COMMAND(ffn_segment)
UNIEM_COMMAND(ffn_export)
UNIEM_COMMAND(ffn_import_tf)
UNIEM_COMMAND(serve)
UNIEM_COMMAND(export)
UNIEM_COMMAND(workbench)
#undef UNIEM_COMMAND
int run_ffn(const Arguments& args);  // dispatches to the ffn steps
int run_run(const Arguments& args);    // uniem run JOB.json (apps/cmd_run.cpp)
int run_rerun(const Arguments& args);  // uniem rerun run.json
int run_describe(const Arguments& args);

struct Subcommand {
  const char* name;
  const char* summary;
  int (*run)(const Arguments&);
};

inline constexpr Subcommand subcommands[] = {
    {"demo", "make a synthetic EM volume with ground truth and show what uniem does with it", run_demo},
    {"info", "describe an image stack: shape, type, voxel size, value statistics", run_info},
    {"convert", "convert between PNG folders, TIFF folders and multi-page TIFF, and between bit depths", run_convert},
    {"synth", "synthesise an EM-like volume with neuron, membrane and mitochondria ground truth", run_synth},
    {"filter", "apply filters in order: smoothing, median, thresholds, morphology, distance", run_filter},
    {"label", "find connected components, with per-object statistics", run_label},
    {"watershed", "grow regions from markers: split cells along membranes or touching objects", run_watershed},
    {"mesh", "surface meshes of labelled objects (PLY, OBJ, STL, Neuroglancer), with area and volume", run_mesh},
    {"train2d", "train a 2D network (U-Net, ResNet, HighwayNet, DenseNet) from painted sections", run_train2d},
    {"infer2d", "apply a trained 2D network to sections: probability maps, masks, objects", run_infer2d},
    {"ffn", "3D neuron segmentation with flood-filling networks: prep, train, segment, export, import-tf", run_ffn},
    {"workbench", "every command in the browser, as forms, with a job queue, progress and logs", run_workbench},
    {"serve", "the proofreader: paint and correct segmentations in the browser, several people at once", run_serve},
    {"export", "write a proofreading project's labels, with every edit, as a PNG or TIFF stack", run_export},
    {"eval", "score a segmentation against ground truth (Rand, VI, Jaccard, Dice)", run_eval},
    {"run", "run a job file: one command or a pipeline of them, with a record of what was run (run.json)", run_run},
    {"rerun", "run a recorded job again and say, output by output, whether the result is identical", run_rerun},
    {"describe", "print the options of every command as JSON, for programs that build forms from them", run_describe},
    {"devices", "list the GPUs uniem can use", run_devices},
};

// The commands a job file may name ("filter", "ffn segment", ...), with their declarations.
struct JobCommand {
  const char* name;
  cli::Command (*declare)();
  int (*run)(const Arguments&);  // the arguments after the command's name
};

inline const JobCommand job_commands[] = {
    {"synth", synth_command, run_synth},
    {"info", info_command, run_info},
    {"convert", convert_command, run_convert},
    {"filter", filter_command, run_filter},
    {"label", label_command, run_label},
    {"watershed", watershed_command, run_watershed},
    {"mesh", mesh_command, run_mesh},
    {"eval", eval_command, run_eval},
    {"train2d", train2d_command, run_train2d},
    {"infer2d", infer2d_command, run_infer2d},
    {"ffn prep", ffn_prep_command, run_ffn_prep},
    {"ffn train", ffn_train_command, run_ffn_train},
    {"ffn segment", ffn_segment_command, run_ffn_segment},
    {"ffn export", ffn_export_command, run_ffn_export},
    {"ffn import-tf", ffn_import_tf_command, run_ffn_import_tf},
    {"export", export_command, run_export},
    {"demo", demo_command, run_demo},
};

// The job command called `name`, or nullptr.
const JobCommand* find_job_command(const std::string& name);

}  // namespace uniem::apps
