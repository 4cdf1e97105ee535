#include "io/atomic_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <atomic>
#include <fstream>
#include <string>
#include <system_error>

#include "core/error.h"

namespace fs = std::filesystem;

namespace uniem {
namespace {
std::atomic<int> counter{0};

fs::path sibling(const fs::path& target, const char* tag) {
  return fs::path(target.string() + tag + std::to_string(getpid()) + "-" + std::to_string(counter++));
}
}  // namespace

namespace {
fs::path without_trailing_slash(fs::path p) {
  while (!p.has_filename() && p.has_parent_path() && p != p.parent_path()) p = p.parent_path();  // "out/" means "out"
  return p;
}
}  // namespace

void AtomicOutput::check(const fs::path& path, Kind kind, bool overwrite) {
  if (path.empty()) throw InputError("an output path is empty");
  const fs::path target = without_trailing_slash(path);
  std::error_code ec;
  const auto status = fs::status(target, ec);
  if (fs::exists(status)) {
    const bool empty_folder = fs::is_directory(status) && fs::is_empty(target, ec);
    if (kind == Kind::file && fs::is_directory(status))
      throw InputError(target, "is a folder; give a file name for this output");
    if (kind == Kind::folder && !fs::is_directory(status))
      throw InputError(target, "exists and is a file; give a folder name for this output");
    if (!empty_folder && !overwrite) throw InputError(target, "already exists; choose another name or pass --overwrite");
  }
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) throw InputError(parent, "no such folder to write the output into");
}

AtomicOutput::AtomicOutput(fs::path target, Kind kind, bool overwrite)
    : target_(without_trailing_slash(std::move(target))), kind_(kind) {
  check(target_, kind_, overwrite);
  temporary_ = sibling(target_, ".tmp-");
  if (kind_ == Kind::folder) {
    std::error_code ec;
    fs::create_directory(temporary_, ec);
    if (ec) throw InputError(temporary_, "cannot create a folder here: " + ec.message());
  }
}

AtomicOutput::~AtomicOutput() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(temporary_, ec);
}

void AtomicOutput::commit() {
  std::error_code ec;
  fs::path old;
  if (fs::exists(target_, ec)) {
    old = sibling(target_, ".old-");
    fs::rename(target_, old, ec);
    if (ec) throw InputError(target_, "cannot move the existing output aside: " + ec.message());
  }
  fs::rename(temporary_, target_, ec);
  if (ec) {
    if (!old.empty()) fs::rename(old, target_, ec);
    throw InputError(target_, "cannot rename the finished output into place: " + ec.message());
  }
  committed_ = true;
  if (!old.empty()) fs::remove_all(old, ec);
}

void write_file_atomically(const fs::path& path, const std::string& content, bool overwrite) {
  AtomicOutput out(path, AtomicOutput::Kind::file, overwrite);
  {
    std::ofstream file(out.temporary(), std::ios::binary);
    file << content;
    file.close();
    if (!file) throw InputError(path, "could not be written (disk full or no permission?)");
  }
  out.commit();
}

void write_file_durably(const fs::path& path, const std::string& content) {
  const fs::path temporary = sibling(path, ".tmp-");
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(temporary, std::string("cannot be created: ") + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      throw InputError(path, std::string("could not be written: ") + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temporary.c_str());
    throw InputError(path, std::string("could not be flushed to disk: ") + std::strerror(errno));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temporary.c_str());
    throw InputError(path, std::string("could not be renamed into place: ") + std::strerror(err));
  }
  sync_folder(path.has_parent_path() ? path.parent_path() : fs::path("."));
}

void sync_folder(const fs::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw InputError(folder, std::string("cannot be opened: ") + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw InputError(folder, std::string("could not be flushed to disk: ") + std::strerror(errno));
}

}  // namespace uniem
