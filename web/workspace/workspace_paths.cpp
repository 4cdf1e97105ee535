#include "web/workspace/workspace_paths.h"

#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <fstream>

#include <nlohmann/json.hpp>

#include "io/atomic_output.h"
#include "io/hdf5.h"
#include "web/request_error.h"

namespace fs = std::filesystem;

namespace uniem::web {
namespace {

// True when `path` is `root` or lies below it (both canonical).
bool below(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p)
    if (p == path.end() || *p != *r) return false;
  return true;
}

// A part of the path named with a leading dot, except the metadata files of a Zarr version 2
// array or group (.zarray, .zattrs, .zgroup, .zmetadata), which viewers must read.
bool hidden_part(const fs::path& path, const fs::path& root) {
  const fs::path rest = path.lexically_relative(root);
  const fs::path last = rest.empty() ? fs::path() : *std::prev(rest.end());
  return std::any_of(rest.begin(), rest.end(), [&](const fs::path& part) {
    const std::string s = part.string();
    const bool zarr_metadata = s == ".zarray" || s == ".zattrs" || s == ".zgroup" || s == ".zmetadata";
    return s.size() > 1 && s[0] == '.' && s != ".." && !(zarr_metadata && part == last);
  });
}

fs::path canonical_or_normal(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? p.lexically_normal() : c;
}

}  // namespace

WorkspacePaths::WorkspacePaths(fs::path workspace)
    : workspace_(canonical_or_normal(workspace)), file_(workspace_ / ".uniem" / "folders.json") {
  std::ifstream in(file_);
  if (!in) return;
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_object() && j.contains("folders") && j["folders"].is_array())
    for (const auto& f : j["folders"])
      if (f.is_string()) added_.push_back(canonical_or_normal(f.get<std::string>()));
}

bool WorkspacePaths::hidden_below(const fs::path& path, const fs::path& root) { return below(path, root) && hidden_part(path, root); }

bool WorkspacePaths::allowed(const fs::path& c) const {
  if (below(c, workspace_)) return !hidden_part(c, workspace_);
  for (const auto& root : added_)
    if (below(c, root)) return !hidden_part(c, root);
  return false;
}

fs::path WorkspacePaths::resolve(const std::string& text) const {
  if (text.empty()) throw RequestError(400, "no path given");
  if (text.find('\0') != std::string::npos) throw RequestError(400, "the path holds a NUL character");
  // A dataset in an HDF5 file ("cremi.h5:volumes/raw"): the file is what must lie inside.
  if (const auto h5 = parse_hdf5_path(text); h5 && !h5->dataset.empty())
    return fs::path(resolve(h5->file.string()).string() + ":" + h5->dataset);
  const fs::path p = fs::path(text).is_absolute() ? fs::path(text) : workspace_ / text;
  // Normalised first, so that a made-up folder and '..' cannot hide a link; a path that cannot be
  // resolved is refused as one outside, the same answer.
  std::error_code ec;
  const fs::path c = fs::weakly_canonical(p.lexically_normal(), ec);
  std::lock_guard<std::mutex> lock(mutex_);
  if (ec || !allowed(c))
    throw RequestError(403, "'" + text + "' is outside the workspace and the folders added to it (add its folder on the Data page)");
  return c;
}

std::string WorkspacePaths::shown(const fs::path& path) const {
  if (below(path, workspace_)) {
    const fs::path rest = path.lexically_relative(workspace_);
    return rest.empty() ? "." : rest.string();
  }
  return path.string();
}

std::vector<fs::path> WorkspacePaths::added() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return added_;
}

void WorkspacePaths::add(const std::string& text) {
  if (text.empty()) throw RequestError(400, "give the folder's full path, e.g. /data/em/2026-11-30");
  if (!fs::path(text).is_absolute()) throw RequestError(400, "'" + text + "' is not a full path: start it with /");
  std::error_code ec;
  const fs::path c = fs::canonical(text, ec);
  if (ec || !fs::is_directory(c)) throw RequestError(400, "'" + text + "' is not a folder on this computer");
  if (::access(c.c_str(), R_OK | X_OK) != 0) throw RequestError(400, "'" + text + "' cannot be read (its permissions)");
  for (const char* system : {"/proc", "/sys", "/dev", "/etc", "/boot", "/run"})
    if (c == "/" || below(c, system)) throw RequestError(400, "'" + text + "' is a system folder; add the folder that holds your data");
  std::lock_guard<std::mutex> lock(mutex_);
  if (below(c, workspace_)) throw RequestError(400, "'" + text + "' is in the workspace already");
  for (const auto& root : added_)
    if (below(c, root)) throw RequestError(400, "'" + text + "' is in " + root.string() + ", which was added already");
  if (below(workspace_, c)) throw RequestError(400, "'" + text + "' holds the workspace; add the folder beside it that holds your data");
  std::vector<fs::path> next = added_;
  next.push_back(c);
  save(next);  // on disk first: a failed write changes nothing
  added_ = std::move(next);
}

void WorkspacePaths::remove(const std::string& text) {
  std::lock_guard<std::mutex> lock(mutex_);
  const fs::path c = canonical_or_normal(text);
  const auto it = std::find(added_.begin(), added_.end(), c);
  if (it == added_.end()) throw RequestError(404, "'" + text + "' is not an added folder");
  std::vector<fs::path> next = added_;
  next.erase(next.begin() + (it - added_.begin()));
  save(next);
  added_ = std::move(next);
}

void WorkspacePaths::save(const std::vector<fs::path>& folders) const {
  nlohmann::json j = {{"folders", nlohmann::json::array()}};
  for (const auto& f : folders) j["folders"].push_back(f.string());
  try {
    write_file_atomically(file_, j.dump(2) + "\n", true);
  } catch (const std::exception& e) {
    throw RequestError(507, std::string("the folder list was not saved, nothing changed: ") + e.what());
  }
}

}  // namespace uniem::web
