#include "io/stack.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>

#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/memory_budget.h"
#include "core/progress.h"
#include "core/threads.h"
#include "io/hdf5.h"
#include "io/natural_sort.h"
#include "io/png.h"
#include "io/volume_source.h"
#include "io/zarr.h"

namespace fs = std::filesystem;

namespace uniem {
namespace {

std::string lower_extension(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e;
}
bool is_png(const fs::path& p) { return lower_extension(p) == ".png"; }
bool is_tiff(const fs::path& p) { return lower_extension(p) == ".tif" || lower_extension(p) == ".tiff"; }

ImageHeader probe(const fs::path& p, ColorPolicy policy) {
  return is_png(p) ? probe_png(p, policy) : probe_tiff(p, policy);
}

std::string shape_text(const ImageHeader& h) {
  return std::to_string(h.width) + " x " + std::to_string(h.height) + " " + dtype_name(h.dtype);
}

// A whole stack of `sections` images like `h` against the memory budget, before it is allocated
// (each image was checked on its own by its probe).
void check_stack_budget(const fs::path& source, const ImageHeader& h, int64_t sections, const char* unit, const char* remedy) {
  const double bytes = static_cast<double>(h.width) * static_cast<double>(h.height) * static_cast<double>(sections) *
                       static_cast<double>(dtype_size(h.dtype) * h.channels);
  check_memory_budget(source,
                      "announces " + std::to_string(sections) + " " + unit + " of " + std::to_string(h.width) + " x " +
                          std::to_string(h.height) + " pixels",
                      bytes, h.channels == 1 ? dtype_name(h.dtype) : std::to_string(h.channels) + " x " + dtype_name(h.dtype),
                      remedy);
}

std::vector<fs::path> list_images(const fs::path& folder) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const fs::path& p = entry.path();
    if (p.filename().string().starts_with(".")) continue;
    if (entry.is_regular_file(ec) && (is_png(p) || is_tiff(p))) files.push_back(p);
  }
  if (ec) throw InputError(folder, "cannot be listed: " + ec.message());
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return natural_less(a.filename().string(), b.filename().string()); });
  return files;
}

// PNG stores no z spacing, so folder stacks carry their voxel size in a small JSON file.
constexpr const char* voxel_size_file = "voxel-size.json";

std::optional<VoxelSize> read_voxel_size_file(const fs::path& folder) {
  std::ifstream in(folder / voxel_size_file);
  if (!in) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(in);
    VoxelSize v{j.at("z").get<double>(), j.at("y").get<double>(), j.at("x").get<double>(), true};
    if (v.z > 0 && v.y > 0 && v.x > 0) return v;
  } catch (const nlohmann::json::exception&) {
  }
  throw InputError(folder / voxel_size_file, "is not a voxel size file ({\"z\": 30, \"y\": 6, \"x\": 6} in nm); fix or delete it");
}

// The images of a folder stack, in order, after checking every header: a wrong file is reported
// before anything is decoded. `formats` lists the files' formats.
std::vector<fs::path> checked_folder(const fs::path& folder, const ReadOptions& options, ImageHeader& header, std::string& formats) {
  auto files = list_images(folder);
  if (files.empty()) throw InputError(folder, "holds no PNG or TIFF images");
  std::vector<ImageHeader> headers(files.size());
  parallel_for(0, static_cast<int64_t>(files.size()), 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) headers[static_cast<size_t>(i)] = probe(files[static_cast<size_t>(i)], options.color);
  });
  const ImageHeader& first = headers.front();
  formats = first.format;
  for (size_t i = 0; i < files.size(); ++i) {
    const ImageHeader& h = headers[i];
    if (h.pages != 1)
      throw InputError(files[i], "has " + std::to_string(h.pages) +
                                     " pages; a folder stack takes one image per file (read the file on its own instead)");
    if (h.width != first.width || h.height != first.height || h.dtype != first.dtype)
      throw InputError(files[i], "is " + shape_text(h) + " but " + files[0].filename().string() + " is " +
                                     shape_text(first) + "; every image of a stack must have the same size and type");
    if (formats.find(h.format) == std::string::npos) formats += ", " + h.format;
  }
  header = first;
  return files;
}

Volume read_folder(const fs::path& folder, const ReadOptions& options, StackInfo* info) {
  ImageHeader first;
  std::string formats;
  const auto files = checked_folder(folder, options, first, formats);
  const size_t pngs = static_cast<size_t>(std::count_if(files.begin(), files.end(), is_png));
  check_stack_budget(folder, first, static_cast<int64_t>(files.size()), "sections", "split the stack into smaller parts");
  Volume v(first.dtype, static_cast<int64_t>(files.size()), first.height, first.width, first.channels);
  Progress progress("reading " + folder.filename().string(), static_cast<int64_t>(files.size()));
  std::vector<VoxelSize> sizes(files.size());
  parallel_for(0, static_cast<int64_t>(files.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t z = b; z < e; ++z) {
      const fs::path& f = files[static_cast<size_t>(z)];
      if (is_png(f)) sizes[static_cast<size_t>(z)] = read_png_into(f, options.color, v, z);
      else read_tiff_into(f, options.color, v, z);
      progress.advance();
    }
  });
  if (const auto stored = read_voxel_size_file(folder)) {
    v.voxel_size = *stored;
  } else if (is_png(files[0])) {
    // pHYs gives x and y only: the stack's voxel size stays unknown until z is given.
    v.voxel_size = sizes[0];
    if (v.voxel_size.known) v.voxel_size = {1, sizes[0].y, sizes[0].x, false};
  } else {
    v.voxel_size = first.voxel_size;
  }
  if (info) {
    info->kind = "folder of " + std::to_string(files.size()) + " " +
                 (pngs == files.size() ? "PNG" : pngs == 0 ? "TIFF" : "PNG and TIFF") + " files";
    info->format = formats;
  }
  return v;
}

Volume read_file(const fs::path& file, const ReadOptions& options, StackInfo* info) {
  if (!is_png(file) && !is_tiff(file))
    throw InputError(file, "is neither a PNG nor a TIFF file (by its extension); give a .png, .tif or .tiff file or a folder");
  const ImageHeader h = probe(file, options.color);
  if (h.pages > 1) check_stack_budget(file, h, h.pages, "pages", "split the file into smaller parts");
  Volume v(h.dtype, h.pages, h.height, h.width, h.channels);
  if (is_png(file)) {
    v.voxel_size = read_png_into(file, options.color, v, 0);
  } else {
    Progress progress("reading " + file.filename().string(), h.pages);
    read_tiff_into(file, options.color, v, 0, &progress);
    v.voxel_size = h.voxel_size;
  }
  if (info) {
    info->kind = h.pages > 1 ? "multi-page TIFF (" + std::to_string(h.pages) + " pages)" : "single image file";
    info->format = h.format;
  }
  return v;
}

}  // namespace

Volume read_volume(const fs::path& input, const ReadOptions& options, StackInfo* info) {
  Volume v;
  if (const auto source = open_volume_source(input)) {
    v = source->read(0, source->nz());
    if (info) *info = {source->describe(), std::string(dtype_name(source->dtype())) + " values"};
  } else {
    std::error_code ec;
    const auto status = fs::status(input, ec);
    if (!fs::exists(status)) throw InputError(input, "no such file or folder");
    v = fs::is_directory(status) ? read_folder(input, options, info) : read_file(input, options, info);
  }
  if (options.voxel_size) v.voxel_size = *options.voxel_size;
  return v;
}

struct StackReader::State {
  fs::path input;
  std::vector<fs::path> files;              // a folder stack, or one PNG / single-page TIFF
  std::unique_ptr<TiffPageReader> pages;    // a multi-page TIFF
  std::unique_ptr<VolumeSource> chunked;    // Zarr, N5, HDF5 (io/volume_source.h)
  ColorPolicy color;
};

StackReader::StackReader(const fs::path& input, const ReadOptions& options) : state_(std::make_unique<State>()) {
  state_->color = options.color;
  state_->input = input;
  if ((state_->chunked = open_volume_source(input))) {
    const VolumeSource& c = *state_->chunked;
    nz_ = c.nz(), ny_ = c.ny(), nx_ = c.nx(), dtype_ = c.dtype();
    voxel_size_ = options.voxel_size ? *options.voxel_size : c.voxel_size();
    return;
  }
  std::error_code ec;
  const auto status = fs::status(input, ec);
  if (!fs::exists(status)) throw InputError(input, "no such file or folder");
  ImageHeader h;
  if (fs::is_directory(status)) {
    std::string formats;
    state_->files = checked_folder(input, options, h, formats);
    nz_ = static_cast<int64_t>(state_->files.size());
  } else {
    if (!is_png(input) && !is_tiff(input))
      throw InputError(input, "is neither a PNG nor a TIFF file (by its extension); give a .png, .tif or .tiff file or a folder");
    h = probe(input, options.color);
    nz_ = h.pages;
    if (is_png(input)) state_->files = {input};
    else state_->pages = std::make_unique<TiffPageReader>(input, options.color, false);
  }
  ny_ = h.height, nx_ = h.width, channels_ = h.channels, dtype_ = h.dtype;
  // The voxel size as read_volume finds it: a folder's voxel-size.json, else the first PNG's pHYs
  // (x and y only; that file is decoded once more for it) or the TIFF's tags.
  const auto stored = fs::is_directory(status) ? read_voxel_size_file(input) : std::nullopt;
  if (options.voxel_size) {
    voxel_size_ = *options.voxel_size;
  } else if (stored) {
    voxel_size_ = *stored;
  } else if (!state_->files.empty() && is_png(state_->files[0])) {
    Volume first(dtype_, 1, ny_, nx_, channels_);
    voxel_size_ = read_png_into(state_->files[0], options.color, first, 0);
    if (voxel_size_.known && fs::is_directory(status)) voxel_size_ = {1, voxel_size_.y, voxel_size_.x, false};
  } else {
    voxel_size_ = h.voxel_size;
  }
}

StackReader::~StackReader() = default;

Volume StackReader::next(int64_t count) {
  const int64_t n = std::min(count, nz_ - read_);
  if (n <= 0) return Volume();
  if (state_->chunked) {
    Volume v = state_->chunked->read(read_, read_ + n);
    read_ += n;
    v.voxel_size = voxel_size_;
    return v;
  }
  Volume v(dtype_, n, ny_, nx_, channels_);
  if (state_->pages) {
    for (int64_t z = 0; z < n; ++z) state_->pages->read_next(v, z);
  } else {
    parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
      for (int64_t z = b; z < e; ++z) {
        const fs::path& f = state_->files[static_cast<size_t>(read_ + z)];
        if (is_png(f)) read_png_into(f, state_->color, v, z);
        else read_tiff_into(f, state_->color, v, z);
      }
    });
  }
  read_ += n;
  v.voxel_size = voxel_size_;
  return v;
}

void StackReader::seek(int64_t z) {
  UNIEM_CHECK(z >= 0 && z <= nz_, "StackReader::seek: section outside the stack");
  if (state_->pages) {
    if (z < read_) {
      state_->pages = std::make_unique<TiffPageReader>(state_->input, state_->color, false);
      read_ = 0;
    }
    for (; read_ < z; ++read_) state_->pages->skip_next();
  }
  read_ = z;
}

StackFormat format_for_output(const fs::path& output) {
  if (parse_hdf5_path(output)) return StackFormat::hdf5;
  if (lower_extension(output) == ".zarr") return StackFormat::ome_zarr;
  if (lower_extension(output) == ".precomputed") return StackFormat::precomputed;
  return is_tiff(output) ? StackFormat::multipage_tiff : StackFormat::png_folder;
}

std::optional<StackFormat> parse_stack_format(const std::string& name) {
  if (name == "png") return StackFormat::png_folder;
  if (name == "tiff-stack" || name == "tif-stack") return StackFormat::tiff_folder;
  if (name == "tiff" || name == "tif") return StackFormat::multipage_tiff;
  if (name == "zarr" || name == "ome-zarr") return StackFormat::ome_zarr;
  if (name == "zarr3") return StackFormat::ome_zarr3;
  if (name == "hdf5" || name == "h5") return StackFormat::hdf5;
  if (name == "precomputed" || name == "neuroglancer") return StackFormat::precomputed;
  return std::nullopt;
}

}  // namespace uniem
