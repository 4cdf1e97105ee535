// The proofreading session without HTTP: every operation and its undo, refusals that change
// nothing, and recovery from the journal after a crash (web/proofreading/session.h, journal.h).
#include <doctest/doctest.h>
#include <zlib.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include "io/chunk_store.h"
#include "tests/test_support.h"
#include "tests/web/session_requests.h"
#include "web/proofreading/project.h"
#include "web/proofreading/session.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace uniem;
using namespace uniem::web;
using uniem::test::quiet;
using uniem::test::request;

namespace {

// 10 x 160 x 260 voxels: 2 x 2 x 3 label chunks. Bright image with a dark membrane along
// x = 130; segments: 1 (x < 100), 2 (x >= 200), 3 (100 <= x < 200, crossing the membrane).
struct Fixture {
  test::TempDir dir{"uniem-session"};
  fs::path project = dir / "project";
  Fixture() {
    Volume image(DType::u8, 10, 160, 260), labels(DType::u16, 10, 160, 260);
    for (int64_t z = 0; z < 10; ++z)
      for (int64_t y = 0; y < 160; ++y)
        for (int64_t x = 0; x < 260; ++x) {
          image.at<uint8_t>(z, y, x) = std::abs(x - 130) <= 1 ? 20 : 200;
          labels.at<uint16_t>(z, y, x) = x < 100 ? 1 : x < 200 ? 3 : 2;
        }
    create_project(project, image, &labels, "image", "labels");
  }
};

int64_t voxels_of(const Session& s, uint32_t id) {
  for (const auto& seg : s.segments())
    if (seg["id"] == id) return seg["voxels"].get<int64_t>();
  return 0;
}

int refusal(Session& s, const json& r) {
  try {
    s.apply(r);
  } catch (const RequestError& e) {
    return e.status;
  }
  return 200;
}

void copy_folder(const fs::path& from, const fs::path& to) {
  fs::copy(from, to, fs::copy_options::recursive);
  fs::remove(to / "lock");
}

}  // namespace

TEST_CASE("project: import makes chunks, pyramid and segment table; bad input is refused whole") {
  Fixture f;
  const Project p(f.project);
  CHECK(p.info().shape == std::array<int64_t, 3>{10, 160, 260});
  CHECK(p.labels().grid() == std::array<int64_t, 3>{2, 2, 3});
  CHECK(p.image_section(4, 0).at<uint8_t>(0, 5, 130) == 20);
  Session s(f.project, quiet());
  CHECK(s.segments().size() == 3);
  CHECK(voxels_of(s, 1) == 10 * 160 * 100);
  CHECK(s.label_at(9, 159, 259) == 2);

  test::TempDir dir;
  Volume image(DType::f32, 2, 8, 8), labels(DType::u8, 2, 8, 9), grey(DType::u8, 2, 8, 8);
  CHECK(test::input_error_message([&] { create_project(dir / "a", image, nullptr, "im.tif", ""); }).find("im.tif") !=
        std::string::npos);
  CHECK(test::input_error_message([&] { create_project(dir / "b", grey, &labels, "im", "lab.tif"); }).find("lab.tif: has shape") !=
        std::string::npos);
  CHECK(test::input_error_message([&] { create_project(f.project, grey, nullptr, "im", ""); }).find("already exists") !=
        std::string::npos);
  CHECK(!fs::exists(dir / "a"));
  CHECK(!fs::exists(dir / "b"));
}

TEST_CASE("session: paint, erase, fill, merge, delete, each undone and redone") {
  Fixture f;
  Session s(f.project, quiet());
  // Paint a new segment across a chunk border (y = 128).
  json r = s.apply(request("paint", "ann", 0, {{"z", 2}, {"points", {{120, 50}, {136, 50}}}, {"radius", 2}, {"id", "new"}}));
  CHECK(r["version"] == 1);
  CHECK(r["id"] == 4);
  CHECK(s.label_at(2, 128, 50) == 4);
  CHECK(s.label_at(2, 128, 53) == 1);
  const int64_t painted = voxels_of(s, 4);
  CHECK(painted == r["changed"].get<int64_t>());
  CHECK(voxels_of(s, 1) == 160000 - painted);

  s.apply(request("erase", "ann", 1, {{"z", 2}, {"points", {{128, 50}}}, {"radius", 1}}));
  CHECK(s.label_at(2, 128, 50) == 0);
  s.apply(request("undo", "ann", 2));
  CHECK(s.label_at(2, 128, 50) == 4);
  s.apply(request("redo", "ann", 3));
  CHECK(s.label_at(2, 128, 50) == 0);

  // Fill the erased hole (a 4-connected region of 0) with segment 2's id... on section 2 only.
  s.apply(request("fill", "ann", 4, {{"z", 2}, {"y", 128}, {"x", 50}, {"id", 2}}));
  CHECK(s.label_at(2, 128, 50) == 2);
  CHECK(s.label_at(2, 128, 49) == 2);
  // Fill segment 3 on section 5 with a new id: exactly its section.
  r = s.apply(request("fill", "ann", 5, {{"z", 5}, {"y", 10}, {"x", 150}, {"id", "new"}}));
  CHECK(r["changed"] == 160 * 100);
  CHECK(s.label_at(5, 10, 150) == 5);
  CHECK(s.label_at(4, 10, 150) == 3);

  // Merge 2 and 3 into 1 across all chunks, then undo.
  const int64_t before = voxels_of(s, 1) + voxels_of(s, 2) + voxels_of(s, 3);
  s.apply(request("merge", "ann", 6, {{"ids", {1, 2, 3}}}));
  CHECK(voxels_of(s, 1) == before);
  CHECK(voxels_of(s, 3) == 0);
  CHECK(s.label_at(9, 159, 259) == 1);
  s.apply(request("undo", "ann", 7));
  CHECK(s.label_at(9, 159, 259) == 2);
  CHECK(voxels_of(s, 1) + voxels_of(s, 2) + voxels_of(s, 3) == before);

  s.apply(request("delete", "ann", 8, {{"id", 5}}));
  CHECK(voxels_of(s, 5) == 0);
  CHECK(s.label_at(5, 10, 150) == 0);
  s.apply(request("undo", "ann", 9));
  CHECK(s.label_at(5, 10, 150) == 5);
  CHECK(s.version() == 10);
  CHECK(refusal(s, request("redo", "ann", 10)) == 200);  // redo the delete
  CHECK(s.label_at(5, 10, 150) == 0);
  CHECK(refusal(s, request("redo", "ann", 11)) == 409);  // nothing left to redo
}

TEST_CASE("session: split follows the membrane, in 2D and in 3D; undo joins again") {
  Fixture f;
  Session s(f.project, quiet());
  json r = s.apply(request("split", "ann", 0, {{"id", 3}, {"z", 4}, {"seeds", {{80, 110, 1}, {80, 190, 2}}}}));
  const uint32_t part = r["new_id"].get<uint32_t>();
  CHECK(part == 4);
  CHECK(r["changed"] == 160 * 69);  // x 131..199 on section 4 (the membrane's middle goes left)
  CHECK(s.label_at(4, 0, 129) == 3);
  CHECK(s.label_at(4, 159, 132) == 4);
  CHECK(s.label_at(3, 80, 190) == 3);  // other sections untouched in 2D

  s.apply(request("undo", "ann", 1));
  CHECK(s.label_at(4, 80, 190) == 3);
  r = s.apply(request("split", "ann", 2, {{"id", 3}, {"z", 4}, {"mode", "3d"}, {"seeds", {{80, 110, 1}, {80, 190, 2}}}}));
  CHECK(r["changed"] == 10 * 160 * 69);
  CHECK(s.label_at(0, 80, 190) == r["new_id"].get<uint32_t>());
  CHECK(s.label_at(9, 80, 110) == 3);

  // Seeds of one group only, or off the segment, are refused.
  CHECK(refusal(s, request("split", "ann", 3, {{"id", 3}, {"z", 4}, {"seeds", {{80, 110, 1}, {80, 20, 2}}}})) == 400);
}

TEST_CASE("session: a split computes without the lock; others edit meanwhile, and an edit in its box makes it refuse") {
  Fixture f;
  SessionOptions o = quiet();
  Session* session = nullptr;
  json meanwhile;
  o.while_splitting = [&] { session->apply(meanwhile); };
  Session s(f.project, o);
  session = &s;
  // Elsewhere (segment 1): both land.
  meanwhile = request("paint", "bea", 0, {{"z", 0}, {"points", {{10, 50}}}, {"radius", 3}, {"id", "new"}});
  json r = s.apply(request("split", "ann", 0, {{"id", 3}, {"z", 4}, {"mode", "3d"}, {"seeds", {{80, 110, 1}, {80, 190, 2}}}}));
  CHECK(r["new_id"] == 5);  // 4 went to bea's paint, made while the split was computed
  CHECK(s.label_at(0, 10, 50) == 4);
  CHECK(s.label_at(0, 80, 190) == 5);
  // In the split segment's box: the paint lands, the split is refused and changes nothing.
  meanwhile = request("paint", "bea", 2, {{"z", 1}, {"points", {{20, 120}}}, {"radius", 2}, {"id", 1}});
  CHECK(refusal(s, request("split", "ann", 2, {{"id", 3}, {"z", 4}, {"mode", "3d"}, {"seeds", {{80, 105, 1}, {80, 125, 2}}}})) == 409);
  CHECK(s.label_at(1, 20, 120) == 1);
  CHECK(s.label_at(4, 80, 125) == 3);
  CHECK(s.version() == 3);
}

TEST_CASE("session: an export reads without holding the lock; each is the state of the version it names") {
  Fixture f;
  Session s(f.project, quiet());
  const int64_t start = s.version();
  // Bea paints one stroke across four chunks again and again, alternately with ids 1 and 2, while
  // exports are made: each export has the stroke wholly as it was at its version.
  std::atomic<bool> done{false};
  std::thread painter([&] {
    for (int k = 1; k <= 60; ++k)
      s.apply(request("paint", "bea", s.version(), {{"z", 0}, {"points", {{10, 10}, {150, 250}}}, {"radius", 1}, {"id", k % 2 ? 1 : 2}}));
    done = true;
  });
  int exports = 0;
  for (bool last = false; !last; ++exports) {
    last = done;
    int64_t version = -1;
    const Volume v = s.labels(32, &version);
    const int64_t k = version - start;
    const uint32_t first = k == 0 ? 1 : k % 2 ? 1 : 2, second = k == 0 ? 2 : first;
    CHECK(v.at<uint32_t>(0, 10, 10) == first);
    CHECK(v.at<uint32_t>(0, 150, 250) == second);
    CHECK(v.at<uint32_t>(9, 150, 250) == 2);  // a chunk never loaded: read from disk
  }
  painter.join();
  CHECK(exports >= 2);
  int64_t version = -1;
  s.labels(32, &version);
  CHECK(version == start + 60);
}

TEST_CASE("session: locks, stale versions and bad requests are refused and change nothing") {
  Fixture f;
  Session s(f.project, quiet());
  s.apply(request("lock", "bea", 0, {{"id", 2}}));
  CHECK(s.segments()[1]["locked_by"] == "bea");
  const int64_t v = s.version();
  CHECK(refusal(s, request("paint", "ann", v, {{"z", 0}, {"points", {{10, 210}}}, {"radius", 3}, {"id", 1}})) == 409);
  CHECK(refusal(s, request("paint", "ann", v, {{"z", 0}, {"points", {{10, 50}}}, {"radius", 3}, {"id", 2}})) == 409);
  CHECK(refusal(s, request("merge", "ann", v, {{"ids", {1, 2}}})) == 409);
  CHECK(refusal(s, request("unlock", "ann", v, {{"id", 2}})) == 409);
  CHECK(refusal(s, request("paint", "bea", v, {{"z", 0}, {"points", {{10, 50}}}, {"radius", 3}, {"id", 2}})) == 200);
  CHECK(s.version() == v + 1);

  // Ann's page shows version v; Bea then changed segment 2 and unlocks it; Ann's merge is stale.
  s.apply(request("unlock", "bea", v + 1, {{"id", 2}}));
  CHECK(refusal(s, request("merge", "ann", v, {{"ids", {1, 2}}})) == 409);
  CHECK(refusal(s, request("merge", "ann", v + 2, {{"ids", {1, 2}}})) == 200);

  const int64_t now = s.version();
  const auto labels = s.labels();
  for (const json& bad : {json("text"), json{{"op", "paint"}}, request("paint", "ann", now + 5),
                          request("paint", "ann", now, {{"z", 10}, {"points", {{1, 1}}}, {"radius", 1}, {"id", 1}}),
                          request("paint", "ann", now, {{"z", 1}, {"points", {{1, 1000}}}, {"radius", 1}, {"id", 1}}),
                          request("paint", "ann", now, {{"z", 1}, {"points", json::array()}, {"radius", 1}, {"id", 1}}),
                          request("paint", "ann", now, {{"z", 1}, {"points", {{1, 1}}}, {"radius", 1e6}, {"id", 1}}),
                          request("paint", "ann", now, {{"z", 1}, {"points", {{1, 1}}}, {"radius", 1}, {"id", 99}}),
                          request("merge", "ann", now, {{"ids", {1, 1}}}), request("merge", "ann", now, {{"ids", {1, 77}}}),
                          request("delete", "ann", now, {{"id", -3}}), request("fill", "ann", now, {{"z", 1}, {"y", "a"}}),
                          request("frobnicate", "ann", now), json{{"op", "undo"}, {"user", "../../x"}, {"version", 0}},
                          request("unmark", "ann", now, {{"key", "marker/1"}})}) {
    const int status = refusal(s, bad);
    CHECK_MESSAGE(status >= 400, bad.dump());
    CHECK(status < 500);
  }
  CHECK(s.version() == now);
  CHECK(test::same_voxels(s.labels(), labels));
}

TEST_CASE("session: a stroke on a place someone else changed after the page's version is refused, also after a restart") {
  Fixture f;
  {
    Session s(f.project, quiet());
    CHECK(refusal(s, request("paint", "ann", 0, {{"z", 0}, {"points", {{10, 10}}}, {"radius", 3}, {"id", 2}})) == 200);
    // Bea's page still shows version 0: her stroke overlapping Ann's is refused, one elsewhere is not.
    CHECK(refusal(s, request("paint", "bea", 0, {{"z", 0}, {"points", {{12, 14}}}, {"radius", 3}, {"id", 1}})) == 409);
    CHECK(refusal(s, request("erase", "bea", 0, {{"z", 0}, {"points", {{11, 11}}}, {"radius", 1}})) == 409);
    CHECK(refusal(s, request("paint", "bea", 0, {{"z", 0}, {"points", {{100, 50}}}, {"radius", 3}, {"id", 1}})) == 200);
    CHECK(refusal(s, request("paint", "bea", 0, {{"z", 1}, {"points", {{10, 10}}}, {"radius", 3}, {"id", 1}})) == 200);
    // Ann's own strokes in flight do not refuse each other.
    CHECK(refusal(s, request("paint", "ann", 0, {{"z", 0}, {"points", {{11, 11}}}, {"radius", 3}, {"id", 2}})) == 200);
    s.flush();
  }
  Session again(f.project, quiet());
  CHECK(refusal(again, request("paint", "bea", 0, {{"z", 0}, {"points", {{12, 14}}}, {"radius", 3}, {"id", 1}})) == 409);
  // Segment 1 was changed at version 1: a merge made on version 0 is stale after the restart too.
  CHECK(refusal(again, request("merge", "cid", 0, {{"ids", {3, 1}}})) == 409);
  CHECK(refusal(again, request("paint", "bea", again.version(), {{"z", 0}, {"points", {{12, 14}}}, {"radius", 3}, {"id", 1}})) == 200);
}

TEST_CASE("session: protected strokes change only background and their own segment; fills are bounded and previewed") {
  Fixture f;
  SessionOptions o = quiet();
  o.max_fill_voxels = 1000;
  Session s(f.project, o);
  // A hole in segment 1 (x < 100) next to segment 3: the erase is ordinary, so it takes both.
  json r = s.apply(request("erase", "ann", 0, {{"z", 2}, {"points", {{50, 97}}}, {"radius", 5}}));
  const int64_t hole = r["changed"].get<int64_t>();
  CHECK(s.label_at(2, 50, 101) == 0);
  // Protected paint of segment 3 over the hole and segment 1 around it: only the hole changes.
  r = s.apply(request("paint", "ann", 1, {{"z", 2}, {"points", {{50, 97}}}, {"radius", 9}, {"id", 3}, {"protect", true}}));
  CHECK(r["changed"] == hole);
  CHECK(s.label_at(2, 50, 92) == 3);
  CHECK(s.label_at(2, 50, 90) == 1);  // within the brush, but segment 1's
  CHECK(voxels_of(s, 1) == 10 * 160 * 100 - (hole - 17));  // (17 of the hole's voxels, x >= 100, were 3's)
  // Protected erase of segment 3: segment 1 under the brush stays.
  CHECK(refusal(s, request("erase", "ann", 2, {{"z", 2}, {"points", {{50, 97}}}, {"radius", 9}, {"protect", true}})) == 400);
  r = s.apply(request("erase", "ann", 2, {{"z", 2}, {"points", {{50, 97}}}, {"radius", 9}, {"protect", true}, {"id", 3}}));
  CHECK(s.label_at(2, 50, 90) == 1);
  CHECK(s.label_at(2, 50, 97) == 0);
  CHECK(s.label_at(2, 50, 104) == 0);
  CHECK(s.label_at(2, 50, 108) == 3);  // beyond the radius

  // The preview of a fill of the new hole: its size and its voxels, the same as the fill then changes.
  const json preview = s.fill_preview(2, 50, 97);
  CHECK(preview["from"] == 0);
  CHECK(preview["large"] == false);
  int64_t inside = 0, covered = 0;
  for (size_t k = 0; k < preview["runs"].size(); ++k) {
    covered += preview["runs"][k].get<int64_t>();
    if (k % 2) inside += preview["runs"][k].get<int64_t>();
  }
  const auto& b = preview["box"];
  CHECK(inside == preview["voxels"].get<int64_t>());
  const int64_t width = b[3].get<int64_t>() - b[1].get<int64_t>(), area = (b[2].get<int64_t>() - b[0].get<int64_t>()) * width;
  CHECK(covered <= area);
  CHECK(area - covered < width);  // the runs end on the box's last row
  // Protect refuses a fill on a segment; a fill of background never crosses into segments.
  CHECK(refusal(s, request("fill", "ann", 3, {{"z", 2}, {"y", 50}, {"x", 50}, {"id", 3}, {"protect", true}})) == 409);
  r = s.apply(request("fill", "ann", 3, {{"z", 2}, {"y", 50}, {"x", 97}, {"id", 2}, {"protect", true}}));
  CHECK(r["changed"] == preview["voxels"]);
  CHECK(s.label_at(2, 50, 97) == 2);
  CHECK(s.label_at(2, 50, 90) == 1);
  CHECK(s.label_at(2, 50, 108) == 3);

  // Above the limit a fill needs its size confirmed, and the size must still be the one previewed.
  const json large = s.fill_preview(5, 10, 150);
  CHECK(large["voxels"] == 160 * 100);
  CHECK(large["large"] == true);
  CHECK(refusal(s, request("fill", "ann", 4, {{"z", 5}, {"y", 10}, {"x", 150}, {"id", "new"}})) == 413);
  CHECK(refusal(s, request("fill", "ann", 4, {{"z", 5}, {"y", 10}, {"x", 150}, {"id", "new"}, {"expect", 999}})) == 409);
  CHECK(s.version() == 4);
  r = s.apply(request("fill", "ann", 4, {{"z", 5}, {"y", 10}, {"x", 150}, {"id", "new"}, {"expect", 16000}}));
  CHECK(r["changed"] == 16000);

  // A fill, like a stroke, is refused where somebody else changed the place after the page's version.
  s.apply(request("paint", "ann", 5, {{"z", 7}, {"points", {{10, 10}}}, {"radius", 2}, {"id", 2}}));
  CHECK(refusal(s, request("fill", "bea", 5, {{"z", 7}, {"y", 10}, {"x", 10}, {"id", 3}})) == 409);
  CHECK(refusal(s, request("fill", "bea", 6, {{"z", 7}, {"y", 10}, {"x", 10}, {"id", 3}})) == 200);
  // Undo says what it took back.
  CHECK(s.apply(request("undo", "bea", 7))["of"]["op"] == "fill");
}

TEST_CASE("session: undo is per user and refuses when a later edit changed the voxels") {
  Fixture f;
  Session s(f.project, quiet());
  s.apply(request("paint", "ann", 0, {{"z", 1}, {"points", {{50, 50}}}, {"radius", 3}, {"id", "new"}}));
  s.apply(request("paint", "bea", 1, {{"z", 1}, {"points", {{50, 52}}}, {"radius", 3}, {"id", 2}}));
  CHECK(refusal(s, request("undo", "ann", 2)) == 409);  // Bea painted over Ann's stroke
  s.apply(request("undo", "bea", 2));
  s.apply(request("undo", "ann", 3));
  CHECK(s.label_at(1, 50, 50) == 1);
  CHECK(voxels_of(s, 4) == 0);
  CHECK(refusal(s, request("undo", "carl", 4)) == 409);

  // Markers and names are undone like voxels.
  json m = s.apply(request("marker", "carl", 4, {{"z", 3}, {"y", 5}, {"x", 6}, {"note", "merge error?"}}));
  CHECK(s.markers().size() == 1);
  CHECK(s.markers()[0]["note"] == "merge error?");
  s.apply(request("name", "carl", 5, {{"id", 1}, {"name", "axon"}}));
  CHECK(s.segments()[0]["name"] == "axon");
  s.apply(request("undo", "carl", 6));
  CHECK(s.segments()[0]["name"] == "");
  s.apply(request("unmark", "carl", 7, {{"key", m["key"]}}));
  CHECK(s.markers().empty());
  s.apply(request("undo", "carl", 8));
  CHECK(s.markers().size() == 1);
  // The 3D annotator's markers: a name, a type, the point in nm and the segment under it (from
  // the voxel when not given); moved by key in one record, which undo takes back.
  json a = s.apply(request("marker", "dora", 9, {{"z", 2}, {"y", 50}, {"x", 50}, {"name", "synapse 1"}, {"type", "synapse"},
                                                 {"nm", {301.5, 300.25, 60.0}}}));
  json placed;
  for (const auto& k : s.markers())
    if (k["key"] == a["key"]) placed = k;
  CHECK(placed["name"] == "synapse 1");
  CHECK(placed["segment"] == s.label_at(2, 50, 50));
  CHECK(placed["nm"][0] == 301.5);
  s.apply(request("marker", "dora", 10, {{"key", a["key"]}, {"z", 3}, {"y", 10}, {"x", 10}, {"name", "synapse 1"}, {"segment", 7}}));
  CHECK(s.markers().size() == 2);
  for (const auto& k : s.markers())
    if (k["key"] == a["key"]) CHECK((k["z"] == 3 && k["segment"] == 7));
  s.apply(request("undo", "dora", 11));
  for (const auto& k : s.markers())
    if (k["key"] == a["key"]) CHECK((k["z"] == 2 && k["name"] == "synapse 1"));
  CHECK(refusal(s, request("marker", "dora", 12, {{"z", 2}, {"y", 5}, {"x", 5}, {"nm", {1, 2}}})) == 400);
  CHECK(refusal(s, request("marker", "dora", 12, {{"key", "marker/999"}, {"z", 2}, {"y", 5}, {"x", 5}})) == 404);
  // A colour given to a segment (the 3D annotator's table) is journaled and undone like a name.
  s.apply(request("colour", "dora", 12, {{"id", 1}, {"colour", "#ff8800"}}));
  CHECK(s.segments()[0]["colour"] == "#ff8800");
  CHECK(refusal(s, request("colour", "dora", 13, {{"id", 1}, {"colour", "orange"}})) == 400);
  s.apply(request("undo", "dora", 13));
  CHECK(s.segments()[0]["colour"] == "");
}

TEST_CASE("session: a crash loses no acknowledged edit; a torn last record is dropped and reported") {
  Fixture f;
  test::TempDir crash("uniem-crash");
  Volume expected;
  {
    Session s(f.project, quiet());  // never flushes until closed
    for (int k = 0; k < 20; ++k)
      s.apply(request("paint", "ann", k, {{"z", k % 10}, {"points", {{5 + 7 * k, 40}, {5 + 7 * k, 230}}}, {"radius", 2}, {"id", "new"}}));
    s.apply(request("merge", "ann", 20, {{"ids", {4, 5, 6}}}));
    s.apply(request("undo", "ann", 21));
    s.apply(request("lock", "ann", 22, {{"id", 7}}));
    expected = s.labels();
    copy_folder(f.project, crash / "p");  // what the disk holds if the server dies now
  }
  {
    Session s(crash / "p", quiet());
    CHECK(s.recovery_note().find("recovered 23 edit(s)") != std::string::npos);
    CHECK(s.version() == 23);
    CHECK(test::same_voxels(s.labels(), expected));
    CHECK(s.segments().size() == 3 + 20);
    CHECK(s.apply(request("undo", "ann", 23))["version"] == 24);  // the undo history survives
    CHECK(s.segments()[6]["locked_by"] == "");
  }
  // A record cut short at the end was never acknowledged: dropped, reported, the rest kept.
  copy_folder(f.project, crash / "torn");
  const uint64_t size = fs::file_size(crash / "torn" / "journal.bin");
  {
    std::ofstream j(crash / "torn" / "journal.bin", std::ios::binary | std::ios::app);
    j.write("\x40\x00\x00\x00\x12\x34\x56\x78partial", 15);
  }
  {
    Session s(crash / "torn", quiet());
    CHECK(s.recovery_note().find("torn") != std::string::npos);
    CHECK(s.version() == 23);
    CHECK(test::same_voxels(s.labels(), expected));
  }
  CHECK(fs::file_size(crash / "torn" / "journal.bin") == size);
  // Damage in the middle is not a torn write: refused, nothing changed.
  copy_folder(f.project, crash / "bad");
  {
    std::fstream j(crash / "bad" / "journal.bin", std::ios::binary | std::ios::in | std::ios::out);
    j.seekp(40);
    j.write("XXXX", 4);
  }
  const std::string message = test::input_error_message([&] { Session s(crash / "bad", quiet()); });
  CHECK(message.find("journal.bin") != std::string::npos);
  CHECK(message.find("damaged") != std::string::npos);
}

TEST_CASE("session: flushes write chunks and state, compaction keeps the undo depth, reopening is exact") {
  Fixture f;
  SessionOptions o = quiet();
  o.undo_depth = 5;
  Volume expected;
  {
    Session s(f.project, o);
    for (int k = 0; k < 30; ++k)
      s.apply(request("paint", "ann", k, {{"z", 3}, {"points", {{2 + 5 * k, 10}}}, {"radius", 1.5}, {"id", 2 + k % 2}}));
    s.flush();
    CHECK(fs::file_size(f.project / "journal.bin") < 5000);
    CHECK(s.apply(request("undo", "ann", 30))["version"] == 31);
    expected = s.labels();
  }
  Session s(f.project, o);
  CHECK(s.version() == 31);
  CHECK(test::same_voxels(s.labels(), expected));
  for (int k = 0; k < 4; ++k) s.apply(request("undo", "ann", s.version()));
  CHECK(refusal(s, request("undo", "ann", s.version())) == 409);  // older ones were compacted away
  CHECK(s.history(3).size() == 3);
}

TEST_CASE("session: temporaries that a killed server left in the project are removed when it is opened") {
  Fixture f;
  for (const char* name : {"state.json.tmp-999999-0", "journal.bin.compact", "journal.bin.compact.tmp-999999-3",
                           "labels/0_0_0.chunk.tmp-999999-7"})
    std::ofstream(f.project / name) << "half";
  {
    SessionOptions o = quiet();
    o.read_only = true;
    Session look(f.project, o);  // a read-only view touches nothing
    CHECK(fs::exists(f.project / "state.json.tmp-999999-0"));
  }
  Session s(f.project, quiet());
  for (const char* name : {"state.json.tmp-999999-0", "journal.bin.compact", "journal.bin.compact.tmp-999999-3",
                           "labels/0_0_0.chunk.tmp-999999-7"})
    CHECK_MESSAGE(!fs::exists(f.project / name), name);
  CHECK(fs::exists(f.project / "state.json"));
  CHECK(s.segments().size() == 3);
}

TEST_CASE("session: one server per project; a read-only view sees every edit and changes nothing") {
  Fixture f;
  Session s(f.project, quiet());
  s.apply(request("paint", "ann", 0, {{"z", 0}, {"points", {{3, 3}}}, {"radius", 1}, {"id", 2}}));
  CHECK(test::input_error_message([&] { Session again(f.project, quiet()); }).find("another uniem serve") != std::string::npos);
  SessionOptions ro = quiet();
  ro.read_only = true;
  Session view(f.project, ro);
  CHECK(view.label_at(0, 3, 3) == 2);
  CHECK(refusal(view, request("paint", "ann", 1, {{"z", 0}, {"points", {{3, 3}}}, {"radius", 1}, {"id", 1}})) == 403);
}

TEST_CASE("session: label sections at each pyramid level, raw and as runs, sample the labels") {
  test::TempDir dir{"uniem-levels"};
  // 3 x 700 x 1100: three pyramid levels (1100, 550, 275 wide); ids change along x and y at odd
  // places, across chunks.
  Volume image(DType::u8, 3, 700, 1100), labels(DType::u32, 3, 700, 1100);
  for (int64_t z = 0; z < 3; ++z)
    for (int64_t y = 0; y < 700; ++y)
      for (int64_t x = 0; x < 1100; ++x) labels.at<uint32_t>(z, y, x) = static_cast<uint32_t>((x / 37 + y / 91 + z) % 5);
  create_project(dir / "p", image, &labels, "image", "labels");
  Session s(dir / "p", quiet());
  REQUIRE(s.project().info().levels == 3);
  for (int level = 0; level < 3; ++level) {
    const auto size = s.project().level_size(level);
    const std::string raw = s.label_slice(2, level), runs = s.label_runs(2, level);
    REQUIRE(raw.size() == static_cast<size_t>(size[0] * size[1]) * 4);
    std::vector<uint32_t> pairs(runs.size() / 4), expanded;
    std::memcpy(pairs.data(), runs.data(), runs.size());
    for (size_t k = 0; k + 1 < pairs.size(); k += 2) expanded.insert(expanded.end(), pairs[k + 1], pairs[k]);
    REQUIRE(expanded.size() == raw.size() / 4);
    CHECK(std::memcmp(expanded.data(), raw.data(), raw.size()) == 0);
    bool sampled = true;
    for (int64_t y = 0; y < size[0]; ++y)
      for (int64_t x = 0; x < size[1]; ++x)
        sampled = sampled && expanded[static_cast<size_t>(y * size[1] + x)] == labels.at<uint32_t>(2, y << level, x << level);
    CHECK(sampled);
  }
}

TEST_CASE("session: the segment list a page at a time: sorted, searched, every segment once") {
  test::TempDir dir{"uniem-segment-pages"};
  // 1200 segments of one voxel each (ids 1..1200) and a large one (id 5000).
  Volume image(DType::u8, 1, 40, 64), labels(DType::u32, 1, 40, 64);
  for (int64_t y = 0; y < 40; ++y)
    for (int64_t x = 0; x < 64; ++x) {
      const int64_t i = y * 64 + x;
      labels.at<uint32_t>(0, y, x) = static_cast<uint32_t>(i < 1200 ? i + 1 : 5000);
    }
  create_project(dir / "p", image, &labels, "image", "labels");
  Session s(dir / "p", quiet());
  s.apply(request("name", "ann", 0, {{"id", 17}, {"name", "Dendrite A"}}));
  s.apply(request("lock", "bea", 1, {{"id", 900}}));

  SegmentQuery q;
  q.count = 500;
  q.sort = "voxels";
  q.descending = true;
  std::vector<uint32_t> seen;
  for (q.offset = 0; q.offset < 1300; q.offset += 500) {
    const json page = s.segment_page(q);
    CHECK(page["total"] == 1201);
    CHECK(page["matching"] == 1201);
    for (const auto& item : page["items"]) seen.push_back(item["id"].get<uint32_t>());
  }
  REQUIRE(seen.size() == 1201);
  CHECK(seen[0] == 5000);  // the largest first; ties by id
  for (size_t k = 1; k < seen.size(); ++k) CHECK(seen[k] == k);

  q = SegmentQuery{};
  q.search = "dendrite";  // names ignore case
  json page = s.segment_page(q);
  REQUIRE(page["items"].size() == 1);
  CHECK(page["items"][0]["id"] == 17);
  q.search = "117";  // ids 117, 1117 and 1170-1179
  page = s.segment_page(q);
  CHECK(page["matching"] == 12);
  CHECK(page["items"][1]["id"] == 1117);
  CHECK(page["annotated"] == json::array({{{"id", 17}, {"name", "Dendrite A"}, {"colour", ""}, {"locked_by", ""}},
                                          {{"id", 900}, {"name", ""}, {"colour", ""}, {"locked_by", "bea"}}}));
  q = SegmentQuery{};
  q.offset = 5000;  // past the end: an empty page
  page = s.segment_page(q);
  CHECK(page["items"].empty());
  CHECK(page["offset"] == 1201);
}

TEST_CASE("session: a chunk cache smaller than one section drops only flushed chunks; nothing is lost") {
  Fixture f;
  SessionOptions small = quiet();
  small.flush_seconds = 0.05;  // the background flush races the readers and the writer below
  small.cache_bytes = 300000;  // a label chunk is 8 x 128 x 128 x 4 = 512 kB: every read drops
  std::vector<std::array<int64_t, 4>> painted;  // z, y, x, id
  {
    Session s(f.project, small);
    std::atomic<bool> writing{true};
    struct Readers : std::vector<std::thread> {
      std::atomic<bool>& writing;
      void stop() {
        writing = false;
        for (auto& t : *this)
          if (t.joinable()) t.join();
      }
      ~Readers() { stop(); }
    } readers{{}, writing};
    std::atomic<int64_t> checked{0};
    for (int r = 0; r < 2; ++r)
      readers.emplace_back([&, r] {
        for (int64_t k = 0; writing; ++k) {
          const std::string slice = s.label_slice((k * 3 + r) % 10, 0);
          uint32_t first = 0;
          std::memcpy(&first, slice.data(), 4);
          if (first == 1 || first == 4) ++checked;  // the voxel at (0, 0): 1, or the new id painted there
        }
      });
    for (int64_t k = 0; k < 60; ++k) {
      const int64_t z = k % 10, y = 5 + (k * 7) % 150, x = 5 + (k * 53) % 250;
      const uint32_t id = k % 2 ? 1 : 2;
      s.apply(request("paint", "ann", s.version(), {{"z", z}, {"points", {{y, x}}}, {"radius", 0.5}, {"id", id}}));
      painted.push_back({z, y, x, id});
    }
    s.apply(request("paint", "ann", s.version(), {{"z", 0}, {"points", {{0, 0}}}, {"radius", 0.5}, {"id", "new"}}));
    readers.stop();
    CHECK(checked > 0);
    for (const auto& [z, y, x, id] : painted) CHECK(s.label_at(z, y, x) == id);
    CHECK(s.label_at(0, 0, 0) == 4);
  }
  Session again(f.project, small);
  CHECK(again.recovery_note().empty());  // everything was flushed at close
  for (const auto& [z, y, x, id] : painted) CHECK(again.label_at(z, y, x) == id);
  const Volume all = again.labels();
  CHECK(all.at<uint32_t>(0, 0, 0) == 4);
  for (const auto& [z, y, x, id] : painted) CHECK(all.at<uint32_t>(z, y, x) == id);
}

TEST_CASE("chunk store: round trip, zero default, damage named") {
  test::TempDir dir;
  ChunkStore store(dir.path(), DType::u32, {5, 7, 9}, {2, 4, 4});
  CHECK(store.chunk_count() == 3 * 2 * 3);
  CHECK(store.extent(store.index_of(2, 1, 2)) == std::array<int64_t, 3>{1, 3, 1});
  Volume c = test::pattern_volume(DType::u32, 2, 4, 4);
  store.write(1, c);
  CHECK(test::same_voxels(store.read(1), c));
  CHECK(store.read(0).at<uint32_t>(1, 1, 1) == 0);
  {
    std::fstream file(store.path(1), std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(30);
    file.write("\xff\xff", 2);
  }
  CHECK(test::input_error_message([&] { store.read(1); }).find(store.path(1).string()) != std::string::npos);
  // A chunk cut short, even by its trailer only, and one whose voxels do not match the checksum.
  store.write(1, c);
  const auto size = std::filesystem::file_size(store.path(1));
  std::filesystem::resize_file(store.path(1), size - 2);
  CHECK(test::input_error_message([&] { store.read(1); }).find("corrupt") != std::string::npos);
  store.write(1, c);
  {
    std::fstream file(store.path(1), std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(24);
    file.write("\x01", 1);
  }
  CHECK(test::input_error_message([&] { store.read(1); }).find("checksum") != std::string::npos);

  // Version 1 chunks (a zlib stream, the CRC-32 of the voxels) are still read, and checked.
  std::string v1 = std::string("UNIEMCK1") + std::string(20, '\0');
  const uint32_t fields[5] = {static_cast<uint32_t>(DType::u32), 2, 4, 4,
                              static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(c.raw()), static_cast<uInt>(c.bytes())))};
  std::memcpy(v1.data() + 8, fields, sizeof fields);
  std::string z(compressBound(static_cast<uLong>(c.bytes())), '\0');
  uLongf z_size = static_cast<uLongf>(z.size());
  REQUIRE(compress2(reinterpret_cast<Bytef*>(z.data()), &z_size, reinterpret_cast<const Bytef*>(c.raw()), static_cast<uLong>(c.bytes()), 1) == Z_OK);
  v1 += z.substr(0, z_size);
  std::ofstream(store.path(1), std::ios::binary | std::ios::trunc) << v1;
  CHECK(test::same_voxels(store.read(1), c));
  v1[v1.size() - 9] ^= 0x10;  // inside the deflate data: it unpacks to other voxels, or not at all
  std::ofstream(store.path(1), std::ios::binary | std::ios::trunc) << v1;
  CHECK(test::input_error_message([&] { store.read(1); }).find("corrupt") != std::string::npos);
}
