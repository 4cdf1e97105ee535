// What the page reads from a session (web/proofreading/session.h): the project and version, label sections
// (raw or as runs), the cuts across them (xz, yz), the segment table a page at a time, markers, where a segment is, the history,
// and the whole label volume for exports. Each read holds the session's mutex while it runs.
#include <algorithm>
#include <cctype>
#include <cstring>

#include "core/image/convert.h"
#include "core/threads.h"
#include "web/proofreading/session.h"

using nlohmann::json;

namespace uniem::web {

json Session::info() const {
  std::lock_guard<std::mutex> lock(mutex_);
  json j = project_.info().to_json();
  j["version"] = version_;
  j["next_id"] = next_id_;
  j["segments"] = segments_.size();
  j["recovery"] = recovery_note_;
  return j;
}

int64_t Session::version() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return version_;
}

uint32_t Session::label_at(int64_t z, int64_t y, int64_t x) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return voxel(z, y, x);
}

uint32_t Session::voxel(int64_t z, int64_t y, int64_t x) const {
  const auto cs = project_.info().label_chunk;
  return chunk(project_.labels().index_of(z / cs[0], y / cs[1], x / cs[2])).at<uint32_t>(z % cs[0], y % cs[1], x % cs[2]);
}

template <class RowFn>
void Session::for_each_row(int64_t z, int level, RowFn&& row_fn) const {
  const auto& info = project_.info();
  UNIEM_CHECK(z >= 0 && z < info.shape[0] && level >= 0 && level < info.levels, "Session: section out of range");
  const auto size = project_.level_size(level);
  const int64_t step = int64_t{1} << level;
  const ChunkStore& store = project_.labels();
  const auto cs = info.label_chunk;
  std::vector<int64_t> wanted;
  for (int64_t cy = 0; cy < store.grid()[1]; ++cy)
    for (int64_t cx = 0; cx < store.grid()[2]; ++cx) wanted.push_back(store.index_of(z / cs[0], cy, cx));
  load(wanted);
  std::vector<uint32_t> row(static_cast<size_t>(size[1]));
  std::vector<const Volume*> chunk_row(static_cast<size_t>(store.grid()[2]));
  std::lock_guard<std::mutex> lock(mutex_);
  for (int64_t y = 0; y < size[0]; ++y) {
    const int64_t vy = y * step, cy = vy / cs[1];
    if (y == 0 || cy != (vy - step) / cs[1])
      for (int64_t cx = 0; cx < store.grid()[2]; ++cx) chunk_row[static_cast<size_t>(cx)] = &chunk(store.index_of(z / cs[0], cy, cx));
    for (int64_t cx = 0; cx < store.grid()[2]; ++cx) {
      const Volume& c = *chunk_row[static_cast<size_t>(cx)];
      const int64_t x0 = cx * cs[2];
      const uint32_t* from = &c.at<uint32_t>(z % cs[0], vy - cy * cs[1], 0);
      for (int64_t x = (x0 + step - 1) / step; x * step < x0 + c.nx() && x < size[1]; ++x)
        row[static_cast<size_t>(x)] = from[x * step - x0];
    }
    row_fn(y, row.data());
  }
  trim();
}

std::string Session::label_slice(int64_t z, int level) const {
  const auto size = project_.level_size(level);
  std::string out(static_cast<size_t>(size[0] * size[1]) * 4, '\0');
  for_each_row(z, level, [&](int64_t y, const uint32_t* row) {
    std::memcpy(out.data() + static_cast<size_t>(y * size[1]) * 4, row, static_cast<size_t>(size[1]) * 4);
  });
  return out;
}

std::string Session::label_plane(const std::string& plane, int64_t at, bool runs) const {
  const auto& info = project_.info();
  const bool xz = plane == "xz";
  UNIEM_CHECK((xz || plane == "yz") && at >= 0 && at < info.shape[xz ? 1 : 2], "Session::label_plane: out of range");
  const ChunkStore& store = project_.labels();
  const auto cs = info.label_chunk;
  const int64_t nz = info.shape[0], n = info.shape[xz ? 2 : 1], along = xz ? 2 : 1;
  const auto index = [&](int64_t cz, int64_t c) {
    return xz ? store.index_of(cz, at / cs[1], c) : store.index_of(cz, c, at / cs[2]);
  };
  std::vector<int64_t> wanted;
  for (int64_t cz = 0; cz < store.grid()[0]; ++cz)
    for (int64_t c = 0; c < store.grid()[along]; ++c) wanted.push_back(index(cz, c));
  load(wanted);
  std::vector<uint32_t> voxels(static_cast<size_t>(nz * n));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int64_t z = 0; z < nz; ++z)
      for (int64_t c = 0; c < store.grid()[along]; ++c) {
        const Volume& v = chunk(index(z / cs[0], c));
        uint32_t* row = voxels.data() + z * n + c * cs[along];
        const int64_t count = xz ? v.nx() : v.ny();
        for (int64_t k = 0; k < count; ++k)
          row[k] = xz ? v.at<uint32_t>(z % cs[0], at % cs[1], k) : v.at<uint32_t>(z % cs[0], k, at % cs[2]);
      }
    trim();
  }
  if (!runs) return std::string(reinterpret_cast<const char*>(voxels.data()), voxels.size() * 4);
  std::vector<uint32_t> pairs;
  for (size_t i = 0; i < voxels.size();) {
    size_t end = i + 1;
    while (end < voxels.size() && voxels[end] == voxels[i]) ++end;
    pairs.insert(pairs.end(), {voxels[i], static_cast<uint32_t>(end - i)});
    i = end;
  }
  return std::string(reinterpret_cast<const char*>(pairs.data()), pairs.size() * 4);
}

std::string Session::label_runs(int64_t z, int level) const {
  const int64_t nx = project_.level_size(level)[1];
  std::vector<uint32_t> runs;
  runs.reserve(8192);
  uint32_t id = 0, count = 0;
  for_each_row(z, level, [&](int64_t, const uint32_t* row) {
    for (int64_t x = 0; x < nx; ++x) {
      if (row[x] == id && count > 0) {
        ++count;
        continue;
      }
      if (count > 0) runs.insert(runs.end(), {id, count});
      id = row[x];
      count = 1;
    }
  });
  if (count > 0) runs.insert(runs.end(), {id, count});
  return std::string(reinterpret_cast<const char*>(runs.data()), runs.size() * 4);
}

json Session::segments() const {
  std::lock_guard<std::mutex> lock(mutex_);
  json list = json::array();
  for (const auto& [id, s] : segments_) {
    const auto name = values_.find(id_key("name", id));
    list.push_back({{"id", id},
                    {"voxels", s.voxels},
                    {"name", name == values_.end() ? "" : name->get<std::string>()},
                    {"colour", colour_of(id)},
                    {"locked_by", lock_owner(id)},
                    {"checked_by", checker(id)}});
  }
  return list;
}

json Session::segment_page(const SegmentQuery& query) const {
  UNIEM_CHECK(query.offset >= 0 && query.count >= 0, "segment_page: negative offset or count");
  std::string search = query.search;
  auto lower = [](std::string t) {
    for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return t;
  };
  search = lower(search);
  struct Row {
    uint32_t id;
    int64_t voxels;
    std::string name;
  };
  std::vector<Row> rows;
  json annotated = json::array();
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [id, s] : segments_) {
    const auto name = values_.find(id_key("name", id));
    Row row{id, s.voxels, name == values_.end() ? "" : name->get<std::string>()};
    const std::string owner = lock_owner(id), colour = colour_of(id);
    if (!row.name.empty() || !owner.empty() || !colour.empty())
      annotated.push_back({{"id", id}, {"name", row.name}, {"colour", colour}, {"locked_by", owner}});
    if (!search.empty() && std::to_string(id).find(search) == std::string::npos &&
        lower(row.name).find(search) == std::string::npos)
      continue;
    rows.push_back(std::move(row));
  }
  // Ties in size or name go by rising id, so that pages do not overlap.
  const bool down = query.descending;
  auto order = [&](const Row& a, const Row& b) {
    if (query.sort == "voxels" && a.voxels != b.voxels) return down ? a.voxels > b.voxels : a.voxels < b.voxels;
    if (query.sort == "name" && a.name != b.name) return down ? a.name > b.name : a.name < b.name;
    return query.sort == "id" && down ? a.id > b.id : a.id < b.id;
  };
  const size_t from = static_cast<size_t>(std::min<int64_t>(query.offset, static_cast<int64_t>(rows.size())));
  const size_t to = from + static_cast<size_t>(std::min<int64_t>(query.count, static_cast<int64_t>(rows.size() - from)));
  std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(to), rows.end(), order);
  json items = json::array();
  for (size_t k = from; k < to; ++k)
    items.push_back({{"id", rows[k].id}, {"voxels", rows[k].voxels}, {"name", rows[k].name}, {"colour", colour_of(rows[k].id)},
                     {"locked_by", lock_owner(rows[k].id)}, {"checked_by", checker(rows[k].id)}});
  return json{{"total", segments_.size()}, {"matching", rows.size()}, {"offset", from}, {"items", items}, {"annotated", annotated}};
}

json Session::markers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  json list = json::array();
  for (auto it = values_.begin(); it != values_.end(); ++it)
    if (it.key().rfind("marker/", 0) == 0) {
      json m = it.value();
      m["key"] = it.key();
      list.push_back(m);
    }
  std::sort(list.begin(), list.end(), [](const json& a, const json& b) {
    return std::stoll(a["key"].get<std::string>().substr(7)) < std::stoll(b["key"].get<std::string>().substr(7));
  });
  return list;
}

json Session::fill_preview(int64_t z, int64_t y, int64_t x) const {
  const auto shape = project_.info().shape;
  if (z < 0 || z >= shape[0] || y < 0 || y >= shape[1] || x < 0 || x >= shape[2])
    throw RequestError(400, "(z, y, x) lies outside the volume");
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<int64_t> region = flood(z, y, x);
  std::sort(region.begin(), region.end());  // raster order
  int64_t y0 = INT64_MAX, x0 = INT64_MAX, y1 = 0, x1 = 0;
  for (const int64_t i : region) {
    y0 = std::min(y0, i / shape[2]);
    y1 = std::max(y1, i / shape[2] + 1);
    x0 = std::min(x0, i % shape[2]);
    x1 = std::max(x1, i % shape[2] + 1);
  }
  // Run lengths over the box, alternately outside and inside the region.
  json runs = json::array();
  int64_t at = 0, out = 0;  // position in the box's raster; length of the run outside
  for (size_t k = 0; k < region.size();) {
    const int64_t i = region[k], here = (i / shape[2] - y0) * (x1 - x0) + (i % shape[2] - x0);
    out = here - at;
    size_t n = 1;
    while (k + n < region.size() && region[k + n] == i + static_cast<int64_t>(n) && (i + static_cast<int64_t>(n)) % shape[2] < x1) ++n;
    runs.push_back(out);
    runs.push_back(n);
    at = here + static_cast<int64_t>(n);
    k += n;
  }
  const int64_t voxels = static_cast<int64_t>(region.size());
  return json{{"z", z}, {"y", y}, {"x", x}, {"from", voxel(z, y, x)}, {"voxels", voxels},
              {"box", {y0, x0, y1, x1}}, {"runs", std::move(runs)},
              {"large", voxels > options_.max_fill_voxels}, {"limit", options_.max_fill_voxels}};
}

json Session::locate(uint32_t id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = segments_.find(id);
  if (it == segments_.end() || it->second.voxels == 0) throw RequestError(404, "segment " + std::to_string(id) + " does not exist");
  const auto box = segment_box(id);
  // A segment need not be on every section of its box: the section nearest the middle that holds
  // it, and there its voxel nearest the centre of the box.
  const int64_t middle = (box[0] + box[3] - 1) / 2;
  const double cy = 0.5 * static_cast<double>(box[1] + box[4] - 1), cx = 0.5 * static_cast<double>(box[2] + box[5] - 1);
  int64_t best_z = -1, best_y = -1, best_x = -1;
  for (int64_t step = 0; best_z < 0 && step <= box[3] - box[0]; ++step)
    for (const int64_t z : {middle - step, middle + step}) {
      if (best_z >= 0 || z < box[0] || z >= box[3]) continue;
      double best = 1e300;
      for (int64_t y = box[1]; y < box[4]; ++y)
        for (int64_t x = box[2]; x < box[5]; ++x)
          if (voxel(z, y, x) == id) {
            const double d = (static_cast<double>(y) - cy) * (static_cast<double>(y) - cy) +
                             (static_cast<double>(x) - cx) * (static_cast<double>(x) - cx);
            if (d < best) {
              best = d;
              best_z = z;
              best_y = y;
              best_x = x;
            }
          }
    }
  trim();
  return json{{"id", id}, {"voxels", it->second.voxels}, {"box", box}, {"z", best_z}, {"y", best_y}, {"x", best_x}};
}

json Session::history(int64_t count) const {
  std::lock_guard<std::mutex> lock(mutex_);
  json list = json::array();
  for (int64_t k = std::max<int64_t>(0, static_cast<int64_t>(packed_.size()) - count); k < static_cast<int64_t>(packed_.size()); ++k) {
    const Record r = unpack(packed_[static_cast<size_t>(k)], "journal");
    list.push_back({{"version", r.seq}, {"kind", r.kind}, {"user", r.user}, {"op", r.op}, {"time", r.time}});
  }
  return list;
}

json Session::wait_events(int64_t seen, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return version_ > seen || stopping_; });
  if (seen >= version_) return json{{"version", version_}, {"events", json::array()}};
  if (events_.empty() || events_.front()["version"].get<int64_t>() > seen + 1)
    return json{{"version", version_}, {"reload", true}};
  json list = json::array();
  for (const auto& e : events_)
    if (e["version"].get<int64_t>() > seen) list.push_back(e);
  return json{{"version", version_}, {"events", list}};
}

Volume Session::labels(int bits, int64_t* version) const {
  UNIEM_CHECK(bits == 0 || bits == 8 || bits == 16 || bits == 32, "Session::labels: bits is 0, 8, 16 or 32");
  const auto shape = project_.info().shape;
  Volume v(DType::u32, shape[0], shape[1], shape[2]);
  v.voxel_size = project_.info().voxel_size;
  const ChunkStore& store = project_.labels();
  const auto place = [&v, &store](int64_t i, const Volume& chunk) {
    const auto o = store.origin(i), e = store.extent(i);
    for (int64_t z = 0; z < e[0]; ++z)
      for (int64_t y = 0; y < e[1]; ++y)
        std::memcpy(&v.at<uint32_t>(o[0] + z, o[1] + y, o[2]), &chunk.at<uint32_t>(z, y, 0), static_cast<size_t>(e[2]) * 4);
  };
  // Without holding the lock that every other user waits on through the disk reads: chunk by
  // chunk, one in memory copied under the lock, the others read from disk, where they are as they
  // are now while they are not in memory (only an edit loads and changes one, and moves the
  // version). When the version moved meanwhile the copy is made again; the third time under the
  // lock throughout.
  for (int attempt = 0;; ++attempt) {
    const bool hold = attempt == 2;
    std::unique_lock<std::mutex> whole(mutex_, std::defer_lock);
    if (hold) whole.lock();
    const int64_t start = hold ? version_ : this->version();
    bool moved = false;
    for (int64_t i = 0; i < store.chunk_count() && !moved; ++i) {
      {
        std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
        if (!hold) lock.lock();
        if (const std::unique_ptr<Volume>& cached = chunks_[static_cast<size_t>(i)]) {
          place(i, *cached);
          continue;
        }
      }
      try {
        place(i, store.read(i));
      } catch (const InputError&) {
        if (hold) throw;
        moved = true;  // written meanwhile: an edit loaded it, changed it and saved it
      }
    }
    if (hold || (!moved && this->version() == start)) {
      if (version) *version = start;
      break;
    }
  }
  if (bits == 0) return shrink_to_fit(v);
  if (bits == 32) return v;
  return convert_dtype(v, bits == 8 ? DType::u8 : DType::u16, DepthPolicy::exact);
}

std::pair<int64_t, int64_t> Session::segment_state(uint32_t id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = segments_.find(id);
  if (it == segments_.end() || it->second.voxels == 0) throw RequestError(404, "segment " + std::to_string(id) + " does not exist");
  return {it->second.voxels, it->second.changed};
}

std::array<int64_t, 6> Session::segment_bounds(uint32_t id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = segments_.find(id);
  if (it == segments_.end() || it->second.voxels == 0) throw RequestError(404, "segment " + std::to_string(id) + " does not exist");
  const auto box = segment_box(id);
  trim();
  return box;
}

Volume Session::segment_mask(uint32_t id, int64_t step, std::array<int64_t, 6>& box, int64_t& changed) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = segments_.find(id);
  if (it == segments_.end() || it->second.voxels == 0) throw RequestError(404, "segment " + std::to_string(id) + " does not exist");
  changed = it->second.changed;
  box = segment_box(id);
  const ChunkStore& store = project_.labels();
  auto size = [&](int a) { return (box[3 + a] - box[a] + step - 1) / step; };
  Volume mask(DType::u8, size(0), size(1), size(2));
  const VoxelSize& vs = project_.info().voxel_size;
  mask.voxel_size = {vs.z * static_cast<double>(step), vs.y * static_cast<double>(step), vs.x * static_cast<double>(step), vs.known};
  uint8_t* m = mask.data<uint8_t>();
  for (int64_t i : it->second.chunks) {
    const Volume& c = chunk(i);
    const auto o = store.origin(i);
    const uint32_t* p = c.data<uint32_t>();
    for (int64_t z = 0, k = 0; z < c.nz(); ++z)
      for (int64_t y = 0; y < c.ny(); ++y)
        for (int64_t x = 0; x < c.nx(); ++x, ++k) {
          if (p[k] != id) continue;
          const int64_t at[3] = {o[0] + z - box[0], o[1] + y - box[1], o[2] + x - box[2]};
          if (at[0] % step || at[1] % step || at[2] % step) continue;
          m[((at[0] / step) * mask.ny() + at[1] / step) * mask.nx() + at[2] / step] = 1;
        }
  }
  trim();
  return mask;
}

}  // namespace uniem::web
