#include "io/atomic_output.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include <cerrno>
#include <cstring>

#include <atomic>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "core/error.h"

namespace fs = std::filesystem;

namespace uniem {
namespace {
std::atomic<int> counter{0};

fs::path sibling(const fs::path& target, const char* tag) {
  return fs::path(target.string() + tag + std::to_string(getpid()) + "-" + std::to_string(counter++));
}

fs::path without_trailing_slash(fs::path p) {
  while (!p.has_filename() && p.has_parent_path() && p != p.parent_path()) p = p.parent_path();  // "out/" means "out"
  return p;
}

// The pid in "<target><tag><pid>-<n>", or nothing when `name` is not such a sibling of `target`.
std::optional<pid_t> sibling_pid(const std::string& name, const std::string& target, const std::string& tag) {
  const std::string prefix = target + tag;
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const std::string rest = name.substr(prefix.size());
  const auto dash = rest.find('-');
  if (dash == 0 || dash == std::string::npos || dash + 1 == rest.size()) return std::nullopt;
  for (size_t i = 0; i < rest.size(); ++i)
    if (i != dash && (rest[i] < '0' || rest[i] > '9')) return std::nullopt;
  if (dash > 9) return std::nullopt;  // no pid has ten digits
  const long pid = std::stol(rest.substr(0, dash));
  if (pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

bool process_is_gone(pid_t pid) { return pid != getpid() && ::kill(pid, 0) != 0 && errno == ESRCH; }

// Swaps two paths in one step; false where the system or file system cannot (then nothing moved).
bool exchange(const fs::path& a, const fs::path& b) {
#if defined(__linux__) && defined(SYS_renameat2)
  constexpr unsigned rename_exchange = 1u << 1;  // RENAME_EXCHANGE in <linux/fs.h>
  if (::syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), rename_exchange) == 0) return true;
  if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP || errno == EOPNOTSUPP || errno == EPERM) return false;
  throw InputError(b, std::string("cannot replace the existing output: ") + std::strerror(errno));
#else
  (void)a;
  (void)b;
  return false;
#endif
}

// Writes all of `content` to `fd`; errno is set when it returns false.
bool write_all(int fd, const std::string& content) {
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) {
      errno = EIO;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void clean_stale_siblings(const fs::path& path) {
  const fs::path target = without_trailing_slash(path);
  if (!target.has_filename()) return;
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string name = target.filename().string();
  std::vector<fs::path> stale_temporaries, stale_old;
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string entry = it->path().filename().string();
    if (const auto pid = sibling_pid(entry, name, ".tmp-"); pid && process_is_gone(*pid)) stale_temporaries.push_back(it->path());
    if (const auto pid = sibling_pid(entry, name, ".old-"); pid && process_is_gone(*pid)) stale_old.push_back(it->path());
  }
  if (!stale_old.empty() && !fs::exists(fs::symlink_status(target, ec))) {
    // Killed between moving the old output aside and renaming the new one in: the old one is the
    // only copy. The newest, should several processes have been killed so.
    size_t newest = 0;
    for (size_t i = 1; i < stale_old.size(); ++i)
      if (fs::last_write_time(stale_old[i], ec) > fs::last_write_time(stale_old[newest], ec)) newest = i;
    fs::rename(stale_old[newest], target, ec);
    if (!ec) stale_old.erase(stale_old.begin() + static_cast<std::ptrdiff_t>(newest));
  }
  for (const auto& list : {stale_temporaries, stale_old})
    for (const fs::path& p : list) fs::remove_all(p, ec);
}

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

AtomicOutput::AtomicOutput(fs::path target, Kind kind, bool overwrite, bool clean_stale)
    : target_(without_trailing_slash(std::move(target))), kind_(kind) {
  if (target_.empty()) throw InputError("an output path is empty");
  if (clean_stale) clean_stale_siblings(target_);
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
  const bool replacing = fs::exists(fs::symlink_status(target_, ec));
  if (kind_ == Kind::file || !replacing) {
    // rename(2) puts a file in place of another in one step: there is no moment without either.
    fs::rename(temporary_, target_, ec);
    if (ec) throw InputError(target_, "cannot rename the finished output into place: " + ec.message());
    committed_ = true;
    return;
  }
  if (exchange(temporary_, target_)) {  // the new folder at the target, the old one at temporary_
    committed_ = true;
    fs::remove_all(temporary_, ec);
    return;
  }
  const fs::path old = sibling(target_, ".old-");
  fs::rename(target_, old, ec);
  if (ec) throw InputError(target_, "cannot move the existing output aside: " + ec.message());
  fs::rename(temporary_, target_, ec);
  if (ec) {
    std::error_code ignored;
    fs::rename(old, target_, ignored);
    throw InputError(target_, "cannot rename the finished output into place: " + ec.message());
  }
  committed_ = true;
  fs::remove_all(old, ec);
}

namespace {
// Creates `path` with `content`; the reason it failed (disk full...), or "" when it did not.
std::string write_new_file(const fs::path& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return std::strerror(errno);
  const bool written = write_all(fd, content);
  const int write_error = errno;
  const bool closed = ::close(fd) == 0;  // NFS and full disks may report only here
  if (!written) return std::strerror(write_error);
  if (!closed) return std::strerror(errno);
  return "";
}
}  // namespace

void write_file(const fs::path& path, const std::string& content) {
  const std::string error = write_new_file(path, content);
  if (!error.empty()) throw InputError(path, "could not be written (disk full or no permission?): " + error);
}

void write_file_atomically(const fs::path& path, const std::string& content, bool overwrite, bool clean_stale) {
  AtomicOutput out(path, AtomicOutput::Kind::file, overwrite, clean_stale);
  const std::string error = write_new_file(out.temporary(), content);
  if (!error.empty()) throw InputError(path, "could not be written (disk full or no permission?): " + error);
  out.commit();
}

void write_file_durably(const fs::path& path, const std::string& content) {
  const fs::path temporary = sibling(path, ".tmp-");
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(temporary, std::string("cannot be created: ") + std::strerror(errno));
  if (!write_all(fd, content)) {
    const int err = errno;
    ::close(fd);
    ::unlink(temporary.c_str());
    throw InputError(path, std::string("could not be written: ") + std::strerror(err));
  }
  const bool synced = ::fsync(fd) == 0;
  const int sync_error = errno;
  const bool closed = ::close(fd) == 0;  // closed whether or not the sync worked
  if (!synced || !closed) {
    const int err = synced ? errno : sync_error;
    ::unlink(temporary.c_str());
    throw InputError(path, std::string("could not be flushed to disk: ") + std::strerror(err));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temporary.c_str());
    throw InputError(path, std::string("could not be renamed into place: ") + std::strerror(err));
  }
  sync_folder(path.has_parent_path() ? path.parent_path() : fs::path("."));
}

namespace {
// fsync (the folder) or syncfs (everything on its file system) through a descriptor of `folder`.
void sync_through(const fs::path& folder, int (*sync)(int)) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw InputError(folder, std::string("cannot be opened: ") + std::strerror(errno));
  const int rc = sync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw InputError(folder, std::string("could not be flushed to disk: ") + std::strerror(err));
}
}  // namespace

void sync_folder(const fs::path& folder) { sync_through(folder, ::fsync); }

void sync_all_written(const fs::path& folder) { sync_through(folder, ::syncfs); }

}  // namespace uniem
