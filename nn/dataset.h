// Training data for the 2D networks: an image stack and its label stack, as sections in memory,
// split into training and validation parts, and random square crops of them.
//
// Images become float (C, H, W) in [0, 1]: the value divided by the full scale of its type (255
// for 8-bit, 65535 for 16-bit; float images as they are), so a model trained on 8-bit data reads
// 16-bit data of the same contrast alike. Labels become targets (T, H, W) of bytes, by the mapping:
//   binary    one channel; a label image with two values (0/255, 0/1, 0/any) maps its larger value
//             to 1; with more values, --label-threshold V makes values >= V foreground;
//   channels  K foreground masks from a K-channel label image (an RGB image for K = 3), each
//             channel thresholded like binary (nonzero without a threshold);
//   classes   one channel holding the class 0..K-1 of each pixel (softmax).
// A label value equal to ignore_value becomes `ignored` (255): no loss, no score. Anything else
// that does not fit is refused with what was found and how to map it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/image/volume.h"
#include "io/stack.h"

namespace uniem::nn {

inline constexpr uint8_t ignored = 255;

struct TargetMapping {
  std::string kind = "binary";  // binary, channels, classes
  int64_t classes = 1;          // K: output channels of the network
  double threshold = -1;        // binary / channels: values >= threshold are foreground; < 0: automatic
  int64_t ignore_value = -1;    // a label value meaning "not annotated"; < 0: none
  nlohmann::json to_json() const;
  static TargetMapping from_json(const nlohmann::json& j);
  int64_t target_channels() const { return kind == "classes" ? 1 : classes; }
};

struct Section {
  std::string name;                  // "labels/0003.png" or "section 3": for messages
  int64_t channels = 1, height = 0, width = 0;
  std::vector<float> image;          // (C, H, W) in [0, 1]
  int64_t target_channels = 1;
  std::vector<uint8_t> target;       // (T, H, W): 0/1 or the class; `ignored` where not annotated
  // Rows [row0, row0 + rows) and columns [col0, col0 + cols) of this section, image and target.
  Section region(int64_t row0, int64_t rows, int64_t col0, int64_t cols, const std::string& suffix) const;
};

// The image of section z of `v` as (C, H, W) floats in [0, 1].
std::vector<float> image_section(const Volume& v, int64_t z);
// How a network with `channels` inputs reads a stack: a grey network reads colour images as their
// luminance, a colour network reads grey images as three equal channels.
ReadOptions image_read_options(int64_t channels);

// Reads both stacks and maps the labels; throws InputError naming the folder and the section when
// counts, sizes or values do not fit.
// image_dtype, when given, receives the images' voxel type (recorded in model.json).
std::vector<Section> load_sections(const std::filesystem::path& images, const std::filesystem::path& labels,
                                   int64_t in_channels, const TargetMapping& mapping, DType* image_dtype = nullptr);
// The same from volumes in memory; the paths only name them in messages.
std::vector<Section> make_sections(const Volume& image, const Volume& label, const std::filesystem::path& images,
                                   const std::filesystem::path& labels, const TargetMapping& mapping);

// The validation split: "none"; "N" holds out the last N sections; "P%" the bottom P percent of
// the rows of every section (for data with one or few sections), "P%:top", "P%:left" or
// "P%:right" that side instead (pick the side whose structures the rest also shows); "auto" the
// last 10% of the sections (at least one) when there are 5 or more, else the bottom 20% of every
// section.
struct Split {
  std::vector<Section> train, validation;
  std::string description;  // "17 sections for training, 3 held out (sections 18-20)"
};
Split split_validation(std::vector<Section> sections, const std::string& spec);

// A square crop of `size` at (y, x) of a section: image (C, size, size), target (T, size, size).
void crop(const Section& s, int64_t y, int64_t x, int64_t size, float* image, uint8_t* target);

}  // namespace uniem::nn
