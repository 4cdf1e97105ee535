#include "web/proofreading/journal.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "io/atomic_output.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::web {
namespace {

constexpr char magic[8] = {'U', 'N', 'I', 'E', 'M', 'J', '0', '1'};

void put_u32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
uint32_t crc_of(const std::string& s) {
  return static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

void write_all(int fd, const std::string& data, const fs::path& file) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw InputError(file, std::string("could not be written: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
}

std::string frame(const std::string& packed) {
  std::string f;
  f.reserve(packed.size() + 8);
  put_u32(f, static_cast<uint32_t>(packed.size()));
  put_u32(f, crc_of(packed));
  return f + packed;
}

}  // namespace

std::string pack(const Record& r) {
  json h{{"seq", r.seq}, {"kind", r.kind}, {"target", r.target}, {"user", r.user}, {"time", r.time}, {"op", r.op}};
  json boxes = json::array();
  for (const auto& d : r.voxels) boxes.push_back({d.origin, d.size});
  h["voxels"] = boxes;
  json values = json::array();
  for (const auto& v : r.values) values.push_back({v.key, v.before, v.after});
  h["values"] = values;
  const std::string header = h.dump();
  std::string raw;
  put_u32(raw, static_cast<uint32_t>(header.size()));
  raw += header;
  for (const auto& d : r.voxels) {
    raw.append(reinterpret_cast<const char*>(d.before.data()), d.before.size() * 4);
    raw.append(reinterpret_cast<const char*>(d.after.data()), d.after.size() * 4);
  }
  uLongf bound = compressBound(static_cast<uLong>(raw.size()));
  std::string out(8 + bound, '\0');
  const uint64_t n = raw.size();
  std::memcpy(out.data(), &n, 8);
  const int rc = compress2(reinterpret_cast<Bytef*>(out.data() + 8), &bound, reinterpret_cast<const Bytef*>(raw.data()),
                           static_cast<uLong>(raw.size()), 1);
  UNIEM_CHECK(rc == Z_OK, "journal: compress2 failed");
  out.resize(8 + bound);
  return out;
}

Record unpack(const std::string& packed, const std::string& where) {
  if (packed.size() < 8) throw InputError(where + ": a journal record is too short");
  uint64_t n = 0;
  std::memcpy(&n, packed.data(), 8);
  if (n > (uint64_t{1} << 34)) throw InputError(where + ": a journal record claims an impossible size");
  std::string raw(n, '\0');
  uLongf size = static_cast<uLongf>(n);
  if (uncompress(reinterpret_cast<Bytef*>(raw.data()), &size, reinterpret_cast<const Bytef*>(packed.data() + 8),
                 static_cast<uLong>(packed.size() - 8)) != Z_OK ||
      size != n || n < 4)
    throw InputError(where + ": a journal record does not unpack");
  const uint32_t hn = get_u32(raw.data());
  if (4 + static_cast<uint64_t>(hn) > n) throw InputError(where + ": a journal record header is cut short");
  Record r;
  try {
    const json h = json::parse(raw.substr(4, hn));
    r.seq = h.at("seq").get<int64_t>();
    r.kind = h.at("kind").get<std::string>();
    r.target = h.at("target").get<int64_t>();
    r.user = h.at("user").get<std::string>();
    r.time = h.at("time").get<double>();
    r.op = h.at("op");
    size_t at = 4 + hn;
    for (const auto& b : h.at("voxels")) {
      VoxelDiff d;
      d.origin = b.at(0).get<std::array<int64_t, 3>>();
      d.size = b.at(1).get<std::array<int64_t, 3>>();
      const size_t count = static_cast<size_t>(d.size[0] * d.size[1] * d.size[2]);
      if (at + 8 * count > raw.size()) throw InputError(where + ": a journal record's voxels are cut short");
      d.before.resize(count);
      d.after.resize(count);
      std::memcpy(d.before.data(), raw.data() + at, 4 * count);
      std::memcpy(d.after.data(), raw.data() + at + 4 * count, 4 * count);
      at += 8 * count;
      r.voxels.push_back(std::move(d));
    }
    for (const auto& v : h.at("values")) r.values.push_back({v.at(0).get<std::string>(), v.at(1), v.at(2)});
  } catch (const json::exception& e) {
    throw InputError(where + ": a journal record header is malformed (" + e.what() + ")");
  }
  return r;
}

Journal::Journal(fs::path file, std::vector<std::string>& records, std::string& note, bool read_only)
    : file_(std::move(file)) {
  records.clear();
  note.clear();
  if (fs::exists(file_)) {
    std::ifstream in(file_, std::ios::binary);
    if (!in) throw InputError(file_, "cannot be opened");
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < sizeof magic || std::memcmp(bytes.data(), magic, sizeof magic) != 0) {
      if (bytes.size() >= sizeof magic) throw InputError(file_, "is not a uniem journal");
      note = "the journal was cut short before its first record; it was started again";
      size_ = 0;
      if (read_only) return;
    } else {
      size_t at = sizeof magic;
      while (at < bytes.size()) {
        const size_t left = bytes.size() - at;
        bool whole = left >= 8;
        uint32_t length = 0;
        if (whole) {
          length = get_u32(bytes.data() + at);
          whole = left - 8 >= length;
        }
        if (whole) {
          const std::string payload = bytes.substr(at + 8, length);
          if (crc_of(payload) == get_u32(bytes.data() + at + 4)) {
            records.push_back(payload);
            at += 8 + length;
            continue;
          }
          if (at + 8 + length < bytes.size())
            throw InputError(file_, "record " + std::to_string(records.size() + 1) + " at byte " + std::to_string(at) +
                                        " fails its checksum and more records follow: the file is damaged. Move it aside "
                                        "to open the project without the edits after the last flush");
        }
        note = "dropped a torn last journal record (" + std::to_string(left) + " bytes at byte " + std::to_string(at) +
               ", never acknowledged)";
        break;
      }
      size_ = at;
      if (read_only) return;
      if (at < bytes.size() && ::truncate(file_.c_str(), static_cast<off_t>(at)) != 0)
        throw InputError(file_, std::string("cannot be truncated after a torn record: ") + std::strerror(errno));
    }
  }
  if (!read_only) open_for_append();
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::open_for_append() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(file_, std::string("cannot be opened for writing: ") + std::strerror(errno));
  if (size_ == 0) {
    if (::ftruncate(fd_, 0) != 0) throw InputError(file_, std::string("cannot be reset: ") + std::strerror(errno));
    write_all(fd_, std::string(magic, sizeof magic), file_);
    if (::fdatasync(fd_) != 0) throw InputError(file_, std::string("cannot be synced: ") + std::strerror(errno));
    sync_folder(file_.has_parent_path() ? file_.parent_path() : fs::path("."));
    size_ = sizeof magic;
  }
  if (::lseek(fd_, static_cast<off_t>(size_), SEEK_SET) < 0)
    throw InputError(file_, std::string("cannot be positioned: ") + std::strerror(errno));
}

void Journal::fail(const std::string& what) {
  failed_ = what;
  throw InputError(file_, what);
}

void Journal::append(const std::string& packed) {
  UNIEM_CHECK(fd_ >= 0 || !failed_.empty(), "Journal::append on a read-only journal");
  if (!failed_.empty()) throw InputError(file_, failed_);
  const std::string f = frame(packed);
  std::string error;
  try {
    write_all(fd_, f, file_);
    if (::fdatasync(fd_) != 0) error = std::string("could not be synced to disk: ") + std::strerror(errno);
  } catch (const InputError& e) {
    error = e.what();
  }
  if (error.empty()) {
    size_ += f.size();
    return;
  }
  // Take back what can be taken back of a record that is not acknowledged; a restart drops a torn
  // tail. The descriptor is not trusted again: after a failed sync the kernel may have dropped
  // pages that a later sync would report as written.
  const bool taken_back = ::ftruncate(fd_, static_cast<off_t>(size_)) == 0 && ::fdatasync(fd_) == 0;
  ::close(fd_);
  fd_ = -1;
  fail(error + (taken_back ? "; the edit was not saved" : "; the edit may or may not have been saved (it shows after a restart if it was)") +
       ", and edits are refused until uniem serve is started again");
}

void Journal::rewrite(const std::vector<std::string>& records) {
  if (!failed_.empty()) throw InputError(file_, failed_);
  UNIEM_CHECK(fd_ >= 0, "Journal::rewrite on a read-only journal");
  std::string content(magic, sizeof magic);
  for (const auto& r : records) content += frame(r);
  const fs::path aside(file_.string() + ".compact");
  try {
    write_file_durably(aside, content);
  } catch (const InputError&) {
    std::error_code ec;
    fs::remove(aside, ec);
    throw;  // the old journal is untouched and still in use
  }
  if (::rename(aside.c_str(), file_.c_str()) != 0) {
    const int err = errno;
    std::error_code ec;
    fs::remove(aside, ec);
    throw InputError(file_, std::string("could not be replaced by its compacted copy: ") + std::strerror(err));
  }
  // From here the old descriptor writes to an unlinked file: appends must go to the new one, and
  // only once the rename is known to be on disk.
  ::close(fd_);
  fd_ = -1;
  try {
    sync_folder(file_.has_parent_path() ? file_.parent_path() : fs::path("."));
    size_ = content.size();
    open_for_append();
  } catch (const InputError& e) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    fail(std::string("compaction failed after the rename (") + e.what() + "); edits are refused until uniem serve is started again");
  }
}

}  // namespace uniem::web
