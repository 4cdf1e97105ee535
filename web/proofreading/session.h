// The proofreading session: one open project, the operations people make on its labels, and
// the guarantees around them. The HTTP server (web/server.h) is a thin layer over this class, and
// the service tests call it directly.
//
// Operations (apply(); the request is JSON with "op", "user" and "version", the project version
// the user's page shows):
//   paint   {z, points: [[y, x], ...], radius, id: N | "new",     brush stroke on section z: the
//            protect?}                                             voxels whose centre lies within
//                                                                  `radius` of a brush centre (below);
//                                                                  protect: only background (0) and
//                                                                  segment `id` change ("paint only
//                                                                  into background", as in VAST)
//   erase   {z, points, radius, protect?, id?}                    the same, painting 0; protect: only
//                                                                  the voxels of segment `id`
//   fill    {z, y, x, id: N | "new", protect?, expect?}           2D flood fill (4-connected) of the
//                                                                  region under (y, x) on section z:
//                                                                  the voxels of its one value (the
//                                                                  background or the segment clicked),
//                                                                  never across another segment;
//                                                                  protect: background only. Above
//                                                                  max_fill_voxels it is refused (413)
//                                                                  unless `expect` gives its size, as
//                                                                  fill_preview() said it (the page
//                                                                  asked); a region whose size is not
//                                                                  `expect` is refused (409)
//   copy    {id, z, to, protect?}                                 segment id's voxels on section z
//                                                                  painted with id on section `to`
//                                                                  (its outline copied to the next
//                                                                  section); they add to what id has
//                                                                  there. protect (true when absent):
//                                                                  only background changes, the
//                                                                  other segments' voxels are kept
//                                                                  (their count: the answer's "kept")
//   interpolate {id, z1, z2, protect?}                            z2 >= z1 + 2, id on both: the
//                                                                  sections between painted with the
//                                                                  shape interpolated between its two
//                                                                  outlines (web/proofreading/
//                                                                  shape_interpolation.h); protect as
//                                                                  copy's. Both are stale-checked as
//                                                                  strokes are, and id as merge's is
//   merge   {ids: [A, B, ...]}                                    B, ... join A
//   split   {id, z, seeds: [[y, x, 1|2], ...], mode: "2d"|"3d"}   watershed of the segment on the
//                                                                  inverted, smoothed image from the
//                                                                  two seed groups; group 2 gets a
//                                                                  new id (2d: on section z only)
//   delete  {id}                                                  the segment becomes background
//   lock / unlock {id}; name {id, name}; colour {id, colour: "#rrggbb" or "" for its own};
//   check {id, checked: true|false}                               the segment reviewed (the review
//                                                                  queue): who checked it is kept
//   marker  {z, y, x, note, name?, type?, segment?, nm?: [x, y, z], key?}; unmark {key}
//           "problem here" markers, and the 3D annotator's (a name, a type, the segment, the point
//           in nm); with the key of an existing marker, that one moved or changed
//   undo / redo                                                   the user's own last edit; the
//                                                                  answer's "of" is what it took back
// Brush centres: the stroke's points and, between two of them, points evenly spaced at most
// max(0.5, radius / 2) apart, none rounded; voxel (y, x) is painted when (y - cy)^2 + (x - cx)^2
// <= radius^2 for a centre (cy, cx). The page draws its ring and strokes by the same rule
// (web/assets/app_tools.js), so what it shows is what is painted.
// Strokes, fills, copies and interpolations are refused (409) where another user changed voxels in their box after
// `version`: two people painting the same place cannot overwrite each other unseen.
// Each accepted operation becomes a journal record (web/proofreading/journal.h) that is on disk before apply()
// returns, and the version goes up by one. Refusals throw RequestError (the HTTP status and a
// message for the page) and change nothing: 400 malformed or out of range, 404 unknown segment,
// 409 a segment locked by someone else, a segment changed since the version the user saw, or an
// undo whose voxels a later edit changed, 413 too large.
// Undo is per user: it reverts that user's most recent edit not yet undone, provided nobody has
// changed those voxels since; redo replays it if they are still as the undo left them.
// A background thread flushes changed chunks and the state every `flush_seconds` and compacts the
// journal to the last `undo_depth` records. Label chunks are read when first needed (those of a
// section in parallel) and kept while they fit in `cache_bytes`; changed ones stay until flushed. On open, the state is recovered from the chunks and the
// journal (a torn last record is dropped and reported by recovery_note()).
// Thread-safe: one mutex serialises operations and reads; a split computes its parts without it
// and is refused when the segment changed meanwhile (op_split).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/folder_lock.h"
#include "web/proofreading/journal.h"
#include "web/proofreading/project.h"
#include "web/proofreading/review_queue.h"
#include "web/request_error.h"

namespace uniem::web {

struct SessionOptions {
  double flush_seconds = 2.0;   // 0: only on flush() and at close
  int64_t undo_depth = 1000;    // records the journal keeps after a flush
  int64_t max_points = 10000;   // per stroke or seed list
  double max_radius = 200;      // brush radius in voxels
  int64_t max_edit_voxels = 256LL << 20;  // voxels one operation may change
  int64_t max_stroke_cost = 32LL << 20;   // voxels a stroke may visit: brush stamps x (2 radius + 1)^2
  int64_t max_fill_voxels = 100000;       // a larger fill needs its size confirmed ("expect")
  int64_t cache_bytes = 1LL << 30;  // label chunks kept in memory; beyond it, unchanged ones are
                                    // dropped, least recently used first
  bool read_only = false;       // look, export: no lock, no journal writes, no flushes
  // Called while a split computes its parts without the session's lock (tests edit meanwhile).
  std::function<void()> while_splitting;
};

// A page of the segment table: sorted by "id", "voxels" or "name" (ties by rising id), filtered
// by `search` (a part of the id or, ignoring case, of the name), `count` rows from `offset`.
struct SegmentQuery {
  int64_t offset = 0, count = 500;
  std::string sort = "id";
  bool descending = false;
  std::string search;
};

class Session {
 public:
  explicit Session(const std::filesystem::path& project, SessionOptions options = {});
  ~Session();  // flushes
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Project& project() const { return project_; }
  const std::string& recovery_note() const { return recovery_note_; }

  nlohmann::json info() const;  // the project, the version and the next new id
  int64_t version() const;
  // Section z of the labels at pyramid level `level` (nearest sampling), uint32 little-endian.
  std::string label_slice(int64_t z, int level) const;
  // The same as (id, count) pairs of uint32 in raster order, each run as long as it goes.
  std::string label_runs(int64_t z, int level) const;
  // The cut across the sections at full resolution, uint32 little-endian: "xz" through y = at (rows
  // z, columns x) or "yz" through x = at (rows z, columns y); with `runs`, as (id, count) pairs.
  std::string label_plane(const std::string& plane, int64_t at, bool runs) const;
  uint32_t label_at(int64_t z, int64_t y, int64_t x) const;
  nlohmann::json segments() const;  // [{id, voxels, name, colour, locked_by, checked_by}], by id
  // {"total", "matching", "offset", "items": [{id, voxels, name, colour, locked_by, checked_by}], "annotated": [{id,
  // name, colour, locked_by}] for every segment with a name, a colour or a lock}: what the page's list shows.
  nlohmann::json segment_page(const SegmentQuery& query) const;
  nlohmann::json markers() const;   // [{key, z, y, x, note, user, segment, name?, type?, nm?}], by key
  // The review queue (web/proofreading/review_queue.h): review_candidates() of the labels, each
  // segment with "checked_by" ("" when not checked), then "markers" (markers()), and "progress":
  // {segments, checked, voxels, checked_voxels} over the segments there are now; "scanned": the
  // version the candidates are of. The scan of the labels reads a section at a time (edits go on
  // between sections) and is kept until an edit changes voxels, so that checking segments one
  // after the other costs no new scan.
  nlohmann::json review(const ReviewRules& rules) const;
  // {id, voxels, box: [z0, y0, x0, z1, y1, x1], z, y, x}: a voxel of the segment to jump to, on
  // the section nearest the middle of its box that holds it (not every section of the box need),
  // nearest the box's centre there. RequestError 404 when there is no such segment.
  nlohmann::json locate(uint32_t id) const;
  // What a fill at (z, y, x) would change, without changing it: {z, y, x, from, voxels, box: [y0,
  // x0, y1, x1], runs: [out, in, out, in, ...]} (the region's voxels as run lengths over the box
  // in raster order, starting outside), `large` when voxels > max_fill_voxels, `limit`.
  nlohmann::json fill_preview(int64_t z, int64_t y, int64_t x) const;
  nlohmann::json history(int64_t count) const;  // the last records: seq, kind, user, op, time
  // The voxels and the version of the last change of segment `id` (a cache key for what is made
  // from it); RequestError 404 when there is no such segment.
  std::pair<int64_t, int64_t> segment_state(uint32_t id) const;
  // Its bounding box (z0, y0, x0, z1, y1, x1); RequestError 404 when there is no such segment.
  std::array<int64_t, 6> segment_bounds(uint32_t id) const;
  // Segment `id` as a mask for meshing: 1 where it is, in its bounding box (`box`: z0, y0, x0, z1,
  // y1, x1), every `step`-th voxel along each axis (step > 1: a coarser level, for segments too
  // large to mesh whole); `changed` as segment_state gives it. The mask's voxel size is the
  // project's times `step`. RequestError 404 when there is no such segment.
  Volume segment_mask(uint32_t id, int64_t step, std::array<int64_t, 6>& box, int64_t& changed) const;

  nlohmann::json apply(const nlohmann::json& request);

  // The events after version `seen`, waiting up to `timeout` for one:
  // {"version", "events": [{version, user, kind, op, box: [z0, y0, x0, z1, y1, x1] | null}]} or,
  // when `seen` is older than the events kept, {"version", "reload": true}.
  nlohmann::json wait_events(int64_t seen, std::chrono::milliseconds timeout) const;

  void flush();
  // The whole label volume as it is now: uint32 (bits 32), uint8/uint16 (8, 16; InputError when
  // an id does not fit) or the smallest type that holds the largest id (0). For exports; other
  // users' edits and views go on while it reads the chunks from disk. `version`: the project's
  // version the volume is the state of.
  Volume labels(int bits = 32, int64_t* version = nullptr) const;

 private:
  struct Segment {
    int64_t voxels = 0;
    std::set<int64_t> chunks;  // the chunks it may occupy (a superset)
    int64_t changed = 0;       // seq of the last record that changed it
  };
  struct RecordIndex {
    int64_t seq, target;
    std::string kind, user;
    std::array<int64_t, 6> box;  // around the voxels it changed (session.cpp box_of)
  };
  class Change;

  Volume& chunk(int64_t index) const;  // loaded on first use; the caller holds the mutex
  // Reads the chunks among `indices` that are not in memory, in parallel and without the mutex
  // (the caller must not hold it), and keeps them unless chunks were dropped meanwhile.
  void load(const std::vector<int64_t>& indices) const;
  // Drops unchanged chunks, least recently used first, when the cache is over cache_bytes; the
  // caller holds the mutex and no reference to a chunk.
  void trim() const;
  // Calls row_fn(y, const uint32_t* row) for each row of section z at `level`, holding the mutex.
  template <class RowFn>
  void for_each_row(int64_t z, int level, RowFn&& row_fn) const;
  uint32_t voxel(int64_t z, int64_t y, int64_t x) const;  // the caller holds the mutex
  // The 4-connected region of section z holding the value at (y, x), as y * nx + x in the order
  // reached; the caller holds the mutex.
  std::vector<int64_t> flood(int64_t z, int64_t y, int64_t x) const;
  // Journals and applies a change. With `seen` >= 0 (strokes, fills), it is refused (409) when another
  // user changed voxels in its box after version `seen`, the one the user's page showed.
  nlohmann::json commit(Change& change, const nlohmann::json& op, const std::string& user, const std::string& kind,
                        int64_t target, std::vector<ValueDiff> values, int64_t seen);
  void replay(const Record& r);  // applies a record: voxels, segment counts, values
  void index_record(const RecordIndex& r);
  void check_segment(uint32_t id, const std::string& user, int64_t version) const;
  std::array<int64_t, 6> segment_box(uint32_t id) const;
  nlohmann::json op_undo(const std::string& user, bool redo);
  // copy and interpolate (session_groundtruth.cpp): the caller holds the mutex.
  nlohmann::json op_ground_truth(const nlohmann::json& req, const std::string& user, int64_t version);
  // The voxels (y * nx + x, rising) of segment `id` on section z; the caller holds the mutex.
  std::vector<int64_t> section_voxels(uint32_t id, int64_t z) const;
  // Computes the parts without holding `lock` (a 3D split can take seconds; others edit meanwhile),
  // then refuses (409) if an edit after it began met the segment's box.
  nlohmann::json op_split(const nlohmann::json& req, const std::string& user, int64_t version,
                          std::unique_lock<std::mutex>& lock);
  bool changed_since(int64_t version, const std::array<int64_t, 6>& box) const;  // by anybody
  std::string lock_owner(uint32_t id) const;
  std::string colour_of(uint32_t id) const;  // "#rrggbb" given to the segment, "" for its own
  std::string checker(uint32_t id) const;    // who marked the segment checked, "" nobody
  // "name/12", "lock/12", "colour/12", "checked/12": the key of a segment's value in values_.
  static std::string id_key(const char* what, uint32_t id);
  void flusher();


  Project project_;
  SessionOptions options_;
  std::unique_ptr<FolderLock> lock_;  // PROJECT/lock: one server per project (none when read-only)
  std::string recovery_note_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mutable std::vector<std::unique_ptr<Volume>> chunks_;
  mutable std::vector<uint64_t> last_used_;  // per chunk, a tick of use_clock_
  mutable uint64_t use_clock_ = 0, drops_ = 0;
  mutable int64_t cached_bytes_ = 0;
  std::set<int64_t> dirty_, flushing_;  // changed since the last flush; being written by one
  std::map<uint32_t, Segment> segments_;
  nlohmann::json values_ = nlohmann::json::object();
  int64_t version_ = 0, applied_ = 0;
  uint32_t next_id_ = 1;
  std::unique_ptr<Journal> journal_;
  std::vector<std::string> packed_;       // the journal's records, in order
  std::vector<RecordIndex> index_;        // and what they are
  std::map<std::string, std::vector<int64_t>> undo_, redo_;
  std::deque<nlohmann::json> events_;
  int64_t labels_changed_ = 0;  // the seq of the last record that changed voxels (0: none since opening)
  // The review queue's scan of the labels and the version it is of (session_review.cpp).
  mutable std::mutex review_mutex_;
  mutable std::shared_ptr<const std::map<uint32_t, SegmentShape>> review_scan_;
  mutable int64_t review_scan_version_ = -1, review_scan_changed_ = -1;  // the version it began at; labels_changed_ then
  bool stopping_ = false;
  std::condition_variable stop_;
  std::mutex flush_mutex_;
  std::thread flusher_;
};

}  // namespace uniem::web
