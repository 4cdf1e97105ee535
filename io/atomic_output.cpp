#include "io/atomic_output.h"

#include <unistd.h>

#include <atomic>
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

AtomicOutput::AtomicOutput(fs::path target, Kind kind, bool overwrite) : target_(std::move(target)), kind_(kind) {
  if (target_.empty()) throw InputError("an output path is empty");
  while (target_.has_filename() == false && target_.has_parent_path() && target_ != target_.parent_path())
    target_ = target_.parent_path();  // "out/" means "out"
  std::error_code ec;
  const auto status = fs::status(target_, ec);
  if (fs::exists(status)) {
    const bool empty_folder = fs::is_directory(status) && fs::is_empty(target_, ec);
    if (kind_ == Kind::file && fs::is_directory(status))
      throw InputError(target_, "is a folder; give a file name for this output");
    if (kind_ == Kind::folder && !fs::is_directory(status))
      throw InputError(target_, "exists and is a file; give a folder name for this output");
    if (!empty_folder && !overwrite) throw InputError(target_, "already exists; choose another name or pass --overwrite");
  }
  const fs::path parent = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) throw InputError(parent, "no such folder to write the output into");
  temporary_ = sibling(target_, ".tmp-");
  if (kind_ == Kind::folder) {
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

}  // namespace uniem
