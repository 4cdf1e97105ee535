// Outputs that appear whole or not at all.
//
// An AtomicOutput is made before the work starts, so that a refused output (it exists and is not
// an empty folder, and --overwrite was not given) costs nothing. The work writes to temporary(), a
// sibling named "<target>.tmp-<pid>-<n>"; commit() renames it onto the target. If the work fails,
// the destructor removes the temporary. Replacing an existing output (--overwrite), one of the two
// always exists, whenever the process is killed:
//   - a file is renamed over the old one (rename(2) replaces it in one step);
//   - a folder is swapped with the old one in one step (renameat2 RENAME_EXCHANGE, Linux 3.15+),
//     and the old one, now under the temporary's name, deleted. Where the file system cannot swap,
//     the old folder is moved aside to "<target>.old-<pid>-<n>", the new one renamed in, and only
//     then the old one deleted.
// Killed writes leave their temporaries behind. Making an AtomicOutput cleans up after them: the
// siblings "<target>.tmp-<pid>-<n>" and "<target>.old-<pid>-<n>" of processes that no longer run
// (kill(pid, 0) gives ESRCH) are deleted, except that when the target is missing, the newest
// ".old-" of a dead process is renamed back to the target first: it is the only copy of the old
// output, left by a process killed between its two renames. Writers of many files into one folder
// (a mesh per label, the chunks of a store) pass clean_stale = false: listing the folder for each
// file would take quadratic time, and such a folder is itself a temporary or cleaned as a whole.
#pragma once

#include <filesystem>
#include <string>

namespace uniem {

class AtomicOutput {
 public:
  enum class Kind { file, folder };
  // Throws InputError if the target may not be written.
  AtomicOutput(std::filesystem::path target, Kind kind, bool overwrite, bool clean_stale = true);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  // The refusal the constructor would make, without creating (or cleaning up) anything.
  static void check(const std::filesystem::path& target, Kind kind, bool overwrite);

  const std::filesystem::path& temporary() const { return temporary_; }
  const std::filesystem::path& target() const { return target_; }
  void commit();

 private:
  std::filesystem::path target_, temporary_;
  Kind kind_;
  bool committed_ = false;
};

// What the constructor does first: restores the target from the ".old-" sibling of a dead process
// when the target is missing, then deletes the ".tmp-" and ".old-" siblings of dead processes.
void clean_stale_siblings(const std::filesystem::path& target);

// Writes `content` to `path` (a new file, typically inside an AtomicOutput's temporary folder),
// checking every write and the close; throws InputError naming the file (disk full...).
void write_file(const std::filesystem::path& path, const std::string& content);

// Writes `content` to `path` under a temporary name, then renames it into place.
void write_file_atomically(const std::filesystem::path& path, const std::string& content, bool overwrite,
                           bool clean_stale = true);

// The same, replacing any existing file, and durable: the data is on disk (fsync) before the
// rename, and the rename is on disk (fsync of the folder) before it returns. For files whose
// loss after a power cut or a killed process would lose user work (the proofreader's store,
// training checkpoints).
void write_file_durably(const std::filesystem::path& path, const std::string& content);
// fsync of a folder, so that renames and new files in it survive a crash.
void sync_folder(const std::filesystem::path& folder);
// Everything written to the file system that holds `folder` is on disk (syncfs): one call for a
// folder of many files written without syncs, before it is committed.
void sync_all_written(const std::filesystem::path& folder);

}  // namespace uniem
