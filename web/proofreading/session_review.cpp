// The review queue of a Session (session.h review()): the candidates of review_queue.h over the
// labels as they are, with who checked each segment, the markers, and the progress.
#include "web/proofreading/session.h"

using nlohmann::json;

namespace uniem::web {

json Session::review(const ReviewRules& rules) const {
  std::shared_ptr<const std::map<uint32_t, SegmentShape>> scan;
  int64_t scanned = 0;
  {
    // One scan at a time; others wait for it and use it. The labels are read a section at a time,
    // the session's lock held for each section only, so that edits go on meanwhile; a scan made
    // before the last change of voxels (or during it) is made again.
    std::lock_guard<std::mutex> one_at_a_time(review_mutex_);
    int64_t changed = 0, version = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      changed = labels_changed_;
      version = version_;
    }
    if (!review_scan_ || review_scan_changed_ < changed) {
      const auto& shape = project_.info().shape;
      std::string section;
      review_scan_ = std::make_shared<const std::map<uint32_t, SegmentShape>>(scan_segments(shape, [&](int64_t z) {
        section = label_slice(z, 0);
        return reinterpret_cast<const uint32_t*>(section.data());
      }));
      review_scan_changed_ = changed;
      review_scan_version_ = version;
    }
    scan = review_scan_;
    scanned = review_scan_version_;
  }
  const auto& info = project_.info();
  json result = review_candidates(*scan, {info.shape[0], info.shape[1], info.shape[2]}, rules);
  const json marker_list = markers();
  std::lock_guard<std::mutex> lock(mutex_);
  json kept = json::array();
  for (json& c : result["candidates"]) {
    const uint32_t id = c["id"].get<uint32_t>();
    if (!segments_.count(id)) continue;  // deleted or merged away since the scan
    c["checked_by"] = checker(id);
    kept.push_back(std::move(c));
  }
  result["candidates"] = std::move(kept);
  result["markers"] = marker_list;
  int64_t voxels = 0, checked = 0, checked_voxels = 0;
  for (const auto& [id, s] : segments_) {
    voxels += s.voxels;
    if (!checker(id).empty()) {
      ++checked;
      checked_voxels += s.voxels;
    }
  }
  result["progress"] = {{"segments", segments_.size()}, {"checked", checked}, {"voxels", voxels}, {"checked_voxels", checked_voxels}};
  result["version"] = version_;
  result["scanned"] = scanned;  // the version the candidates are of
  return result;
}

}  // namespace uniem::web
