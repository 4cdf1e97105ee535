#include "web/session.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/image/gaussian.h"
#include "core/image/watershed.h"
#include "core/threads.h"
#include "io/atomic_output.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::web {
namespace {

constexpr size_t events_kept = 4096;

// The box [z0, y0, x0, z1, y1, x1) around a record's changed voxels; z1 < z0 when there are none.
std::array<int64_t, 6> box_of(const std::vector<VoxelDiff>& voxels) {
  std::array<int64_t, 6> box{INT64_MAX, INT64_MAX, INT64_MAX, -1, -1, -1};
  for (const auto& d : voxels)
    for (int a = 0; a < 3; ++a) {
      box[a] = std::min(box[a], d.origin[a]);
      box[3 + a] = std::max(box[3 + a], d.origin[a] + d.size[a]);
    }
  return box;
}

bool boxes_meet(const std::array<int64_t, 6>& a, const std::array<int64_t, 6>& b) {
  for (int k = 0; k < 3; ++k)
    if (a[k] >= b[3 + k] || b[k] >= a[3 + k]) return false;
  return true;
}

[[noreturn]] void bad(const std::string& message) { throw RequestError(400, message); }

const json& field(const json& r, const char* key) {
  if (!r.contains(key)) bad(std::string("the request has no '") + key + "'");
  return r.at(key);
}

int64_t integer(const json& r, const char* key, int64_t lo, int64_t hi) {
  const json& v = field(r, key);
  if (!v.is_number_integer()) bad(std::string("'") + key + "' must be a whole number");
  const int64_t n = v.get<int64_t>();
  if (n < lo || n > hi)
    bad(std::string("'") + key + "' is " + std::to_string(n) + "; it must lie in " + std::to_string(lo) + ".." + std::to_string(hi));
  return n;
}

double number(const json& r, const char* key, double lo, double hi) {
  const json& v = field(r, key);
  if (!v.is_number()) bad(std::string("'") + key + "' must be a number");
  const double n = v.get<double>();
  if (!std::isfinite(n) || n < lo || n > hi)
    bad(std::string("'") + key + "' must lie in " + std::to_string(lo) + ".." + std::to_string(hi));
  return n;
}

std::string text(const json& r, const char* key, size_t max_length) {
  const json& v = field(r, key);
  if (!v.is_string()) bad(std::string("'") + key + "' must be a string");
  std::string s = v.get<std::string>();
  if (s.size() > max_length) bad(std::string("'") + key + "' is longer than " + std::to_string(max_length) + " characters");
  return s;
}

std::string valid_user(const json& r) {
  if (!r.contains("user")) return "anonymous";
  std::string u = text(r, "user", 64);
  if (u.empty()) bad("'user' is empty");
  for (char c : u)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '@' || c == ' '))
      bad("'user' may hold letters, digits, space and - _ . @ only");
  return u;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string Session::id_key(const char* what, uint32_t id) { return std::string(what) + "/" + std::to_string(id); }

// The voxel writes of one operation: touched chunks are copied on first write, and the box of
// changes in each is tracked, so that the journal record holds only that box.
class Session::Change {
 public:
  explicit Change(const Session& s) : s_(s), chunk_(s.project_.info().label_chunk) {}

  uint32_t get(int64_t z, int64_t y, int64_t x) {
    const int64_t i = index(z, y, x);
    const auto it = edits_.find(i);
    const Volume& v = it != edits_.end() ? it->second.after : s_.chunk(i);
    return v.at<uint32_t>(z % chunk_[0], y % chunk_[1], x % chunk_[2]);
  }

  void set(int64_t z, int64_t y, int64_t x, uint32_t value) {
    const int64_t i = index(z, y, x);
    auto it = edits_.find(i);
    if (it == edits_.end()) {
      const Volume& c = s_.chunk(i);
      if (c.at<uint32_t>(z % chunk_[0], y % chunk_[1], x % chunk_[2]) == value) return;
      it = edits_.emplace(i, Edit{c, {c.nz(), c.ny(), c.nx()}, {0, 0, 0}}).first;
    }
    Edit& e = it->second;
    const std::array<int64_t, 3> p{z % chunk_[0], y % chunk_[1], x % chunk_[2]};
    e.after.at<uint32_t>(p[0], p[1], p[2]) = value;
    for (int a = 0; a < 3; ++a) {
      e.lo[a] = std::min(e.lo[a], p[a]);
      e.hi[a] = std::max(e.hi[a], p[a] + 1);
    }
  }

  std::vector<VoxelDiff> diffs() const {
    std::vector<VoxelDiff> out;
    const ChunkStore& store = s_.project_.labels();
    for (const auto& [i, e] : edits_) {
      if (e.hi[0] <= e.lo[0]) continue;
      const auto o = store.origin(i);
      const Volume& before = s_.chunk(i);
      VoxelDiff d;
      d.origin = {o[0] + e.lo[0], o[1] + e.lo[1], o[2] + e.lo[2]};
      d.size = {e.hi[0] - e.lo[0], e.hi[1] - e.lo[1], e.hi[2] - e.lo[2]};
      bool any = false;
      for (int64_t z = e.lo[0]; z < e.hi[0]; ++z)
        for (int64_t y = e.lo[1]; y < e.hi[1]; ++y)
          for (int64_t x = e.lo[2]; x < e.hi[2]; ++x) {
            const uint32_t b = before.at<uint32_t>(z, y, x), a = e.after.at<uint32_t>(z, y, x);
            d.before.push_back(b);
            d.after.push_back(a);
            any |= a != b;
          }
      if (any) out.push_back(std::move(d));
    }
    return out;
  }

 private:
  struct Edit {
    Volume after;
    std::array<int64_t, 3> lo, hi;
  };
  int64_t index(int64_t z, int64_t y, int64_t x) const {
    return s_.project_.labels().index_of(z / chunk_[0], y / chunk_[1], x / chunk_[2]);
  }
  const Session& s_;
  std::array<int64_t, 3> chunk_;
  std::map<int64_t, Edit> edits_;
};

Session::FileLock::FileLock(const fs::path& project, bool take) {
  if (!take) return;
  const fs::path file = project / "lock";
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(file, std::string("cannot be opened: ") + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    throw InputError(project, "is open in another uniem serve; stop that one first (one server per project)");
  }
}

Session::FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {
// Temporaries of writes into the project (state.json, the journal's compaction, label chunks)
// that a killed server left. Only called while holding the project's lock: no other process
// writes there then, so every one of them is stale.
void remove_stale_temporaries(const fs::path& project) {
  for (const fs::path& folder : {project, project / "labels"}) {
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.find(".tmp-") != std::string::npos || name == "journal.bin.compact") fs::remove_all(it->path(), ec);
    }
  }
}
}  // namespace

Session::Session(const fs::path& folder, SessionOptions options)
    : project_(folder), options_(options), lock_(folder, !options.read_only) {
  if (!options_.read_only) remove_stale_temporaries(folder);

  const fs::path state_file = folder / "state.json";
  try {
    std::ifstream in(state_file);
    if (!in) throw InputError(state_file, "is missing; the project is incomplete");
    const json state = json::parse(in);
    applied_ = state.at("applied_seq").get<int64_t>();
    next_id_ = state.at("next_id").get<uint32_t>();
    const int64_t chunks = project_.labels().chunk_count();
    for (const auto& s : state.at("segments")) {
      Segment seg;
      seg.voxels = s.at(1).get<int64_t>();
      if (s.size() > 3) seg.changed = s.at(3).get<int64_t>();  // the version that last changed it
      for (const auto& c : s.at(2)) {
        const int64_t i = c.get<int64_t>();
        if (i < 0 || i >= chunks) throw InputError(state_file, "names a chunk outside the volume");
        seg.chunks.insert(i);
      }
      segments_[s.at(0).get<uint32_t>()] = std::move(seg);
    }
    values_ = state.at("values");
  } catch (const json::exception& e) {
    throw InputError(state_file, std::string("is damaged: ") + e.what());
  }
  chunks_.resize(static_cast<size_t>(project_.labels().chunk_count()));
  last_used_.resize(chunks_.size());

  const fs::path journal_file = folder / "journal.bin";
  journal_ = std::make_unique<Journal>(journal_file, packed_, recovery_note_, options_.read_only);
  int64_t last = 0, replayed = 0;
  for (const auto& p : packed_) {
    const Record r = unpack(p, journal_file.string());
    if (r.seq <= last) throw InputError(journal_file, "has records out of order (seq " + std::to_string(r.seq) + ")");
    if (r.seq > applied_) {
      if (r.seq != std::max(last, applied_) + 1)
        throw InputError(journal_file, "misses the records between seq " + std::to_string(std::max(last, applied_)) +
                                           " and " + std::to_string(r.seq) + " that the label chunks do not hold");
      replay(r);
      ++replayed;
    }
    last = r.seq;
    index_.push_back({r.seq, r.target, r.kind, r.user, box_of(r.voxels)});
    index_record(index_.back());
  }
  version_ = std::max(applied_, last);
  trim();
  if (replayed > 0) {
    const std::string note = "recovered " + std::to_string(replayed) + " edit(s) from the journal";
    recovery_note_ = recovery_note_.empty() ? note : note + "; " + recovery_note_;
  }
  if (options_.flush_seconds > 0 && !options_.read_only) flusher_ = std::thread([this] { flusher(); });
}

Session::~Session() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  changed_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (options_.read_only) return;
  try {
    flush();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "uniem serve: the last flush failed (%s); the journal still holds every edit\n", e.what());
  }
}

Volume& Session::chunk(int64_t index) const {
  auto& c = chunks_[static_cast<size_t>(index)];
  if (!c) {
    c = std::make_unique<Volume>(project_.labels().read(index));
    cached_bytes_ += static_cast<int64_t>(c->bytes());
  }
  last_used_[static_cast<size_t>(index)] = ++use_clock_;
  return *c;
}

void Session::load(const std::vector<int64_t>& indices) const {
  std::vector<int64_t> missing;
  uint64_t drops = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int64_t i : indices)
      if (!chunks_[static_cast<size_t>(i)]) missing.push_back(i);
    drops = drops_;
  }
  if (missing.size() < 2) return;  // chunk() reads one as fast
  std::vector<std::unique_ptr<Volume>> read(missing.size());
  parallel_for(0, static_cast<int64_t>(missing.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k)
      read[static_cast<size_t>(k)] = std::make_unique<Volume>(project_.labels().read(missing[static_cast<size_t>(k)]));
  });
  std::lock_guard<std::mutex> lock(mutex_);
  // A chunk dropped meanwhile may have been changed and flushed after it was read here.
  if (drops_ != drops) return;
  for (size_t k = 0; k < missing.size(); ++k) {
    auto& c = chunks_[static_cast<size_t>(missing[k])];
    if (c) continue;  // read by an operation meanwhile, maybe changed since
    cached_bytes_ += static_cast<int64_t>(read[k]->bytes());
    c = std::move(read[k]);
  }
}

void Session::trim() const {
  if (cached_bytes_ <= options_.cache_bytes) return;
  std::vector<int64_t> unchanged;
  for (size_t i = 0; i < chunks_.size(); ++i)
    if (chunks_[i] && !dirty_.count(static_cast<int64_t>(i)) && !flushing_.count(static_cast<int64_t>(i)))
      unchanged.push_back(static_cast<int64_t>(i));
  std::sort(unchanged.begin(), unchanged.end(),
            [&](int64_t a, int64_t b) { return last_used_[static_cast<size_t>(a)] < last_used_[static_cast<size_t>(b)]; });
  // Down to three quarters, so that the scan is not repeated on every request.
  for (int64_t i : unchanged) {
    if (cached_bytes_ <= options_.cache_bytes / 4 * 3) break;
    cached_bytes_ -= static_cast<int64_t>(chunks_[static_cast<size_t>(i)]->bytes());
    chunks_[static_cast<size_t>(i)].reset();
  }
  ++drops_;
}

void Session::replay(const Record& r) {
  const ChunkStore& store = project_.labels();
  const auto cs = project_.info().label_chunk;
  for (const auto& d : r.voxels) {
    const int64_t i = store.index_of(d.origin[0] / cs[0], d.origin[1] / cs[1], d.origin[2] / cs[2]);
    Volume& c = chunk(i);
    const auto o = store.origin(i);
    size_t k = 0;
    for (int64_t z = 0; z < d.size[0]; ++z)
      for (int64_t y = 0; y < d.size[1]; ++y)
        for (int64_t x = 0; x < d.size[2]; ++x, ++k) {
          const uint32_t b = d.before[k], a = d.after[k];
          if (a == b) continue;
          c.at<uint32_t>(d.origin[0] - o[0] + z, d.origin[1] - o[1] + y, d.origin[2] - o[2] + x) = a;
          if (b) {
            Segment& s = segments_[b];
            --s.voxels;
            s.changed = r.seq;
          }
          if (a) {
            Segment& s = segments_[a];
            ++s.voxels;
            s.chunks.insert(i);
            s.changed = r.seq;
            next_id_ = std::max<uint32_t>(next_id_, a == UINT32_MAX ? a : a + 1);
          }
        }
    dirty_.insert(i);
  }
  for (auto it = segments_.begin(); it != segments_.end();)
    it = it->second.voxels <= 0 ? segments_.erase(it) : std::next(it);
  for (const auto& v : r.values) {
    if (v.after.is_null())
      values_.erase(v.key);
    else
      values_[v.key] = v.after;
  }
}

void Session::index_record(const RecordIndex& r) {
  auto erase = [](std::vector<int64_t>& stack, int64_t seq) {
    const auto it = std::find(stack.begin(), stack.end(), seq);
    if (it != stack.end()) stack.erase(it);
  };
  if (r.kind == "edit") {
    undo_[r.user].push_back(r.seq);
    redo_[r.user].clear();
  } else if (r.kind == "undo") {
    erase(undo_[r.user], r.target);
    redo_[r.user].push_back(r.target);
  } else if (r.kind == "redo") {
    erase(redo_[r.user], r.target);
    undo_[r.user].push_back(r.target);
  }
}

std::string Session::lock_owner(uint32_t id) const {
  const auto it = values_.find(id_key("lock", id));
  return it == values_.end() ? std::string() : it->get<std::string>();
}

void Session::check_segment(uint32_t id, const std::string& user, int64_t version) const {
  const auto it = segments_.find(id);
  if (it == segments_.end()) throw RequestError(404, "segment " + std::to_string(id) + " does not exist");
  if (it->second.changed > version)
    throw RequestError(409, "segment " + std::to_string(id) + " was changed (version " + std::to_string(it->second.changed) +
                                ") after the version your page shows (" + std::to_string(version) +
                                "); your view has been updated, please try again");
  const std::string owner = lock_owner(id);
  if (!owner.empty() && owner != user)
    throw RequestError(409, "segment " + std::to_string(id) + " is locked by " + owner);
}

std::array<int64_t, 6> Session::segment_box(uint32_t id) const {
  const ChunkStore& store = project_.labels();
  std::array<int64_t, 6> box{INT64_MAX, INT64_MAX, INT64_MAX, -1, -1, -1};
  for (int64_t i : segments_.at(id).chunks) {
    const Volume& c = chunk(i);
    const auto o = store.origin(i);
    const uint32_t* p = c.data<uint32_t>();
    for (int64_t z = 0, k = 0; z < c.nz(); ++z)
      for (int64_t y = 0; y < c.ny(); ++y)
        for (int64_t x = 0; x < c.nx(); ++x, ++k)
          if (p[k] == id) {
            const int64_t at[3] = {o[0] + z, o[1] + y, o[2] + x};
            for (int a = 0; a < 3; ++a) {
              box[a] = std::min(box[a], at[a]);
              box[3 + a] = std::max(box[3 + a], at[a] + 1);
            }
          }
  }
  return box;
}

json Session::commit(Change& change, const json& op, const std::string& user, const std::string& kind, int64_t target,
                     std::vector<ValueDiff> values, int64_t seen) {
  Record r;
  r.seq = version_ + 1;
  r.kind = kind;
  r.target = target;
  r.user = user;
  r.time = now_seconds();
  r.op = op;
  r.voxels = change.diffs();
  r.values = std::move(values);
  int64_t changed = 0;
  std::set<uint32_t> touched;
  const std::array<int64_t, 6> box = box_of(r.voxels);
  for (const auto& d : r.voxels)
    for (size_t k = 0; k < d.before.size(); ++k)
      if (d.before[k] != d.after[k]) {
        ++changed;
        if (d.before[k]) touched.insert(d.before[k]);
        if (d.after[k]) touched.insert(d.after[k]);
      }
  if (changed == 0 && r.values.empty()) return json{{"version", version_}, {"changed", 0}};
  if (changed > options_.max_edit_voxels)
    throw RequestError(413, "this operation would change " + std::to_string(changed) + " voxels, more than the limit of " +
                                std::to_string(options_.max_edit_voxels));
  if (seen >= 0 && seen < version_) {
    // Strokes are refused where somebody else changed the same place after the page's version.
    if (!index_.empty() && index_.front().seq > seen + 1)
      throw RequestError(409, "your page shows version " + std::to_string(seen) +
                                  ", older than the edits kept; it has been updated, please try again");
    for (auto it = index_.rbegin(); it != index_.rend() && it->seq > seen; ++it)
      if (it->user != user && boxes_meet(it->box, box))
        throw RequestError(409, "this place was changed by " + it->user + " (version " + std::to_string(it->seq) +
                                    ") after the version your page shows (" + std::to_string(seen) +
                                    "); your view has been updated, please try again");
  }
  for (uint32_t id : touched) {
    const std::string owner = lock_owner(id);
    if (!owner.empty() && owner != user) throw RequestError(409, "segment " + std::to_string(id) + " is locked by " + owner);
  }
  std::string packed = pack(r);
  try {
    journal_->append(packed);
  } catch (const InputError& e) {
    std::fprintf(stderr, "uniem serve: saving an edit failed: %s\n", e.what());  // once: edits are refused from now on
    throw RequestError(503, std::string("saving failed: ") + e.what());
  }
  packed_.push_back(std::move(packed));
  replay(r);
  index_.push_back({r.seq, r.target, r.kind, r.user, box});
  index_record(index_.back());
  version_ = r.seq;
  json event{{"version", r.seq}, {"user", user}, {"kind", kind}, {"op", op.value("op", "")},
             {"box", changed > 0 ? json(box) : json(nullptr)}, {"values", !r.values.empty()}};
  events_.push_back(event);
  if (events_.size() > events_kept) events_.pop_front();
  changed_.notify_all();
  return json{{"version", r.seq}, {"changed", changed}};
}

json Session::apply(const json& request) {
  if (!request.is_object()) bad("the request must be a JSON object");
  const std::string op = text(request, "op", 32);
  const std::string user = valid_user(request);
  if (options_.read_only) throw RequestError(403, "this project is open read-only");
  std::lock_guard<std::mutex> lock(mutex_);
  if (!journal_->failed().empty())
    throw RequestError(503, "edits are refused since saving one failed (" + journal_->failed() +
                                "). Every edit you were told was saved is safe; restart uniem serve once the disk is fixed");
  struct TrimAtEnd {  // before the unlock, after the operation's references to chunks are gone
    const Session& session;
    ~TrimAtEnd() { session.trim(); }
  } trim_at_end{*this};
  const auto shape = project_.info().shape;
  const int64_t version = integer(request, "version", 0, version_);
  auto segment_id = [&](const json& r, const char* key) {
    return static_cast<uint32_t>(integer(r, key, 1, UINT32_MAX));
  };
  auto brush_id = [&](const json& r) -> uint32_t {
    const json& v = field(r, "id");
    if (v.is_string() && v.get<std::string>() == "new") {
      if (next_id_ == 0 || next_id_ == UINT32_MAX) throw RequestError(409, "no ids are left for a new segment");
      return next_id_;
    }
    const uint32_t id = segment_id(r, "id");
    if (!segments_.count(id) && id != next_id_) throw RequestError(404, "segment " + std::to_string(id) + " does not exist");
    return id;
  };
  Change change(*this);
  json summary{{"op", op}};

  if (op == "paint" || op == "erase") {
    const int64_t z = integer(request, "z", 0, shape[0] - 1);
    const double radius = number(request, "radius", 0.5, options_.max_radius);
    const uint32_t id = op == "paint" ? brush_id(request) : 0;
    const json& points = field(request, "points");
    if (!points.is_array() || points.empty()) bad("'points' must be a list of [y, x]");
    if (static_cast<int64_t>(points.size()) > options_.max_points)
      throw RequestError(413, "a stroke has at most " + std::to_string(options_.max_points) + " points");
    std::vector<std::array<double, 2>> p;
    for (const auto& q : points) {
      if (!q.is_array() || q.size() != 2 || !q[0].is_number() || !q[1].is_number()) bad("each point must be [y, x]");
      const double y = q[0].get<double>(), x = q[1].get<double>();
      if (!(y >= 0 && y <= static_cast<double>(shape[1] - 1) && x >= 0 && x <= static_cast<double>(shape[2] - 1)))
        bad("a point lies outside the section (y 0.." + std::to_string(shape[1] - 1) + ", x 0.." + std::to_string(shape[2] - 1) + ")");
      p.push_back({y, x});
    }
    // The brush's centres along the stroke, half a radius apart; their count times the brush's
    // area bounds the stroke's cost before any voxel is touched.
    const int64_t r = static_cast<int64_t>(std::ceil(radius));
    const size_t most = static_cast<size_t>(options_.max_stroke_cost / ((2 * r + 1) * (2 * r + 1)));
    std::vector<std::array<double, 2>> centres{p[0]};
    for (size_t k = 1; k < p.size() && centres.size() <= most; ++k) {
      const double dy = p[k][0] - p[k - 1][0], dx = p[k][1] - p[k - 1][1];
      const int steps = static_cast<int>(std::ceil(std::hypot(dy, dx) / std::max(0.5, radius * 0.5)));
      for (int s = 1; s <= steps && centres.size() <= most; ++s)
        centres.push_back({p[k - 1][0] + dy * s / steps, p[k - 1][1] + dx * s / steps});
    }
    if (centres.size() > most)
      throw RequestError(413, "this stroke is too large to paint at once (" + std::to_string(p.size()) + " points at radius " +
                                  std::to_string(static_cast<int>(radius)) + "); paint it in shorter strokes or with a smaller brush");
    for (const auto& [cy, cx] : centres)
      for (int64_t y = std::max<int64_t>(0, std::lround(cy) - r); y <= std::min(shape[1] - 1, std::lround(cy) + r); ++y)
        for (int64_t x = std::max<int64_t>(0, std::lround(cx) - r); x <= std::min(shape[2] - 1, std::lround(cx) + r); ++x)
          if ((y - cy) * (y - cy) + (x - cx) * (x - cx) <= radius * radius) change.set(z, y, x, id);
    summary.update({{"z", z}, {"id", id}, {"radius", radius}, {"points", p.size()}});
    json result = commit(change, summary, user, "edit", 0, {}, version);
    result["id"] = id;
    return result;
  }
  if (op == "fill") {
    const int64_t z = integer(request, "z", 0, shape[0] - 1), y0 = integer(request, "y", 0, shape[1] - 1),
                  x0 = integer(request, "x", 0, shape[2] - 1);
    const uint32_t id = brush_id(request);
    const uint32_t from = change.get(z, y0, x0);
    if (from) check_segment(from, user, version);
    if (from != id) {
      std::vector<uint8_t> seen(static_cast<size_t>(shape[1] * shape[2]), 0);
      std::vector<std::array<int64_t, 2>> stack{{y0, x0}};
      seen[static_cast<size_t>(y0 * shape[2] + x0)] = 1;
      while (!stack.empty()) {
        const auto [y, x] = stack.back();
        stack.pop_back();
        change.set(z, y, x, id);
        const int64_t ny[4] = {y - 1, y + 1, y, y}, nx[4] = {x, x, x - 1, x + 1};
        for (int k = 0; k < 4; ++k) {
          if (ny[k] < 0 || ny[k] >= shape[1] || nx[k] < 0 || nx[k] >= shape[2]) continue;
          uint8_t& s = seen[static_cast<size_t>(ny[k] * shape[2] + nx[k])];
          if (s || change.get(z, ny[k], nx[k]) != from) continue;
          s = 1;
          stack.push_back({ny[k], nx[k]});
        }
      }
    }
    summary.update({{"z", z}, {"y", y0}, {"x", x0}, {"id", id}, {"from", from}});
    json result = commit(change, summary, user, "edit", 0, {}, -1);
    result["id"] = id;
    return result;
  }
  if (op == "merge" || op == "delete") {
    std::vector<uint32_t> ids;
    if (op == "delete") {
      ids = {0, segment_id(request, "id")};
    } else {
      const json& list = field(request, "ids");
      if (!list.is_array() || list.size() < 2 || list.size() > 1000) bad("'ids' must list 2 to 1000 segments");
      for (const auto& v : list) {
        if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > UINT32_MAX) bad("'ids' must hold segment ids");
        const uint32_t id = v.get<uint32_t>();
        if (std::find(ids.begin(), ids.end(), id) != ids.end()) bad("segment " + std::to_string(id) + " is listed twice");
        ids.push_back(id);
      }
    }
    for (uint32_t id : ids)
      if (id) check_segment(id, user, version);
    const ChunkStore& store = project_.labels();
    for (size_t k = 1; k < ids.size(); ++k)
      for (int64_t i : segments_.at(ids[k]).chunks) {
        const auto o = store.origin(i), e = store.extent(i);
        const Volume& c = chunk(i);
        for (int64_t z = 0; z < e[0]; ++z)
          for (int64_t y = 0; y < e[1]; ++y)
            for (int64_t x = 0; x < e[2]; ++x)
              if (c.at<uint32_t>(z, y, x) == ids[k]) change.set(o[0] + z, o[1] + y, o[2] + x, ids[0]);
      }
    if (op == "merge")
      summary["ids"] = ids;
    else
      summary["id"] = ids[1];
    return commit(change, summary, user, "edit", 0, {}, -1);
  }
  if (op == "split") return op_split(request, user, version);
  if (op == "lock" || op == "unlock" || op == "name") {
    const uint32_t id = segment_id(request, "id");
    check_segment(id, user, version_);  // locks and names are not stale-checked
    const std::string key = id_key(op == "name" ? "name" : "lock", id);
    const json before = values_.contains(key) ? values_.at(key) : json(nullptr);
    json after;
    if (op == "lock") after = user;
    if (op == "name") {
      const std::string name = text(request, "name", 200);
      if (!name.empty()) after = name;
    }
    summary["id"] = id;
    if (before == after) return json{{"version", version_}, {"changed", 0}};
    return commit(change, summary, user, "edit", 0, {{key, before, after}}, -1);
  }
  if (op == "marker") {
    const int64_t z = integer(request, "z", 0, shape[0] - 1), y = integer(request, "y", 0, shape[1] - 1),
                  x = integer(request, "x", 0, shape[2] - 1);
    const std::string note = request.contains("note") ? text(request, "note", 500) : "";
    const std::string key = "marker/" + std::to_string(version_ + 1);
    summary.update({{"z", z}, {"y", y}, {"x", x}});
    json result = commit(change, summary, user, "edit", 0,
                         {{key, nullptr, json{{"z", z}, {"y", y}, {"x", x}, {"note", note}, {"user", user}}}}, -1);
    result["key"] = key;
    return result;
  }
  if (op == "unmark") {
    const std::string key = text(request, "key", 64);
    if (key.rfind("marker/", 0) != 0 || !values_.contains(key)) throw RequestError(404, "there is no marker '" + key + "'");
    summary["key"] = key;
    return commit(change, summary, user, "edit", 0, {{key, values_.at(key), nullptr}}, -1);
  }
  if (op == "undo" || op == "redo") return op_undo(user, op == "redo");
  bad("unknown operation '" + op + "' (paint, erase, fill, merge, split, delete, lock, unlock, name, marker, unmark, undo, redo)");
}

json Session::op_split(const json& request, const std::string& user, int64_t version) {
  const auto shape = project_.info().shape;
  const uint32_t id = static_cast<uint32_t>(integer(request, "id", 1, UINT32_MAX));
  const int64_t z = integer(request, "z", 0, shape[0] - 1);
  const std::string mode = request.contains("mode") ? text(request, "mode", 8) : "2d";
  if (mode != "2d" && mode != "3d") bad("'mode' is 2d or 3d");
  check_segment(id, user, version);
  const json& seeds = field(request, "seeds");
  if (!seeds.is_array() || seeds.empty()) bad("'seeds' must be a list of [y, x, group]");
  if (static_cast<int64_t>(seeds.size()) > options_.max_points)
    throw RequestError(413, "at most " + std::to_string(options_.max_points) + " seeds");

  std::array<int64_t, 6> box = segment_box(id);
  if (mode == "2d") {
    box[0] = z;
    box[3] = z + 1;
  }
  const int64_t bz = box[3] - box[0], by = box[4] - box[1], bx = box[5] - box[2];
  if (by <= 0 || bz <= 0) throw RequestError(409, "segment " + std::to_string(id) + " is not on section " + std::to_string(z));
  if (bz * by * bx > options_.max_edit_voxels) throw RequestError(413, "the segment is too large to split in 3D here");
  if (z < box[0] || z >= box[3]) throw RequestError(409, "segment " + std::to_string(id) + " is not on section " + std::to_string(z));

  Change probe(*this);
  Volume mask(DType::u8, bz, by, bx), markers(DType::u32, bz, by, bx), landscape(DType::f32, bz, by, bx);
  for (int64_t k = 0; k < bz; ++k) {
    const Volume image = project_.image_section(box[0] + k, 0);
    for (int64_t y = 0; y < by; ++y)
      for (int64_t x = 0; x < bx; ++x) {
        mask.at<uint8_t>(k, y, x) = probe.get(box[0] + k, box[1] + y, box[2] + x) == id;
        landscape.at<float>(k, y, x) = -static_cast<float>(image.value((box[1] + y) * image.nx() + box[2] + x));
      }
  }
  bool groups[3] = {false, false, false};
  for (const auto& s : seeds) {
    if (!s.is_array() || s.size() != 3 || !s[0].is_number_integer() || !s[1].is_number_integer() || !s[2].is_number_integer())
      bad("each seed must be [y, x, group] with whole numbers");
    const int64_t y = s[0].get<int64_t>() - box[1], x = s[1].get<int64_t>() - box[2], g = s[2].get<int64_t>();
    if (g != 1 && g != 2) bad("a seed's group is 1 (keeps the id) or 2 (gets a new id)");
    if (y < 0 || y >= by || x < 0 || x >= bx || !mask.at<uint8_t>(z - box[0], y, x)) continue;  // off the segment
    markers.at<uint32_t>(z - box[0], y, x) = static_cast<uint32_t>(g);
    groups[g] = true;
  }
  if (!groups[1] || !groups[2])
    throw RequestError(400, "a split needs seeds of both groups on segment " + std::to_string(id) + " in section " + std::to_string(z));
  gaussian_filter(landscape, {0, 1, 1});
  WatershedOptions wo;
  wo.connectivity = mode == "2d" ? Connectivity::c4 : Connectivity::c6;
  const Volume parts = watershed(landscape, markers, &mask, wo);
  if (next_id_ == 0 || next_id_ == UINT32_MAX) throw RequestError(409, "no ids are left for a new segment");
  const uint32_t new_id = next_id_;
  Change change(*this);
  for (int64_t k = 0; k < bz; ++k)
    for (int64_t y = 0; y < by; ++y)
      for (int64_t x = 0; x < bx; ++x)
        if (parts.at<uint32_t>(k, y, x) == 2) change.set(box[0] + k, box[1] + y, box[2] + x, new_id);
  json result =
      commit(change, json{{"op", "split"}, {"id", id}, {"new_id", new_id}, {"z", z}, {"mode", mode}}, user, "edit", 0, {}, -1);
  result["new_id"] = new_id;
  return result;
}

json Session::op_undo(const std::string& user, bool redo) {
  const char* what = redo ? "redo" : "undo";
  std::vector<int64_t>& stack = redo ? redo_[user] : undo_[user];
  if (stack.empty()) throw RequestError(409, std::string("you have nothing to ") + what);
  const int64_t target = stack.back();
  const auto it = std::lower_bound(index_.begin(), index_.end(), target,
                                   [](const RecordIndex& r, int64_t seq) { return r.seq < seq; });
  if (it == index_.end() || it->seq != target)
    throw RequestError(409, "edit " + std::to_string(target) + " is too old to " + what + " (the journal keeps the last " +
                                std::to_string(options_.undo_depth) + ")");
  const Record r = unpack(packed_[static_cast<size_t>(it - index_.begin())], "journal");
  Change change(*this);
  for (const auto& d : r.voxels) {
    size_t k = 0;
    for (int64_t z = 0; z < d.size[0]; ++z)
      for (int64_t y = 0; y < d.size[1]; ++y)
        for (int64_t x = 0; x < d.size[2]; ++x, ++k) {
          if (d.before[k] == d.after[k]) continue;
          const uint32_t expect = redo ? d.before[k] : d.after[k], to = redo ? d.after[k] : d.before[k];
          const int64_t at[3] = {d.origin[0] + z, d.origin[1] + y, d.origin[2] + x};
          if (change.get(at[0], at[1], at[2]) != expect)
            throw RequestError(409, std::string("cannot ") + what + " your " + r.op.value("op", "edit") + " (version " +
                                        std::to_string(target) + "): a later edit changed the same voxels");
          change.set(at[0], at[1], at[2], to);
        }
  }
  std::vector<ValueDiff> values;
  for (const auto& v : r.values) {
    const json& expect = redo ? v.before : v.after;
    const json now = values_.contains(v.key) ? values_.at(v.key) : json(nullptr);
    if (now != expect)
      throw RequestError(409, std::string("cannot ") + what + " your " + r.op.value("op", "edit") + ": " + v.key +
                                  " was changed since");
    values.push_back({v.key, now, redo ? v.after : v.before});
  }
  return commit(change, json{{"op", what}, {"target", target}, {"of", r.op}}, user, what, target, std::move(values), -1);
}

void Session::flush() {
  std::lock_guard<std::mutex> one_at_a_time(flush_mutex_);
  std::vector<std::pair<int64_t, Volume>> copies;
  json state;
  int64_t seq = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (dirty_.empty() && applied_ == version_) return;
    for (int64_t i : dirty_) copies.emplace_back(i, *chunks_[static_cast<size_t>(i)]);
    flushing_ = std::move(dirty_);  // not dropped from memory before they are on disk
    dirty_.clear();
    json seg = json::array();
    for (const auto& [id, s] : segments_)
      seg.push_back({id, s.voxels, std::vector<int64_t>(s.chunks.begin(), s.chunks.end()), s.changed});
    seq = version_;
    state = json{{"applied_seq", seq}, {"next_id", next_id_}, {"segments", seg}, {"values", values_}};
  }
  try {
    for (const auto& [i, v] : copies) project_.labels().write(i, v);
    write_file_durably(project_.folder() / "state.json", state.dump());
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& c : copies) dirty_.insert(c.first);
    flushing_.clear();
    throw;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  flushing_.clear();
  applied_ = seq;
  // Compaction: keep the last undo_depth records, and any that arrived during the flush.
  if (static_cast<int64_t>(packed_.size()) > 2 * options_.undo_depth && journal_->failed().empty()) {
    size_t keep_from = packed_.size() - static_cast<size_t>(options_.undo_depth);
    while (keep_from > 0 && index_[keep_from - 1].seq > applied_) --keep_from;
    std::vector<std::string> kept(packed_.begin() + static_cast<std::ptrdiff_t>(keep_from), packed_.end());
    journal_->rewrite(kept);
    packed_ = std::move(kept);
    index_.erase(index_.begin(), index_.begin() + static_cast<std::ptrdiff_t>(keep_from));
    const int64_t oldest = index_.empty() ? version_ + 1 : index_.front().seq;
    for (auto* stacks : {&undo_, &redo_})
      for (auto& [u, stack] : *stacks) std::erase_if(stack, [&](int64_t s) { return s < oldest; });
  }
}

void Session::flusher() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    stop_.wait_for(lock, std::chrono::duration<double>(options_.flush_seconds), [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    try {
      flush();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "uniem serve: flushing the label chunks failed (%s); the journal holds every edit, will retry\n",
                   e.what());
    }
    lock.lock();
  }
}

}  // namespace uniem::web
