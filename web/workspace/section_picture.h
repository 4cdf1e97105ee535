// One section of an image stack as a PNG for the screen (the workbench's thumbnails and stack
// viewer), read alone (io/stack.h StackReader::seek), never the whole stack.
//   images: grey (colour kept for RGB stacks), the window low..high stretched to black..white;
//           without one, the type's range for 8 bits, else the section's 0.5 and 99.5 percentiles;
//           shrunk by averaging.
//   labels: one colour per id, from the id alone (the same in every section and every stack,
//           0 black); shrunk by taking every n-th voxel, so no colour is made up.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/image/volume.h"

namespace uniem::web {

struct SectionView {
  int64_t z = 0;
  int64_t size = 0;  // at most this many pixels on the longer side; 0: full size
  std::optional<double> low, high;
  bool labels = false;
};

// RequestError 404 when z is outside the stack; the reader's InputError when it cannot be read.
std::string section_png(const std::filesystem::path& stack, const SectionView& view);
// The same for section 0 of `section` (any type; view.z unused): what a filter preview shows.
std::string picture_png(const Volume& section, const SectionView& view);

// The colour of label `id` (0: black) as 0xRRGGBB.
uint32_t label_colour(uint64_t id);

}  // namespace uniem::web
