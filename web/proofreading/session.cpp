// The core of a Session (session.h): opening a project and replaying its journal, the segment
// index, committing a Change to the journal, and writing the label chunks back in the background.
#include "web/proofreading/session.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "io/atomic_output.h"
#include "io/folder_lock.h"
#include "web/proofreading/session_change.h"

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

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string Session::id_key(const char* what, uint32_t id) { return std::string(what) + "/" + std::to_string(id); }

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
    : project_(folder), options_(options), lock_(options.read_only ? nullptr
                             : std::make_unique<FolderLock>(folder / "lock", folder.string() + " is open in another uniem server "
                                                            "(serve or workbench); stop that one first (one server per project)")) {
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

void Session::replay(const Record& r) {
  const ChunkStore& store = project_.labels();
  const auto cs = project_.info().label_chunk;
  for (const auto& d : r.voxels) {
    const int64_t i = store.index_of(d.origin[0] / cs[0], d.origin[1] / cs[1], d.origin[2] / cs[2]);
    Volume& c = chunk(i);
    const auto o = store.origin(i);
    size_t k = 0;
    // The segments of the last voxel changed, looked up again only when the id differs (a record
    // of millions of voxels, an interpolation, is mostly runs of one id: the lookups per voxel were
    // most of its time, bench/web).
    uint32_t last_b = 0, last_a = 0;
    Segment *from = nullptr, *to = nullptr;
    for (int64_t z = 0; z < d.size[0]; ++z)
      for (int64_t y = 0; y < d.size[1]; ++y)
        for (int64_t x = 0; x < d.size[2]; ++x, ++k) {
          const uint32_t b = d.before[k], a = d.after[k];
          if (a == b) continue;
          c.at<uint32_t>(d.origin[0] - o[0] + z, d.origin[1] - o[1] + y, d.origin[2] - o[2] + x) = a;
          labels_changed_ = r.seq;
          if (b) {
            if (!from || b != last_b) {
              from = &segments_[b];
              last_b = b;
              from->changed = r.seq;
            }
            --from->voxels;
          }
          if (a) {
            if (!to || a != last_a) {
              to = &segments_[a];
              last_a = a;
              to->chunks.insert(i);
              to->changed = r.seq;
              next_id_ = std::max<uint32_t>(next_id_, a == UINT32_MAX ? a : a + 1);
            }
            ++to->voxels;
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

std::string Session::colour_of(uint32_t id) const {
  const auto it = values_.find(id_key("colour", id));
  return it == values_.end() ? std::string() : it->get<std::string>();
}

std::string Session::checker(uint32_t id) const {
  const auto it = values_.find(id_key("checked", id));
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

bool Session::changed_since(int64_t version, const std::array<int64_t, 6>& box) const {
  if (!index_.empty() && index_.front().seq > version + 1) return true;  // records dropped from the index: assume so
  for (auto it = index_.rbegin(); it != index_.rend() && it->seq > version; ++it)
    if (boxes_meet(it->box, box)) return true;
  return false;
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
  for (const auto& d : r.voxels) {
    uint32_t last_b = 0, last_a = 0;  // inserted already: runs of one id are not inserted again
    for (size_t k = 0; k < d.before.size(); ++k)
      if (d.before[k] != d.after[k]) {
        ++changed;
        if (d.before[k] && d.before[k] != last_b) touched.insert(last_b = d.before[k]);
        if (d.after[k] && d.after[k] != last_a) touched.insert(last_a = d.after[k]);
      }
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