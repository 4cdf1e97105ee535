// The review queue (web/proofreading/review_queue.h) on a volume made to hold one segment of each
// kind, through a Session (session.h review, the 'check' edit): progress, undo, refusals, what
// survives a crash and a restart, a scan made again after voxels change; and the route /api/review.
#include <doctest/doctest.h>

#include "tests/test_support.h"
#include "tests/web/session_requests.h"
#include "tests/web/served.h"
#include "web/proofreading/project.h"
#include "web/proofreading/review_queue.h"
#include "web/proofreading/session.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace uniem;
using namespace uniem::web;
using uniem::test::quiet;
using uniem::test::request;

namespace {

// 5 x 60 x 80 voxels (the rim is 2 voxels): segments 1-5 of 4 x 10 voxels on every section (200
// voxels each, the median); 7, 20 x 25 on every section (2500, 12 times the median); 6, three
// voxels on section 2 (small); 8, 4 x 10 on sections 0, 1, 3 and 4 (a gap at 2); 9, two columns
// at the left side (edge); 10, 4 x 10 on the last section only (edge).
Volume made_labels() {
  Volume v(DType::u32, 5, 60, 80);
  auto box = [&](uint32_t id, int64_t z0, int64_t z1, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
    for (int64_t z = z0; z < z1; ++z)
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x) v.at<uint32_t>(z, y, x) = id;
  };
  for (uint32_t k = 0; k < 5; ++k) box(k + 1, 0, 5, 4, 8, 5 + 12 * k, 15 + 12 * k);
  box(7, 0, 5, 20, 40, 20, 45);
  box(6, 2, 3, 50, 51, 50, 53);
  box(8, 0, 2, 45, 49, 60, 70);
  box(8, 3, 5, 45, 49, 60, 70);
  box(9, 0, 5, 20, 30, 0, 2);
  box(10, 4, 5, 50, 54, 20, 30);
  return v;
}

std::vector<uint32_t> ids_of(const json& candidates) {
  std::vector<uint32_t> ids;
  for (const auto& c : candidates) ids.push_back(c["id"].get<uint32_t>());
  return ids;
}

std::string why(const json& candidate) {
  std::string all;
  for (const auto& r : candidate["reasons"]) all += (all.empty() ? "" : ",") + r["why"].get<std::string>();
  return all;
}

}  // namespace

TEST_CASE("review queue: each kind of candidate found once, with its reason, in order") {
  const Volume labels = made_labels();
  const auto shapes = scan_segments(labels);
  REQUIRE(shapes.size() == 10);
  CHECK(shapes.at(8).runs.size() == 2);
  CHECK((shapes.at(8).runs[0].z0 == 0 && shapes.at(8).runs[0].z1 == 1 && shapes.at(8).runs[1].z0 == 3));
  CHECK((shapes.at(8).runs[0].y == 45 && shapes.at(8).runs[0].x == 60));  // the first voxel on section 1
  CHECK(shapes.at(7).box == std::array<int64_t, 6>{0, 20, 20, 5, 40, 45});

  const json r = review_candidates(shapes, {5, 60, 80}, {});
  CHECK(r["median"] == 200);
  CHECK(r["small_below"] == 20);
  CHECK(r["large_above"] == 2000);
  CHECK(r["rim"] == 2);
  const json& c = r["candidates"];
  CHECK(ids_of(c) == std::vector<uint32_t>{7, 6, 8, 9, 10});
  CHECK(why(c[0]) == "large");
  CHECK(c[0]["reasons"][0]["text"].get<std::string>().find("12 times the median (200)") != std::string::npos);
  CHECK(why(c[1]) == "small");
  CHECK(c[1]["reasons"][0]["text"].get<std::string>().find("3 voxels, fewer than 20") != std::string::npos);
  CHECK(why(c[2]) == "gap");
  CHECK(c[2]["reasons"][0]["text"].get<std::string>().find("missing in section 2, present in sections 1 and 3") != std::string::npos);
  CHECK((c[2]["z"] == 1 && c[2]["y"] == 45 && c[2]["x"] == 60));
  CHECK(!c[1].contains("z"));  // shown where Session::locate finds it
  CHECK(why(c[3]) == "edge");
  CHECK(c[3]["reasons"][0]["text"].get<std::string>().find("within 2 voxels of the left side") != std::string::npos);
  CHECK(c[4]["reasons"][0]["text"].get<std::string>().find("only in the last section") != std::string::npos);

  // A threshold given: segments 9 (100 voxels) and 10 (40) are small too, listed once with both reasons.
  ReviewRules rules;
  rules.small_below = 150;
  const json r2 = review_candidates(shapes, {5, 60, 80}, rules);
  CHECK(ids_of(r2["candidates"]) == std::vector<uint32_t>{7, 6, 9, 10, 8});
  CHECK(why(r2["candidates"][2]) == "small,edge");
  // A volume of one section has no first-or-last-section edge; nothing of an empty one.
  CHECK(review_candidates({}, {1, 10, 10}, {})["candidates"].empty());
}

TEST_CASE("review queue: checking segments is an edit like a name; progress, undo, locks, restart") {
  test::TempDir dir("uniem-review");
  const fs::path project = dir / "project";
  const Volume labels = made_labels();
  Volume image(DType::u8, 5, 60, 80), labels16(DType::u16, 5, 60, 80);
  for (int64_t i = 0; i < labels.voxels(); ++i) {
    image.data<uint8_t>()[i] = 120;
    labels16.data<uint16_t>()[i] = static_cast<uint16_t>(labels.data<uint32_t>()[i]);
  }
  create_project(project, image, &labels16, "image", "labels");
  SessionOptions o;
  o.flush_seconds = 0;
  const int64_t total = 5 * 200 + 3 + 2500 + 160 + 100 + 40;
  {
    Session s(project, o);
    json r = s.review({});
    CHECK(ids_of(r["candidates"]) == std::vector<uint32_t>{7, 6, 8, 9, 10});
    CHECK(r["progress"] == json({{"segments", 10}, {"checked", 0}, {"voxels", total}, {"checked_voxels", 0}}));
    CHECK(r["markers"].empty());

    CHECK(s.apply(request("check", "ann", 0, {{"id", 7}, {"checked", true}}))["version"] == 1);
    r = s.review({});
    CHECK(r["candidates"][0]["checked_by"] == "ann");
    CHECK(r["candidates"][1]["checked_by"] == "");
    CHECK(r["progress"] == json({{"segments", 10}, {"checked", 1}, {"voxels", total}, {"checked_voxels", 2500}}));
    CHECK(s.segments()[6]["checked_by"] == "ann");
    // Checked again by another: the first checker stays, nothing is recorded.
    CHECK(s.apply(request("check", "bea", 1, {{"id", 7}, {"checked", true}}))["changed"] == 0);
    CHECK(s.version() == 1);

    // Undo takes the check back; redo gives it again.
    json u = s.apply(request("undo", "ann", 1));
    CHECK(u["of"]["op"] == "check");
    CHECK(s.review({})["progress"]["checked"] == 0);
    s.apply(request("redo", "ann", 2));
    CHECK(s.review({})["progress"]["checked_voxels"] == 2500);

    // Refusals change nothing: a malformed request, an unknown segment, another's lock.
    CHECK_THROWS_AS(s.apply(request("check", "ann", 3, {{"id", 6}})), RequestError);
    CHECK_THROWS_AS(s.apply(request("check", "ann", 3, {{"id", 6}, {"checked", "yes"}})), RequestError);
    CHECK_THROWS_AS(s.apply(request("check", "ann", 3, {{"id", 99}, {"checked", true}})), RequestError);
    s.apply(request("lock", "bea", 3, {{"id", 6}}));
    CHECK_THROWS_AS(s.apply(request("check", "ann", 4, {{"id", 6}, {"checked", true}})), RequestError);
    CHECK(s.version() == 4);

    // Painting changes voxels: the scan is made again and the new speck is a small fragment;
    // a marker joins the queue.
    const json painted = s.apply(request("paint", "ann", 4, {{"z", 2}, {"points", {{55, 70}}}, {"radius", 1}, {"id", "new"}}));
    const uint32_t speck = painted["id"].get<uint32_t>();
    s.apply(request("marker", "ann", 5, {{"z", 1}, {"y", 30}, {"x", 30}, {"note", "merge?"}}));
    r = s.review({});
    CHECK(r["scanned"] == 6);
    CHECK(ids_of(r["candidates"]) == std::vector<uint32_t>{7, 6, speck, 8, 9, 10});
    REQUIRE(r["markers"].size() == 1);
    CHECK((r["markers"][0]["note"] == "merge?" && r["markers"][0]["segment"] == 7));
    s.apply(request("check", "ann", 6, {{"id", 9}, {"checked", true}}));
    s.apply(request("delete", "ann", 7, {{"id", 10}}));  // deleted: no longer listed or counted
    r = s.review({});
    CHECK(ids_of(r["candidates"]) == std::vector<uint32_t>{7, 6, speck, 8, 9});
    CHECK(r["progress"]["checked"] == 2);
    CHECK(r["progress"]["segments"] == 10);
    // What the disk holds if the server dies now: the marks are in the journal only.
    fs::copy(project, dir / "crashed", fs::copy_options::recursive);
    fs::remove(dir / "crashed" / "lock");
  }
  // Reopened after the crash (the journal replayed) and after a clean stop: who checked what is still there.
  for (const fs::path& folder : {dir / "crashed", project}) {
    Session again(folder, o);
    if (folder == dir / "crashed") CHECK(again.recovery_note().find("recovered 8 edit(s)") != std::string::npos);
    const json r = again.review({});
    CHECK(r["progress"]["checked"] == 2);
    CHECK(r["progress"]["checked_voxels"] == 2600);
    CHECK(r["candidates"][0]["checked_by"] == "ann");
  }
  Session s(project, o);
  // Unchecking is an edit too.
  s.apply(request("check", "ann", s.version(), {{"id", 7}, {"checked", false}}));
  CHECK(s.review({})["progress"]["checked_voxels"] == 100);
}

TEST_CASE("review queue: the route gives the queue, takes a threshold, refuses a bad one") {
  test::Served served;
  auto client = served.client();
  auto get = [&](const std::string& path) {
    const auto r = client.Get(path);
    REQUIRE(r);
    return std::make_pair(r->status, json::parse(r->body));
  };
  auto [status, r] = get("/api/review");
  CHECK(status == 200);
  CHECK(r["median"] == 4 * 96 * 48);
  CHECK(r["candidates"].empty());  // two halves of the same size, neither at the edge only
  CHECK(r["progress"] == json({{"segments", 2}, {"checked", 0}, {"voxels", 4 * 96 * 96}, {"checked_voxels", 0}}));
  std::tie(status, r) = get("/api/review?small=20000");
  CHECK(ids_of(r["candidates"]) == std::vector<uint32_t>{1, 2});
  CHECK(r["small_below"] == 20000);
  std::tie(status, r) = get("/api/review?small=many");
  CHECK(status == 400);
  CHECK(r["error"].get<std::string>().find("small") != std::string::npos);

  const auto edit = client.Post("/api/edit", request("check", "ann", 0, {{"id", 2}, {"checked", true}}).dump(), "application/json");
  REQUIRE(edit);
  CHECK(edit->status == 200);
  std::tie(status, r) = get("/api/review?small=20000");
  CHECK(r["candidates"][1]["checked_by"] == "ann");
  CHECK(r["progress"]["checked_voxels"] == 4 * 96 * 48);
  std::tie(status, r) = get("/api/segments");
  CHECK(r[1]["checked_by"] == "ann");
}
