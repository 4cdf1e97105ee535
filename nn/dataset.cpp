#include "nn/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>

#include "core/error.h"

namespace uniem::nn {
namespace {

double full_scale(DType t) {
  switch (t) {
    case DType::u8: return 255.0;
    case DType::u16: return 65535.0;
    case DType::u32: return 4294967295.0;
    case DType::u64: return 18446744073709551615.0;
    case DType::f32: break;
  }
  return 1.0;
}

std::string section_name(const std::filesystem::path& stack, int64_t z, int64_t count) {
  return count == 1 ? stack.string() : stack.string() + " (section " + std::to_string(z + 1) + " of " + std::to_string(count) + ")";
}

std::string value_list(const std::map<double, int64_t>& values) {
  std::ostringstream s;
  int shown = 0;
  for (const auto& [v, n] : values) {
    if (shown++ == 8) {
      s << ", ...";
      break;
    }
    s << (shown > 1 ? ", " : "") << v;
  }
  return s.str();
}

// The label value that maps to 1 when the mapping is binary/channels without a threshold.
double automatic_threshold(const std::filesystem::path& labels, const Volume& v, const TargetMapping& m) {
  std::map<double, int64_t> values;
  for (int64_t i = 0; i < v.elements() && values.size() <= 64; ++i) {
    const double x = v.value(i);
    if (m.ignore_value < 0 || x != static_cast<double>(m.ignore_value)) ++values[x];
  }
  if (m.kind == "channels") return 1e-12;  // nonzero
  if (values.size() > 2)
    throw InputError(labels, "the labels have " + std::string(values.size() > 64 ? "more than 64" : std::to_string(values.size())) +
                                 " different values (" + value_list(values) +
                                 "); a binary target needs two (background and foreground). Pass --label-threshold V "
                                 "to make values >= V foreground, or --classes K --loss softmax for classes 0..K-1");
  if (values.size() == 2) return std::prev(values.end())->first;
  return values.empty() || values.begin()->first == 0 ? 1e300 : values.begin()->first;  // one value: all background or all foreground
}

}  // namespace

nlohmann::json TargetMapping::to_json() const {
  return {{"kind", kind}, {"classes", classes}, {"threshold", threshold}, {"ignore_value", ignore_value}};
}

TargetMapping TargetMapping::from_json(const nlohmann::json& j) {
  TargetMapping m;
  m.kind = j.at("kind").get<std::string>();
  m.classes = j.at("classes").get<int64_t>();
  m.threshold = j.at("threshold").get<double>();
  m.ignore_value = j.at("ignore_value").get<int64_t>();
  return m;
}

namespace {
// Rows [row0, row0 + rows) x columns [col0, col0 + cols) of each of `planes` planes of `width`
// columns and `height` rows.
template <typename T>
std::vector<T> crop_planes(const std::vector<T>& from, int64_t planes, int64_t height, int64_t width, int64_t row0,
                           int64_t rows, int64_t col0, int64_t cols) {
  std::vector<T> out;
  out.reserve(static_cast<size_t>(planes * rows * cols));
  for (int64_t c = 0; c < planes; ++c)
    for (int64_t r = row0; r < row0 + rows; ++r) {
      const auto start = from.begin() + (c * height + r) * width + col0;
      out.insert(out.end(), start, start + cols);
    }
  return out;
}
}  // namespace

Section Section::region(int64_t row0, int64_t rows, int64_t col0, int64_t cols, const std::string& suffix) const {
  Section s;
  s.name = name + suffix;
  s.channels = channels;
  s.height = rows;
  s.width = cols;
  s.target_channels = target_channels;
  s.image = crop_planes(image, channels, height, width, row0, rows, col0, cols);
  s.target = crop_planes(target, target_channels, height, width, row0, rows, col0, cols);
  return s;
}

std::vector<float> image_section(const Volume& v, int64_t z) {
  const int64_t c = v.channels(), hw = v.ny() * v.nx();
  const double scale = 1.0 / full_scale(v.dtype());
  std::vector<float> out(static_cast<size_t>(c * hw));
  const int64_t base = z * v.slice_elements();
  for (int64_t i = 0; i < hw; ++i)
    for (int64_t k = 0; k < c; ++k) out[static_cast<size_t>(k * hw + i)] = static_cast<float>(v.value(base + i * c + k) * scale);
  return out;
}

ReadOptions image_read_options(int64_t channels) {
  ReadOptions read;
  read.color = channels == 3 ? ColorPolicy::channels : ColorPolicy::grey;
  return read;
}

std::vector<Section> load_sections(const std::filesystem::path& images, const std::filesystem::path& labels,
                                   int64_t in_channels, const TargetMapping& m, DType* image_dtype) {
  const Volume image = read_volume(images, image_read_options(in_channels));
  if (image_dtype) *image_dtype = image.dtype();
  ReadOptions label_read;
  label_read.color = m.kind == "channels" ? ColorPolicy::channels : ColorPolicy::grey;
  return make_sections(image, read_volume(labels, label_read), images, labels, m);
}

std::vector<Section> make_sections(const Volume& image, const Volume& label, const std::filesystem::path& images,
                                   const std::filesystem::path& labels, const TargetMapping& m) {
  if (label.nz() != image.nz())
    throw InputError(labels, std::to_string(label.nz()) + " label sections for " + std::to_string(image.nz()) +
                                 " image sections in " + images.string() + "; every image needs its label image");
  if (label.ny() != image.ny() || label.nx() != image.nx())
    throw InputError(labels, "labels are " + std::to_string(label.nx()) + " x " + std::to_string(label.ny()) +
                                 " pixels but the images in " + images.string() + " are " + std::to_string(image.nx()) +
                                 " x " + std::to_string(image.ny()));
  if (label.dtype() == DType::f32) throw InputError(labels, "labels must be integer images, not float");
  const int64_t t_channels = m.target_channels();
  if (m.kind == "channels" && label.channels() != m.classes)
    throw InputError(labels, "a multi-label target with " + std::to_string(m.classes) + " channels needs label images with " +
                                 std::to_string(m.classes) + " channels (one mask each), these have " +
                                 std::to_string(label.channels()));
  const double threshold = m.kind == "classes" ? 0 : m.threshold >= 0 ? m.threshold : automatic_threshold(labels, label, m);

  std::vector<Section> out;
  const int64_t hw = image.ny() * image.nx();
  for (int64_t z = 0; z < image.nz(); ++z) {
    Section s;
    s.name = section_name(images, z, image.nz());
    s.channels = image.channels();
    s.height = image.ny();
    s.width = image.nx();
    s.image = image_section(image, z);
    s.target_channels = t_channels;
    s.target.resize(static_cast<size_t>(t_channels * hw));
    const int64_t base = z * label.slice_elements(), lc = label.channels();
    for (int64_t i = 0; i < hw; ++i)
      for (int64_t c = 0; c < t_channels; ++c) {
        const double v = label.value(base + i * lc + c);
        uint8_t t;
        if (m.ignore_value >= 0 && v == static_cast<double>(m.ignore_value)) {
          t = ignored;
        } else if (m.kind == "classes") {
          if (v < 0 || v >= static_cast<double>(m.classes))
            throw InputError(section_name(labels, z, image.nz()),
                             "label value " + std::to_string(static_cast<int64_t>(v)) + " at x " + std::to_string(i % image.nx()) +
                                 ", y " + std::to_string(i / image.nx()) + " is not a class 0.." + std::to_string(m.classes - 1) +
                                 "; map the labels to 0..K-1 (uniem convert), raise --classes, or pass --ignore-label " +
                                 std::to_string(static_cast<int64_t>(v)));
          t = static_cast<uint8_t>(v);
        } else {
          t = v >= threshold ? 1 : 0;
        }
        s.target[static_cast<size_t>(c * hw + i)] = t;
      }
    out.push_back(std::move(s));
  }
  return out;
}

Split split_validation(std::vector<Section> sections, const std::string& spec) {
  Split split;
  const int64_t n = static_cast<int64_t>(sections.size());
  int64_t hold_sections = 0;
  double hold_fraction = 0;
  std::string side = "bottom";
  if (spec == "auto") {
    if (n >= 5) hold_sections = std::max<int64_t>(1, n / 10);
    else hold_fraction = 0.2;
  } else if (spec != "none") {
    try {
      size_t used = 0;
      const double v = std::stod(spec, &used);
      const std::string rest = spec.substr(used);
      if (rest.empty() && v >= 1 && v == std::floor(v)) {
        hold_sections = static_cast<int64_t>(v);
      } else if (v > 0 && v < 100 && (rest == "%" || rest == "%:top" || rest == "%:bottom" || rest == "%:left" || rest == "%:right")) {
        hold_fraction = v / 100;
        if (rest != "%") side = rest.substr(2);
      } else {
        throw std::invalid_argument(spec);
      }
    } catch (const std::logic_error&) {
      throw UsageError("--validation takes auto, none, a number of sections (3) or a percentage of rows (20%) or of one side "
                       "(20%:top, 20%:bottom, 20%:left, 20%:right), got '" + spec + "'");
    }
    if (hold_sections >= n)
      throw UsageError("--validation " + spec + " holds out every one of the " + std::to_string(n) +
                       " sections; hold out fewer or use a percentage of rows (20%)");
  }
  if (hold_sections > 0) {
    split.validation.assign(std::make_move_iterator(sections.end() - hold_sections), std::make_move_iterator(sections.end()));
    sections.resize(static_cast<size_t>(n - hold_sections));
    split.train = std::move(sections);
    split.description = std::to_string(n - hold_sections) + " sections for training, the last " +
                        std::to_string(hold_sections) + " held out for validation";
  } else if (hold_fraction > 0) {
    const bool columns = side == "left" || side == "right", first = side == "top" || side == "left";
    for (const Section& s : sections) {
      const int64_t extent = columns ? s.width : s.height;
      const int64_t held = std::max<int64_t>(1, std::min<int64_t>(extent - 1, std::lround(static_cast<double>(extent) * hold_fraction)));
      const int64_t kept = extent - held, held_start = first ? 0 : kept, kept_start = first ? held : 0;
      const std::string held_part = side + " " + std::to_string(held) + (columns ? " columns" : " rows");
      const std::string kept_name = " (without the " + held_part + ")", held_name = " (" + held_part + ")";
      auto part = [&](int64_t start, int64_t count, const std::string& part_name) {
        return columns ? s.region(0, s.height, start, count, part_name) : s.region(start, count, 0, s.width, part_name);
      };
      split.train.push_back(part(kept_start, kept, kept_name));
      split.validation.push_back(part(held_start, held, held_name));
    }
    split.description = std::to_string(n) + " section(s), the " + side + " " + std::to_string(std::lround(hold_fraction * 100)) +
                        "% of each held out for validation";
  } else {
    split.train = std::move(sections);
    split.description = std::to_string(n) + " section(s) for training, no validation";
  }
  return split;
}

void crop(const Section& s, int64_t y, int64_t x, int64_t size, float* image, uint8_t* target) {
  for (int64_t c = 0; c < s.channels; ++c)
    for (int64_t r = 0; r < size; ++r)
      std::memcpy(image + (c * size + r) * size, s.image.data() + (c * s.height + y + r) * s.width + x,
                  static_cast<size_t>(size) * sizeof(float));
  for (int64_t c = 0; c < s.target_channels; ++c)
    for (int64_t r = 0; r < size; ++r)
      std::memcpy(target + (c * size + r) * size, s.target.data() + (c * s.height + y + r) * s.width + x, static_cast<size_t>(size));
}

}  // namespace uniem::nn
