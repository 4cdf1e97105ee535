// The ground-truth operations of a Session (web/proofreading/session.h): a segment's outline
// copied to another section, and the sections between two painted ones filled with the shape
// interpolated between them (web/proofreading/shape_interpolation.h). Each is one Change, one
// journal record, one step of undo, committed like a stroke: stale-checked against the version
// the page shows, refused where a segment it would change is locked by someone else.
#include <algorithm>

#include "web/proofreading/session.h"
#include "web/proofreading/session_change.h"
#include "web/proofreading/session_request.h"
#include "web/proofreading/shape_interpolation.h"

using nlohmann::json;

namespace uniem::web {
using namespace request_fields;

std::vector<int64_t> Session::section_voxels(uint32_t id, int64_t z) const {
  std::vector<int64_t> out;
  const auto it = segments_.find(id);
  if (it == segments_.end()) return out;
  const ChunkStore& store = project_.labels();
  const int64_t nx = project_.info().shape[2];
  for (const int64_t i : it->second.chunks) {
    const auto o = store.origin(i), e = store.extent(i);
    if (z < o[0] || z >= o[0] + e[0]) continue;
    const Volume& c = chunk(i);
    for (int64_t y = 0; y < e[1]; ++y) {
      const uint32_t* row = &c.at<uint32_t>(z - o[0], y, 0);
      for (int64_t x = 0; x < e[2]; ++x)
        if (row[x] == id) out.push_back((o[1] + y) * nx + o[2] + x);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

json Session::op_ground_truth(const json& request, const std::string& user, int64_t version) {
  const auto shape = project_.info().shape;
  const std::string op = request.at("op").get<std::string>();
  const uint32_t id = static_cast<uint32_t>(integer(request, "id", 1, UINT32_MAX));
  // Into background only unless the person chose to overwrite other segments.
  const bool protect = !request.contains("protect") || flag(request, "protect");
  const bool copy = op == "copy";
  const int64_t z1 = integer(request, copy ? "z" : "z1", 0, shape[0] - 1);
  const int64_t z2 = integer(request, copy ? "to" : "z2", 0, shape[0] - 1);
  if (copy && z2 == z1) bad("'to' is the section the outline goes to; it must differ from 'z' (" + std::to_string(z1) + ")");
  if (!copy && z2 < z1 + 2)
    bad("'z2' must be at least z1 + 2 (z1 is " + std::to_string(z1) + "): there must be a section between the two to fill");
  check_segment(id, user, version);
  const std::string name = "segment " + std::to_string(id);
  const std::vector<int64_t> first = section_voxels(id, z1);
  if (first.empty())
    bad(name + " has no voxels on section " + std::to_string(z1) + " ('" + (copy ? "z" : "z1") + "')" +
        (copy ? "; go to a section where it is painted" : "; paint it there first"));
  Change change(*this);
  int64_t kept = 0;  // voxels of other segments left as they were (protect)
  auto put = [&](int64_t z, int64_t y, int64_t x) {
    const uint32_t now = change.get(z, y, x);
    if (now == id) return;
    if (protect && now != 0) {
      ++kept;
      return;
    }
    change.set(z, y, x, id);
  };
  json summary{{"op", op}, {"id", id}, {"protect", protect}};
  if (copy) {
    for (const int64_t i : first) put(z2, i / shape[2], i % shape[2]);
    summary.update({{"z", z1}, {"to", z2}});
  } else {
    const std::vector<int64_t> last = section_voxels(id, z2);
    if (last.empty()) bad(name + " has no voxels on section " + std::to_string(z2) + " ('z2'); paint it there first");
    // The box of both outlines: the interpolated shapes lie within their union.
    int64_t y0 = shape[1], x0 = shape[2], y1 = 0, x1 = 0;
    for (const auto* list : {&first, &last})
      for (const int64_t i : *list) {
        y0 = std::min(y0, i / shape[2]);
        y1 = std::max(y1, i / shape[2] + 1);
        x0 = std::min(x0, i % shape[2]);
        x1 = std::max(x1, i % shape[2] + 1);
      }
    const int64_t gaps = z2 - z1 - 1, by = y1 - y0, bx = x1 - x0;
    if (gaps * by * bx > options_.max_edit_voxels)
      throw RequestError(413, "the sections between are too large to fill at once (" + std::to_string(gaps) + " sections of " +
                                  std::to_string(by) + " x " + std::to_string(bx) + " voxels); interpolate over fewer sections");
    Volume a(DType::u8, 1, by, bx), b(DType::u8, 1, by, bx);
    for (const int64_t i : first) a.at<uint8_t>(0, i / shape[2] - y0, i % shape[2] - x0) = 1;
    for (const int64_t i : last) b.at<uint8_t>(0, i / shape[2] - y0, i % shape[2] - x0) = 1;
    const Volume shapes = interpolate_masks(a, b, gaps);
    for (int64_t k = 0; k < gaps; ++k)
      for (int64_t y = 0; y < by; ++y) {
        const uint8_t* row = &shapes.at<uint8_t>(k, y, 0);
        for (int64_t x = 0; x < bx; ++x)
          if (row[x]) put(z1 + 1 + k, y0 + y, x0 + x);
      }
    summary.update({{"z1", z1}, {"z2", z2}});
  }
  summary["kept"] = kept;
  json result = commit(change, summary, user, "edit", 0, {}, version);
  result["id"] = id;
  result["kept"] = kept;
  return result;
}

}  // namespace uniem::web
