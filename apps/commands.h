// The subcommands of `uniem`, one file each (cmd_<name>.cpp): parse, call core/ and io/, print.
// Each returns the exit code: 0 success; failures are thrown (UsageError -> 2, Error -> 1).
#pragma once

#include <string>
#include <vector>

namespace uniem::apps {

using Arguments = std::vector<std::string>;

int run_info(const Arguments& args);
int run_convert(const Arguments& args);
int run_synth(const Arguments& args);
int run_demo(const Arguments& args);
int run_devices(const Arguments& args);
int run_label(const Arguments& args);
int run_eval(const Arguments& args);
int run_filter(const Arguments& args);
int run_watershed(const Arguments& args);
int run_mesh(const Arguments& args);
int run_train2d(const Arguments& args);
int run_infer2d(const Arguments& args);
int run_ffn(const Arguments& args);
int run_serve(const Arguments& args);
int run_export(const Arguments& args);

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
    {"serve", "the proofreader: paint and correct segmentations in the browser, several people at once", run_serve},
    {"export", "write a proofreading project's labels, with every edit, as a PNG or TIFF stack", run_export},
    {"eval", "score a segmentation against ground truth (Rand, VI, Jaccard, Dice)", run_eval},
    {"devices", "list the GPUs uniem can use", run_devices},
};

}  // namespace uniem::apps
