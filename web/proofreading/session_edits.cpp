// The edit operations of a Session: requests parsed and checked, applied as one Change,
// committed to the journal (paint, erase, fill, merge, split (copy and interpolate: session_groundtruth.cpp), delete, lock, name, colour, check, markers,
// undo).
#include "web/proofreading/session.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "core/image/gaussian.h"
#include "core/image/watershed.h"
#include "core/threads.h"
#include "web/proofreading/session_change.h"
#include "web/proofreading/session_request.h"

namespace fs = std::filesystem;
using nlohmann::json;


namespace uniem::web {
using namespace request_fields;

json Session::apply(const json& request) {
  if (!request.is_object()) bad("the request must be a JSON object");
  const std::string op = text(request, "op", 32);
  const std::string user = valid_user(request);
  if (options_.read_only) throw RequestError(403, "this project is open read-only");
  std::unique_lock<std::mutex> lock(mutex_);
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
    const bool protect = flag(request, "protect");
    // Protected erase: only the voxels of this segment become background.
    const uint32_t only = op == "erase" && protect ? segment_id(request, "id") : 0;
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
          if ((y - cy) * (y - cy) + (x - cx) * (x - cx) <= radius * radius) {
            if (protect) {
              const uint32_t now = change.get(z, y, x);
              if (op == "paint" ? now != 0 && now != id : now != only) continue;
            }
            change.set(z, y, x, id);
          }
    summary.update({{"z", z}, {"id", op == "paint" ? id : only}, {"radius", radius}, {"points", p.size()}});
    if (protect) summary["protect"] = true;
    json result = commit(change, summary, user, "edit", 0, {}, version);
    result["id"] = id;
    return result;
  }
  if (op == "fill") {
    const int64_t z = integer(request, "z", 0, shape[0] - 1), y0 = integer(request, "y", 0, shape[1] - 1),
                  x0 = integer(request, "x", 0, shape[2] - 1);
    const uint32_t id = brush_id(request);
    const bool protect = flag(request, "protect");
    const uint32_t from = change.get(z, y0, x0);
    if (from) check_segment(from, user, version);
    if (protect && from != 0 && from != id)
      throw RequestError(409, "this place is segment " + std::to_string(from) +
                                  ", and 'protect other segments' is on: fill only into background, or turn it off");
    if (from != id) {
      const std::vector<int64_t> region = flood(z, y0, x0);
      const int64_t size = static_cast<int64_t>(region.size());
      if (request.contains("expect")) {
        const int64_t expect = integer(request, "expect", 0, INT64_MAX);
        if (expect != size)
          throw RequestError(409, "the region changed since the preview (" + std::to_string(size) + " voxels now, " +
                                      std::to_string(expect) + " shown); look at the new preview and fill again");
      } else if (size > options_.max_fill_voxels) {
        throw RequestError(413, "this fill would change " + std::to_string(size) + " voxels, more than " +
                                    std::to_string(options_.max_fill_voxels) +
                                    " at once: is the outline closed? Look at the preview and confirm it");
      }
      for (const int64_t i : region) change.set(z, i / shape[2], i % shape[2], id);
    }
    summary.update({{"z", z}, {"y", y0}, {"x", x0}, {"id", id}, {"from", from}});
    json result = commit(change, summary, user, "edit", 0, {}, version);
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
  if (op == "split") return op_split(request, user, version, lock);
  if (op == "copy" || op == "interpolate") return op_ground_truth(request, user, version);
  if (op == "lock" || op == "unlock" || op == "name" || op == "colour" || op == "check") {
    const uint32_t id = segment_id(request, "id");
    check_segment(id, user, version_);  // locks, names, colours and checks are not stale-checked
    const std::string key = id_key(op == "unlock" ? "lock" : op == "check" ? "checked" : op.c_str(), id);
    const json before = values_.contains(key) ? values_.at(key) : json(nullptr);
    json after;
    if (op == "lock") after = user;
    if (op == "name") {
      const std::string name = text(request, "name", 200);
      if (!name.empty()) after = name;
    }
    if (op == "colour") {  // "#rrggbb", or "" for the segment's own colour again
      const std::string colour = text(request, "colour", 7);
      const bool hex = colour.size() == 7 && colour[0] == '#' &&
                       std::all_of(colour.begin() + 1, colour.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
      if (!colour.empty() && !hex) bad("'colour' is #rrggbb, e.g. #ff8800, or empty for the segment's own colour");
      if (!colour.empty()) after = colour;
    }
    if (op == "check") {  // who checked it; unchecked: absent
      if (!request.contains("checked") || !request.at("checked").is_boolean()) bad("'checked' is true or false");
      if (request.at("checked").get<bool>()) after = before.is_null() ? json(user) : before;
      summary["checked"] = !after.is_null();
    }
    summary["id"] = id;
    if (before == after) return json{{"version", version_}, {"changed", 0}};
    return commit(change, summary, user, "edit", 0, {{key, before, after}}, -1);
  }
  if (op == "marker") {
    // A new marker, or (with "key") an existing one moved or changed: one record either way, so
    // that undo takes it back whole.
    const int64_t z = integer(request, "z", 0, shape[0] - 1), y = integer(request, "y", 0, shape[1] - 1),
                  x = integer(request, "x", 0, shape[2] - 1);
    json value = {{"z", z}, {"y", y}, {"x", x}, {"note", request.contains("note") ? text(request, "note", 500) : ""}, {"user", user}};
    // What the 3D annotator adds: a name, a type, the segment it is on and the point in nm.
    if (request.contains("name")) value["name"] = text(request, "name", 200);
    if (request.contains("type")) value["type"] = text(request, "type", 100);
    value["segment"] = request.contains("segment") ? integer(request, "segment", 0, UINT32_MAX) : int64_t{voxel(z, y, x)};
    if (request.contains("nm")) {
      const json& nm = request["nm"];
      if (!nm.is_array() || nm.size() != 3 || !std::all_of(nm.begin(), nm.end(), [](const json& v) { return v.is_number() && std::isfinite(v.get<double>()); }))
        bad("'nm' is the point in nm, [x, y, z]");
      value["nm"] = nm;
    }
    json before = nullptr;
    std::string key = "marker/" + std::to_string(version_ + 1);
    if (request.contains("key")) {
      key = text(request, "key", 64);
      if (key.rfind("marker/", 0) != 0 || !values_.contains(key)) throw RequestError(404, "there is no marker '" + key + "'");
      before = values_.at(key);
    }
    summary.update({{"z", z}, {"y", y}, {"x", x}});
    json result = commit(change, summary, user, "edit", 0, {{key, before, value}}, -1);
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
  bad("unknown operation '" + op + "' (paint, erase, fill, copy, interpolate, merge, split, delete, lock, unlock, name, colour, check, marker, unmark, undo, redo)");
}

std::vector<int64_t> Session::flood(int64_t z, int64_t y0, int64_t x0) const {
  const auto shape = project_.info().shape;
  const uint32_t from = voxel(z, y0, x0);
  std::vector<uint8_t> seen(static_cast<size_t>(shape[1] * shape[2]), 0);
  std::vector<int64_t> region, stack{y0 * shape[2] + x0};
  seen[static_cast<size_t>(stack[0])] = 1;
  while (!stack.empty()) {
    const int64_t i = stack.back(), y = i / shape[2], x = i % shape[2];
    stack.pop_back();
    region.push_back(i);
    const int64_t ny[4] = {y - 1, y + 1, y, y}, nx[4] = {x, x, x - 1, x + 1};
    for (int k = 0; k < 4; ++k) {
      if (ny[k] < 0 || ny[k] >= shape[1] || nx[k] < 0 || nx[k] >= shape[2]) continue;
      uint8_t& s = seen[static_cast<size_t>(ny[k] * shape[2] + nx[k])];
      if (s || voxel(z, ny[k], nx[k]) != from) continue;
      s = 1;
      stack.push_back(ny[k] * shape[2] + nx[k]);
    }
  }
  return region;
}

json Session::op_split(const json& request, const std::string& user, int64_t version, std::unique_lock<std::mutex>& lock) {
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

  Volume mask(DType::u8, bz, by, bx), markers(DType::u32, bz, by, bx), landscape(DType::f32, bz, by, bx);
  {
    Change probe(*this);
    for (int64_t k = 0; k < bz; ++k) {
      const Volume image = project_.image_section(box[0] + k, 0);
      for (int64_t y = 0; y < by; ++y)
        for (int64_t x = 0; x < bx; ++x) {
          mask.at<uint8_t>(k, y, x) = probe.get(box[0] + k, box[1] + y, box[2] + x) == id;
          landscape.at<float>(k, y, x) = -static_cast<float>(image.value((box[1] + y) * image.nx() + box[2] + x));
        }
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
  // The flooding runs without the lock, so that nobody waits for it; what it read is checked after.
  const int64_t read_at = version_;
  Volume parts;
  {
    struct Relock {  // also when the work throws: the caller's clean-up runs under the lock
      std::unique_lock<std::mutex>& lock;
      ~Relock() {
        if (!lock.owns_lock()) lock.lock();
      }
    } relock{lock};
    lock.unlock();
    gaussian_filter(landscape, {0, 1, 1});
    WatershedOptions wo;
    wo.connectivity = mode == "2d" ? Connectivity::c4 : Connectivity::c6;
    parts = watershed(landscape, markers, &mask, wo);
    if (options_.while_splitting) options_.while_splitting();
  }
  if (changed_since(read_at, box))
    throw RequestError(409, "segment " + std::to_string(id) +
                                " was edited while the split was being computed; look at it again and split again");
  check_segment(id, user, read_at);  // still there, not locked by someone else, not changed meanwhile
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
  json result = commit(change, json{{"op", what}, {"target", target}, {"of", r.op}}, user, what, target, std::move(values), -1);
  result["of"] = r.op;  // what was undone or redone, for the page to say
  return result;
}

}  // namespace uniem::web
