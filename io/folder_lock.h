// An exclusive lock on a folder for one process's use (flock on a lock file in it), held for the
// object's life and let go by the kernel when the process ends, however it ends: one proofreading
// server per project, one workbench per workspace.
#pragma once

#include <filesystem>
#include <string>

namespace uniem {

class FolderLock {
 public:
  // Throws InputError: naming the file when it cannot be made, `taken` when another process holds it.
  FolderLock(const std::filesystem::path& file, const std::string& taken);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace uniem
