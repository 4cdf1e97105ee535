// Outputs that appear whole or not at all.
//
// An AtomicOutput is made before the work starts, so that a refused output (it exists and is not
// an empty folder, and --overwrite was not given) costs nothing. The work writes to temporary(), a
// sibling named "<target>.tmp-<pid>-<n>"; commit() renames it onto the target. If the work fails,
// the destructor removes the temporary. With overwrite, an existing target is moved aside, the new
// one renamed in, and only then is the old one deleted, so a crash never leaves neither.
#pragma once

#include <filesystem>
#include <string>

namespace uniem {

class AtomicOutput {
 public:
  enum class Kind { file, folder };
  // Throws InputError if the target may not be written.
  AtomicOutput(std::filesystem::path target, Kind kind, bool overwrite);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  // The refusal the constructor would make, without creating anything.
  static void check(const std::filesystem::path& target, Kind kind, bool overwrite);

  const std::filesystem::path& temporary() const { return temporary_; }
  const std::filesystem::path& target() const { return target_; }
  void commit();

 private:
  std::filesystem::path target_, temporary_;
  Kind kind_;
  bool committed_ = false;
};

// Writes `content` to `path` under a temporary name, then renames it into place.
void write_file_atomically(const std::filesystem::path& path, const std::string& content, bool overwrite);

// The same, replacing any existing file, and durable: the data is on disk (fsync) before the
// rename, and the rename is on disk (fsync of the folder) before it returns. For files whose
// loss after a power cut or a killed process would lose user work (the proofreader's store).
void write_file_durably(const std::filesystem::path& path, const std::string& content);
// fsync of a folder, so that renames and new files in it survive a crash.
void sync_folder(const std::filesystem::path& folder);

}  // namespace uniem
