// Which paths the workbench's pages may read: the workspace and the folders added to it, nothing
// else. A path from a request is resolved (relative ones from the workspace, symbolic links
// followed) and refused with 403 when it leads outside them, or into a hidden file or folder (the
// workspace's .uniem holds the page's secret; a Zarr array's .zarray, .zattrs, .zgroup and
// .zmetadata are not hidden), with the same message whether it exists or not.
// Added folders are kept in WORKSPACE/.uniem/folders.json; only this computer may add them.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace uniem::web {

class WorkspacePaths {
 public:
  explicit WorkspacePaths(std::filesystem::path workspace);

  // The file or folder `text` names (RequestError 400 when empty, 403 when outside).
  std::filesystem::path resolve(const std::string& text) const;
  // How a path is shown to the page and named in job forms: relative to the workspace when in it
  // ("." for the workspace itself), else absolute.
  std::string shown(const std::filesystem::path& path) const;

  const std::filesystem::path& workspace() const { return workspace_; }
  std::vector<std::filesystem::path> added() const;
  // RequestError 400 naming what is wrong: not a folder, unreadable, a system folder, already in.
  void add(const std::string& text);
  void remove(const std::string& text);  // 404 when it was not added

 private:
  bool allowed(const std::filesystem::path& canonical) const;  // under the lock
 public:
  // True when `path` lies below `root` and passes through a hidden file or folder there (.uniem).
  static bool hidden_below(const std::filesystem::path& path, const std::filesystem::path& root);

 private:
  void save(const std::vector<std::filesystem::path>& folders) const;
  std::filesystem::path workspace_, file_;
  mutable std::mutex mutex_;
  std::vector<std::filesystem::path> added_;  // canonical
};

}  // namespace uniem::web
