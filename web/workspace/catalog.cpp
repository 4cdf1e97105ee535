#include "web/workspace/catalog.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <regex>

#include "core/error.h"
#include "core/utc_time.h"
#include "io/hdf5.h"
#include "io/precomputed.h"
#include "io/stack.h"
#include "io/zarr.h"
#include "web/http.h"
#include "web/project_shelf.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::web {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
bool is_png(const fs::path& p) { return lower(p.extension().string()) == ".png"; }
bool is_tiff(const fs::path& p) {
  const std::string e = lower(p.extension().string());
  return e == ".tif" || e == ".tiff";
}
bool skipped(const std::string& name) { return name.empty() || name[0] == '.' || name.find(".tmp-") != std::string::npos; }

// Bytes on disk of a file, or of everything below a folder.
uint64_t size_on_disk(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_directory(p, ec)) {
    const uint64_t size = fs::file_size(p, ec);
    return ec ? 0 : size;
  }
  uint64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code file_ec;
    if (it->is_regular_file(file_ec)) {
      const uint64_t size = it->file_size(file_ec);
      if (!file_ec) total += size;
    }
  }
  return total;
}

json read_json(const fs::path& file) {  // null when missing or not JSON
  std::ifstream in(file);
  json j = in ? json::parse(in, nullptr, false) : json();
  return j.is_discarded() ? json() : j;
}

// The name says it is a segmentation: label(s), seg(mentation), mask, (ground) truth, gt.
bool named_like_labels(const std::string& name) {
  static const std::regex words(R"((^|[^a-z])(labels?|seg\w*|masks?|\w*truth|gt)([^a-z]|$))");
  return std::regex_search(lower(name), words);
}

}  // namespace

int64_t last_logged_step(const fs::path& log) {
  std::ifstream in(log, std::ios::binary | std::ios::ate);
  if (!in) return 0;
  const std::streamoff size = in.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - 4096);
  std::string tail(static_cast<size_t>(size - from), '\0');
  in.seekg(from);
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  int64_t step = 0;
  size_t start = 0;
  while (start < tail.size()) {
    size_t end = tail.find('\n', start);
    if (end == std::string::npos) break;  // a line still being written
    const json line = json::parse(tail.substr(start, end - start), nullptr, false);
    if (line.is_object() && line.contains("step") && line["step"].is_number_integer()) step = std::max(step, line["step"].get<int64_t>());
    start = end + 1;
  }
  return step;
}

struct DataCatalog::Walk {
  json items = json::array(), problems = json::array();
};

void DataCatalog::add_stack(Walk& walk, const fs::path& input) {
  std::error_code ec;
  const auto hdf5 = parse_hdf5_path(input);  // a dataset in an HDF5 file: the file is on disk
  const fs::path on_disk = file_on_disk(input);
  const auto modified = fs::last_write_time(on_disk, ec);
  const std::string key = input.string();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = probed_.find(key);
    if (it != probed_.end() && it->second.modified == modified) {
      if (it->second.item.is_null()) walk.problems.push_back({{"path", paths_.shown(input)}, {"message", it->second.problem}});
      else walk.items.push_back(it->second.item);
      return;
    }
  }
  Probed p{modified, json(), ""};
  try {
    const StackReader stack(input);
    const std::string shown = paths_.shown(input);
    const std::string name = hdf5 ? hdf5->file.filename().string() + ":" + hdf5->dataset : input.filename().string();
    const std::string kind_name = hdf5 ? hdf5->dataset : name;  // what says labels or images
    const bool labels = stack.channels() == 1 && stack.dtype() != DType::f32 &&
                        (stack.dtype() != DType::u8 ? !std::regex_search(lower(kind_name), std::regex("image|raw|em")) : named_like_labels(kind_name));
    size_t pngs = 0, files = 0;
    if (fs::is_directory(input)) {
      for (const auto& e : fs::directory_iterator(input, ec))
        if (e.is_regular_file(ec) && !skipped(e.path().filename().string()) && (is_png(e.path()) || is_tiff(e.path())))
          ++files, pngs += is_png(e.path());
    }
    const std::string format = hdf5 ? "HDF5 dataset" : is_precomputed(input) ? "Neuroglancer precomputed" : is_zarr(input) ? "OME-Zarr" : files ? "folder of " + std::to_string(files) + (pngs == files ? " PNG" : pngs ? " PNG and TIFF" : " TIFF") + " files"
                                     : stack.nz() > 1 ? "multi-page TIFF" : "image file";
    const VoxelSize& v = stack.voxel_size();
    const std::string url = "api/data/section?path=" + url_component(shown) + "&v=" +
                            std::to_string(static_cast<uint64_t>(modified.time_since_epoch().count()) % 1000000007);
    p.item = {{"path", shown}, {"name", shown == "." ? paths_.workspace().filename().string() : name},
              {"kind", labels ? "labels" : "images"}, {"shape", {stack.nz(), stack.ny(), stack.nx()}},
              {"channels", stack.channels()}, {"dtype", dtype_name(stack.dtype())},
              {"voxel_size", {{"z", v.z}, {"y", v.y}, {"x", v.x}, {"known", v.known}}},
              {"format", format}, {"bytes", size_on_disk(on_disk)}, {"modified", utc_time(modified)},
              {"sections_url", url + (labels ? "&as=labels" : "")},
              {"thumbnail", url + "&z=" + std::to_string(stack.nz() / 2) + "&size=192" + (labels ? "&as=labels" : "")}};
  } catch (const std::exception& e) {
    p.problem = e.what();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (p.item.is_null()) walk.problems.push_back({{"path", paths_.shown(input)}, {"message", p.problem}});
  else walk.items.push_back(p.item);
  probed_[key] = std::move(p);
}

void DataCatalog::visit(Walk& walk, const fs::path& folder, int depth) {
  std::error_code ec;
  const std::string shown = paths_.shown(folder);
  auto item = [&](const char* kind, json details) {
    json i = {{"path", shown}, {"name", folder.filename().string()}, {"kind", kind}, {"bytes", size_on_disk(folder)},
              {"modified", utc_time(fs::last_write_time(folder, ec))}, {"details", std::move(details)}};
    if (fs::exists(folder / "training-log.jsonl")) i["details"]["steps"] = last_logged_step(folder / "training-log.jsonl");
    return i;
  };
  if (folder != paths_.workspace() && ((is_zarr(folder) && !is_n5_container(folder)) || is_precomputed(folder))) {  // a volume, its chunks no folders of their own
    add_stack(walk, folder);
    return;
  }
  if (fs::exists(folder / "project.json")) {
    json p = item("project", read_json(folder / "project.json"));
    const fs::path relative = folder.lexically_relative(paths_.workspace());
    if (!relative.empty() && *relative.begin() != ".." && !project_id(relative).empty())
      p["open"] = "projects/" + project_id(relative) + "/";  // served by web/project_shelf.h
    walk.items.push_back(std::move(p));
    return;
  }
  if (fs::exists(folder / "model.json")) {
    const json model = read_json(folder / "model.json");
    const std::string format = model.is_object() ? model.value("format", "") : "";
    // the formats of nn/model_folder.h and nn/ffn/model_folder.h
    const char* kind = format == "uniem-model-2d" ? "model2d" : format == "uniem-model-ffn" ? "ffn_model" : nullptr;
    if (kind) {
      walk.items.push_back(item(kind, {{"network", model.value("network", json::object())}}));
      return;
    }
  }
  if (fs::exists(folder / "measurements.csv")) {
    std::ifstream in(folder / "measurements.csv");
    int64_t lines = -1;  // the header
    for (std::string line; std::getline(in, line);) lines += !line.empty();
    walk.items.push_back(item("meshes", {{"objects", std::max<int64_t>(0, lines)}}));
    return;
  }
  if (fs::exists(folder / "run.json")) {
    const json record = read_json(folder / "run.json");
    json details = json::object();
    if (record.is_object()) {
      for (const char* key : {"exit_status", "started", "ended", "seconds"})
        if (record.contains(key)) details[key] = record[key];
      json commands = json::array();
      for (const auto& s : record.value("steps", json::array()))
        if (s.is_object() && s.contains("command")) commands.push_back(s["command"]);
      details["commands"] = commands;
    }
    walk.items.push_back(item("run", details));
  }
  std::vector<fs::path> folders, tiffs, hdf5;
  bool images = false;
  for (const auto& e : fs::directory_iterator(folder, fs::directory_options::skip_permission_denied, ec)) {
    const std::string name = e.path().filename().string();
    if (skipped(name)) continue;
    if (e.is_directory(ec)) folders.push_back(e.path());
    else if (e.is_regular_file(ec) && parse_hdf5_path(e.path())) hdf5.push_back(e.path());
    else if (e.is_regular_file(ec) && (is_png(e.path()) || is_tiff(e.path()))) {
      images = true;
      if (is_tiff(e.path())) tiffs.push_back(e.path());
    }
  }
  std::sort(tiffs.begin(), tiffs.end());
  if (images && folder != paths_.workspace()) {
    // A folder of sections, unless it holds multi-page TIFF files (each a stack of its own).
    bool multipage = false;
    for (const auto& t : tiffs) {
      try {
        multipage |= StackReader(t).nz() > 1;
      } catch (const std::exception&) {
      }
    }
    if (!multipage) add_stack(walk, folder);
    else for (const auto& t : tiffs) add_stack(walk, t);
  } else {
    for (const auto& t : tiffs) add_stack(walk, t);  // loose files beside other data: TIFF stacks only
  }
  // Each volume of an HDF5 file is a stack of its own ("cremi.h5:volumes/raw").
  std::sort(hdf5.begin(), hdf5.end());
  for (const auto& file : hdf5) {
    try {
      for (const std::string& dataset : hdf5_volumes(file)) add_stack(walk, file.string() + ":" + dataset);
    } catch (const std::exception& e) {
      walk.problems.push_back({{"path", paths_.shown(file)}, {"message", e.what()}});
    }
  }
  if (depth >= max_depth_) return;
  std::sort(folders.begin(), folders.end());
  for (const auto& f : folders) {
    try {
      visit(walk, f, depth + 1);
    } catch (const std::exception& e) {  // a folder that cannot be read is named, the rest listed
      walk.problems.push_back({{"path", paths_.shown(f)}, {"message", e.what()}});
    }
  }
}

json DataCatalog::list() {
  Walk walk;
  visit(walk, paths_.workspace(), 0);
  for (const auto& root : paths_.added()) visit(walk, root, 0);
  return {{"items", std::move(walk.items)}, {"problems", std::move(walk.problems)}};
}

json DataCatalog::training_runs() {
  json runs = json::array();
  const auto now = fs::file_time_type::clock::now();
  std::vector<fs::path> roots = paths_.added();
  roots.insert(roots.begin(), paths_.workspace());
  for (const auto& root : roots) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      std::error_code entry_ec;
      if (it->is_directory(entry_ec)) {
        if (skipped(name) || it.depth() >= max_depth_) it.disable_recursion_pending();
        continue;
      }
      if (name != "training-log.jsonl") continue;
      const fs::path folder = it->path().parent_path();
      const json model = read_json(folder / "model.json");
      const auto modified = it->last_write_time(entry_ec);
      size_t samples = 0;
      for (const auto& s : fs::directory_iterator(folder / "samples", entry_ec)) samples += is_png(s.path());
      runs.push_back({{"path", paths_.shown(folder)}, {"name", folder.filename().string()},
                      {"kind", model.is_object() && model.value("format", "") == "uniem-model-ffn" ? "ffn" : "train2d"},
                      {"steps", last_logged_step(it->path())}, {"modified", utc_time(modified)},
                      {"live", now - modified < std::chrono::minutes(1)}, {"samples", samples}});
    }
  }
  std::sort(runs.begin(), runs.end(), [](const json& a, const json& b) { return a["modified"] > b["modified"]; });
  return {{"runs", runs}};
}

}  // namespace uniem::web
