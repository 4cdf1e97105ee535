// The proofreader's journal: every accepted operation, appended and on disk before it is
// acknowledged, so that no acknowledged edit is ever lost, whatever kills the server.
//
// A record is a sparse diff: for each touched chunk the box of voxels that changed, their values
// before and after, plus key/value changes (segment names, locks, markers), the user, the kind
// (edit, undo or redo of an earlier record) and a short summary of the request. On disk:
//   "UNIEMJ01", then per record: payload length (uint32 LE), CRC-32 of the payload (uint32 LE),
//   payload = zlib( uint32 header length | header JSON | before and after voxels of each box,
//   uint32 LE, in header order ).
// Appends are followed by fdatasync. A failed write, sync or folder sync is never retried on the
// same file and assumed good: the journal takes back what it can of the record (truncates) and
// then refuses every further append (failed() says why) until it is opened again, by a restart,
// which reads what really is on disk. Opening reads every record; a last record that is cut short or
// fails its checksum (a write torn by a crash, never acknowledged) is dropped, the file truncated
// to the last whole record and a note returned. A bad record followed by more data is corruption,
// not a torn write, and is refused (the file is named; nothing is changed).
// Not thread-safe: the proofreading session serialises all calls.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace uniem::web {

struct VoxelDiff {
  std::array<int64_t, 3> origin{}, size{};  // the box, in volume voxels (z, y, x), inside one chunk
  std::vector<uint32_t> before, after;      // size[0] * size[1] * size[2] each, x fastest
};

struct ValueDiff {
  std::string key;                       // "name/12", "lock/12", "marker/345"
  nlohmann::json before, after;          // null: absent
};

struct Record {
  int64_t seq = 0;                       // 1, 2, 3 ... = the project version after this record
  std::string kind = "edit";             // "edit", "undo" or "redo"
  int64_t target = 0;                    // undo/redo: the seq of the edit
  std::string user;
  double time = 0;                       // seconds since the epoch
  nlohmann::json op;                     // what was asked, for the history and the events
  std::vector<VoxelDiff> voxels;
  std::vector<ValueDiff> values;
};

// Serialised payloads, so that the session can keep records compact in memory and decode only
// the one an undo needs.
std::string pack(const Record& r);
Record unpack(const std::string& packed, const std::string& where);

class Journal {
 public:
  // Opens or creates `file`; returns the packed payloads of its records in order in `records`.
  // `note` says what recovery did ("" when nothing). Throws InputError on corruption. Read-only:
  // a torn tail is skipped but left in the file, and append/rewrite are not allowed.
  Journal(std::filesystem::path file, std::vector<std::string>& records, std::string& note, bool read_only = false);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends one packed record and waits until it is on disk. Throws InputError on I/O failure
  // (the record is then not acknowledged; the file is truncated back where that still works) and
  // from then on refuses every append.
  void append(const std::string& packed);
  // Replaces the journal with `records` (compaction), durably: written aside, synced, renamed,
  // the folder synced. A failure before the rename leaves the old journal in use (InputError);
  // one after it (the new file may not survive a crash) makes the journal refuse appends.
  void rewrite(const std::vector<std::string>& records);
  uint64_t bytes() const { return size_; }
  // Why appends are refused ("" while they are not).
  const std::string& failed() const { return failed_; }

 private:
  void open_for_append();
  [[noreturn]] void fail(const std::string& what);
  std::filesystem::path file_;
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string failed_;
};

}  // namespace uniem::web
