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
  int run_##name(const cli::Args& args);
UNIEM_COMMAND(info)
UNIEM_COMMAND(convert)
UNIEM_COMMAND(synth)
UNIEM_COMMAND(demo)
UNIEM_COMMAND(devices)
UNIEM_COMMAND(label)
UNIEM_COMMAND(eval)
UNIEM_COMMAND(filter)
UNIEM_COMMAND(watershed)
UNIEM_COMMAND(affinities)
UNIEM_COMMAND(agglomerate)
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
UNIEM_COMMAND(project)
UNIEM_COMMAND(workbench)
UNIEM_COMMAND(run)
UNIEM_COMMAND(rerun)
UNIEM_COMMAND(worker)
UNIEM_COMMAND(status)
#undef UNIEM_COMMAND
// uniem describe [COMMAND...]: its arguments are the words of a command's name (apps/cmd_run.cpp).
cli::Command describe_command();
int run_describe(const Arguments& words);

// What `uniem --help` lists, in this order ("ffn" stands for its steps).
struct Summary {
  const char* name;
  const char* summary;
};

inline constexpr Summary summaries[] = {
    {"demo", "make a synthetic EM volume with ground truth and show what uniem does with it"},
    {"info", "describe an image stack: shape, type, voxel size, value statistics"},
    {"convert", "convert between PNG folders, TIFF folders and multi-page TIFF, and between bit depths"},
    {"synth", "synthesise an EM-like volume with neuron, membrane and mitochondria ground truth"},
    {"filter", "apply filters in order: smoothing, median, thresholds, morphology, distance"},
    {"label", "find connected components, with per-object statistics"},
    {"watershed", "grow regions from markers: split cells along membranes or touching objects"},
    {"agglomerate", "neurons from predicted affinities: watershed fragments joined by their mean affinity"},
    {"affinities", "make the affinities of a label volume (training targets, or to try agglomerate)"},
    {"mesh", "surface meshes of labelled objects (PLY, OBJ, STL, Neuroglancer), with area and volume"},
    {"train2d", "train a 2D network (U-Net, ResNet, HighwayNet, DenseNet) from painted sections"},
    {"infer2d", "apply a trained 2D network to sections: probability maps, masks, objects"},
    {"ffn", "3D neuron segmentation with flood-filling networks: prep, train, segment, export, import-tf"},
    {"workbench", "every command in the browser, as forms, with a job queue, progress and logs"},
    {"serve", "the proofreader: paint and correct segmentations in the browser, several people at once"},
    {"project", "make a proofreading project from an EM stack and a segmentation, to open in the proofreader"},
    {"export", "write a proofreading project's labels, with every edit, as a PNG or TIFF stack"},
    {"eval", "score a segmentation against ground truth (Rand, VI, Jaccard, Dice)"},
    {"run", "run a job file: one command or a pipeline of them, with a record of what was run (run.json)"},
    {"rerun", "run a recorded job again and say, output by output, whether the result is identical"},
    {"worker", "do the block tasks of a --cluster run (on this computer or a cluster node)"},
    {"status", "show how far a --cluster run has come: tasks done, running, failed"},
    {"describe", "print the options of every command as JSON, for programs that build forms from them"},
    {"devices", "list the GPUs uniem can use"},
};

// Every command: its declaration (the option schema), what runs it, and whether a job file may
// name it ("filter", "ffn segment", ...).
struct Subcommand {
  const char* name;
  const char* summary;  // the ffn steps': `uniem ffn` lists them
  cli::Command (*declare)();
  int (*run)(const cli::Args&);
  bool job;
};

inline const Subcommand commands[] = {
    {"synth", "", synth_command, run_synth, true},
    {"info", "", info_command, run_info, true},
    {"convert", "", convert_command, run_convert, true},
    {"filter", "", filter_command, run_filter, true},
    {"label", "", label_command, run_label, true},
    {"watershed", "", watershed_command, run_watershed, true},
    {"affinities", "", affinities_command, run_affinities, true},
    {"agglomerate", "", agglomerate_command, run_agglomerate, true},
    {"mesh", "", mesh_command, run_mesh, true},
    {"eval", "", eval_command, run_eval, true},
    {"train2d", "", train2d_command, run_train2d, true},
    {"infer2d", "", infer2d_command, run_infer2d, true},
    {"ffn prep", "from images and ground truth: object-mask classes and balanced training coordinates", ffn_prep_command,
     run_ffn_prep, true},
    {"ffn train", "train a flood-filling network", ffn_train_command, run_ffn_train, true},
    {"ffn segment", "segment neurons in 3D with a trained (or imported) network", ffn_segment_command, run_ffn_segment, true},
    {"ffn export", "write the objects of an interrupted segment run", ffn_export_command, run_ffn_export, true},
    {"ffn import-tf", "turn a TensorFlow FFN checkpoint into a uniem model folder", ffn_import_tf_command, run_ffn_import_tf,
     true},
    {"project", "", project_command, run_project, true},
    {"export", "", export_command, run_export, true},
    {"demo", "", demo_command, run_demo, false},  // it runs a queue of its own and serves the workbench: not a job
    {"workbench", "", workbench_command, run_workbench, false},
    {"serve", "", serve_command, run_serve, false},
    {"run", "", run_command, run_run, false},
    {"rerun", "", rerun_command, run_rerun, false},
    {"devices", "", devices_command, run_devices, false},
    {"worker", "", worker_command, run_worker, false},  // a cluster run's own: not a job
    {"status", "", status_command, run_status, false},
};

// The command called `name` ("ffn segment"), or nullptr; with `job`, only those a job may run.
const Subcommand* find_command(const std::string& name, bool job = false);

// Runs `uniem NAME ARGS...`: finds the command (for ffn, its step), parses the arguments against
// its declaration, answers --help and --describe, and runs it. Throws what the command throws.
int dispatch(const std::string& name, const Arguments& args);

}  // namespace uniem::apps
