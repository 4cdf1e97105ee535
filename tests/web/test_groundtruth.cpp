// Fast ground truth: shapes interpolated between two sections (web/proofreading/
// shape_interpolation.h) checked voxel by voxel, and the session's copy and interpolate
// operations (web/proofreading/session.h): what they paint, what protect keeps, one undo step,
// the stale-version check, bad requests named, and recovery from the journal after a crash.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "tests/test_support.h"
#include "tests/web/session_requests.h"
#include "web/proofreading/project.h"
#include "web/proofreading/session.h"
#include "web/proofreading/shape_interpolation.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace uniem;
using namespace uniem::web;
using uniem::test::quiet;
using uniem::test::request;

namespace {

// A digital disc: the voxels whose centre lies within r of (cy, cx), as the brush paints it.
Volume disc(int64_t ny, int64_t nx, double cy, double cx, double r) {
  Volume m(DType::u8, 1, ny, nx);
  for (int64_t y = 0; y < ny; ++y)
    for (int64_t x = 0; x < nx; ++x) m.at<uint8_t>(0, y, x) = (y - cy) * (y - cy) + (x - cx) * (x - cx) <= r * r;
  return m;
}

// Section k of `shapes` (t = (k + 1) / (gaps + 1)) against the continuous shape the method gives
// for two discs, radius r1 at (y1, x1) and r2 at (y2, x2): the points where
// (1 - t) (r1 - |p - c1|) + t (r2 - |p - c2|) > 0 (a disc's signed distance is r - |p - c|).
// Every voxel more than a voxel inside that shape must be in, every one more than a voxel outside
// must be out. Returns the voxels that break it; `in` the voxels in.
struct Discs {
  double r1, y1, x1, r2, y2, x2;
};
int64_t off_shape(const Volume& shapes, int64_t k, const Discs& d, int64_t* in = nullptr) {
  const double t = static_cast<double>(k + 1) / static_cast<double>(shapes.nz() + 1);
  int64_t wrong = 0, count = 0;
  for (int64_t y = 0; y < shapes.ny(); ++y)
    for (int64_t x = 0; x < shapes.nx(); ++x) {
      const double f = (1 - t) * (d.r1 - std::hypot(y - d.y1, x - d.x1)) + t * (d.r2 - std::hypot(y - d.y2, x - d.x2));
      const bool inside = shapes.at<uint8_t>(k, y, x) != 0;
      count += inside;
      if ((f >= 1 && !inside) || (f <= -1 && inside)) ++wrong;
    }
  if (in) *in = count;
  return wrong;
}

// Concentric discs: section k is the disc of radius (1 - t) r1 + t r2, within a voxel at its rim.
void check_discs(const Volume& shapes, int64_t k, double cy, double cx, double r1, double r2) {
  int64_t in = 0;
  CHECK_MESSAGE(off_shape(shapes, k, {r1, cy, cx, r2, cy, cx}, &in) == 0, "section " << k);
  const double t = static_cast<double>(k + 1) / static_cast<double>(shapes.nz() + 1), r = (1 - t) * r1 + t * r2;
  CHECK_MESSAGE(std::abs(static_cast<double>(in) - M_PI * r * r) <= 2 * M_PI * r,
                "section " << k << ": " << in << " voxels, a disc of radius " << r << " holds " << M_PI * r * r);
}

// {status, message} of a refused request; {200, ""} when it was accepted.
std::pair<int, std::string> refusal(Session& s, const json& r) {
  try {
    s.apply(r);
  } catch (const RequestError& e) {
    return {e.status, e.what()};
  }
  return {200, ""};
}

// 12 x 64 x 64, background but for segment 1 (x < 6, every section) and segment 2 (a 6 x 6
// square at y, x 29..34 on section 5).
struct Painted {
  test::TempDir dir{"uniem-groundtruth"};
  fs::path folder = dir / "project";
  Painted() {
    Volume image(DType::u8, 12, 64, 64), labels(DType::u16, 12, 64, 64);
    for (int64_t z = 0; z < 12; ++z)
      for (int64_t y = 0; y < 64; ++y)
        for (int64_t x = 0; x < 64; ++x) {
          image.at<uint8_t>(z, y, x) = 128;
          const bool square = z == 5 && y >= 29 && y < 35 && x >= 29 && x < 35;
          labels.at<uint16_t>(z, y, x) = x < 6 ? 1 : square ? 2 : 0;
        }
    create_project(folder, image, &labels, "image", "labels");
  }
};

// Segment `id`'s voxels on section z as a mask.
Volume section_mask(const Session& s, uint32_t id, int64_t z) {
  Volume m(DType::u8, 1, 64, 64);
  for (int64_t y = 0; y < 64; ++y)
    for (int64_t x = 0; x < 64; ++x) m.at<uint8_t>(0, y, x) = s.label_at(z, y, x) == id;
  return m;
}

// Paints a disc of segment `id` ("new" for a new one) on section z; returns the id.
uint32_t paint_disc(Session& s, int64_t z, double cy, double cx, double r, const json& id) {
  const json a = s.apply(request("paint", "ann", s.version(), {{"z", z}, {"points", {{cy, cx}}}, {"radius", r}, {"id", id}}));
  return a["id"].get<uint32_t>();
}

}  // namespace

TEST_CASE("interpolate_masks: identical masks give themselves back; concentric discs give the discs between") {
  const Volume same = disc(40, 50, 19.5, 22, 9);
  const Volume again = interpolate_masks(same, same, 3);
  REQUIRE(again.shape() == std::array<int64_t, 3>{3, 40, 50});
  for (int64_t k = 0; k < 3; ++k)
    for (int64_t y = 0; y < 40; ++y)
      for (int64_t x = 0; x < 50; ++x) REQUIRE(again.at<uint8_t>(k, y, x) == same.at<uint8_t>(0, y, x));

  // Radii 4 and 20 over 7 sections between: radius 4 + 2 (k + 1) on section k.
  const Volume small = disc(64, 64, 32, 32, 4), large = disc(64, 64, 32, 32, 20);
  const Volume grown = interpolate_masks(small, large, 7);
  for (int64_t k = 0; k < 7; ++k) check_discs(grown, k, 32, 32, 4, 20);
  // Each shape holds the one before: the growth is monotone.
  for (int64_t k = 1; k < 7; ++k)
    for (int64_t i = 0; i < 64 * 64; ++i) REQUIRE(grown.data<uint8_t>()[(k - 1) * 64 * 64 + i] <= grown.data<uint8_t>()[k * 64 * 64 + i]);

  // A disc moving by less than its size: the shape of the method, narrower along the move between.
  const Volume moved = interpolate_masks(disc(40, 64, 20, 24, 10), disc(40, 64, 20, 36, 10), 3);
  for (int64_t k = 0; k < 3; ++k) CHECK_MESSAGE(off_shape(moved, k, {10, 20, 24, 10, 20, 36}) == 0, "section " << k);
  // Two discs apart by more than their size have nothing between (the method's limit, documented).
  const Volume apart = interpolate_masks(disc(40, 64, 20, 10, 5), disc(40, 64, 20, 50, 5), 1);
  CHECK(std::count(apart.data<uint8_t>(), apart.data<uint8_t>() + apart.voxels(), 1) == 0);

  // A mask touching the edge of its box is exact there too: the full box stays the full box.
  const Volume full = disc(8, 8, 3.5, 3.5, 20);
  const Volume kept = interpolate_masks(full, full, 1);
  for (int64_t i = 0; i < 64; ++i) CHECK(kept.data<uint8_t>()[i] == 1);
  // Nothing between: no sections.
  CHECK(interpolate_masks(small, large, 0).nz() == 0);
}

TEST_CASE("session: interpolate fills the sections between with the discs between; one undo step; survives a crash") {
  Painted p;
  Volume expected;
  uint32_t id = 0;
  {
    Session s(p.folder, quiet());
    id = paint_disc(s, 1, 32, 32, 4, "new");
    CHECK(id == 3);
    paint_disc(s, 9, 32, 32, 20, id);
    const int64_t before = s.version();
    const json a = s.apply(request("interpolate", "ann", before, {{"id", id}, {"z1", 1}, {"z2", 9}}));
    CHECK(a["version"] == before + 1);
    CHECK(a["id"] == id);
    // Section 5 holds segment 2's square in the middle: protected by default, left as it was.
    CHECK(a["kept"] == 36);
    for (int64_t y = 29; y < 35; ++y)
      for (int64_t x = 29; x < 35; ++x) CHECK(s.label_at(5, y, x) == 2);
    Volume shapes(DType::u8, 7, 64, 64);
    for (int64_t k = 0; k < 7; ++k) {
      const Volume m = section_mask(s, id, 2 + k);
      std::copy(m.data<uint8_t>(), m.data<uint8_t>() + 64 * 64, shapes.slice<uint8_t>(k));
      if (k == 3)  // section 5: the square counted as the disc's, as it would be without it
        for (int64_t y = 29; y < 35; ++y)
          for (int64_t x = 29; x < 35; ++x) shapes.at<uint8_t>(k, y, x) = 1;
    }
    for (int64_t k = 0; k < 7; ++k) check_discs(shapes, k, 32, 32, 4, 20);
    // Segment 1 (x < 6) is outside the largest disc (x >= 12): untouched.
    CHECK(s.label_at(5, 32, 5) == 1);
    // The same voxel by voxel as the algorithm gives it.
    const Volume direct = interpolate_masks(section_mask(s, id, 1), section_mask(s, id, 9), 7);
    for (int64_t k = 0; k < 7; ++k)
      for (int64_t y = 0; y < 64; ++y)
        for (int64_t x = 0; x < 64; ++x) {
          const uint32_t want = direct.at<uint8_t>(k, y, x) ? (k == 3 && s.label_at(5, y, x) == 2 ? 2 : id) : (x < 6 ? 1 : 0);
          REQUIRE(s.label_at(2 + k, y, x) == want);
        }
    // Undo takes the whole interpolation back at once, redo brings it back.
    const json u = s.apply(request("undo", "ann", s.version()));
    CHECK(u["of"]["op"] == "interpolate");
    CHECK(u["changed"] == a["changed"]);
    for (int64_t z = 2; z <= 8; ++z) CHECK(section_mask(s, id, z).data<uint8_t>()[32 * 64 + 32] == 0);
    s.apply(request("redo", "ann", s.version()));
    CHECK(s.label_at(5, 32, 40) == id);
    // Overwrite: the square becomes the segment's too.
    s.apply(request("undo", "ann", s.version()));
    const json o = s.apply(request("interpolate", "ann", s.version(), {{"id", id}, {"z1", 1}, {"z2", 9}, {"protect", false}}));
    CHECK(o["kept"] == 0);
    CHECK(s.label_at(5, 32, 32) == id);
    CHECK(o["changed"].get<int64_t>() == a["changed"].get<int64_t>() + 36);
    expected = s.labels();
    test::TempDir crash("uniem-groundtruth-crash");
    fs::copy(p.folder, crash / "p", fs::copy_options::recursive);
    fs::remove(crash / "p" / "lock");
    const int64_t version = s.version();
    Session recovered(crash / "p", quiet());  // never flushed: everything comes from the journal
    CHECK(recovered.version() == version);
    CHECK(test::same_voxels(recovered.labels(), expected));
  }
}

TEST_CASE("session: copy paints the outline on the next section, into background only unless told; one undo step") {
  Painted p;
  Session s(p.folder, quiet());
  // A disc of radius 8 on section 4 over segment 1's edge (x < 6) and segment 2's square's place.
  const uint32_t id = paint_disc(s, 4, 32, 10, 8, "new");
  const Volume outline = section_mask(s, id, 4);
  int64_t painted = 0;
  for (int64_t i = 0; i < 64 * 64; ++i) painted += outline.data<uint8_t>()[i];
  const json a = s.apply(request("copy", "ann", s.version(), {{"id", id}, {"z", 4}, {"to", 5}}));
  // Segment 1's voxels (x < 6) under the disc stay segment 1's; the rest is the disc.
  int64_t kept = 0;
  for (int64_t y = 0; y < 64; ++y)
    for (int64_t x = 0; x < 64; ++x) {
      const bool in = outline.at<uint8_t>(0, y, x) != 0;
      const uint32_t now = s.label_at(5, y, x);
      if (in && x < 6) {
        CHECK(now == 1);
        ++kept;
      } else if (in) {
        CHECK(now == id);
      } else {
        CHECK(now == (x < 6 ? 1u : (y >= 29 && y < 35 && x >= 29 && x < 35) ? 2u : 0u));
      }
    }
  CHECK(kept > 0);
  CHECK(a["kept"] == kept);
  CHECK(a["changed"] == painted - kept);
  // Section 4 itself is as it was.
  CHECK(test::same_voxels(section_mask(s, id, 4), outline));
  // Undo: one step; the copy with overwrite takes segment 1's voxels too, downwards as well.
  CHECK(s.apply(request("undo", "ann", s.version()))["of"]["op"] == "copy");
  CHECK(s.label_at(5, 32, 10) == 0);
  const json o = s.apply(request("copy", "ann", s.version(), {{"id", id}, {"z", 4}, {"to", 3}, {"protect", false}}));
  CHECK(o["changed"] == painted);
  CHECK(test::same_voxels(section_mask(s, id, 3), outline));
  // A second copy to the same place changes nothing.
  CHECK(s.apply(request("copy", "ann", s.version(), {{"id", id}, {"z", 4}, {"to", 3}}))["changed"] == 0);
}

TEST_CASE("session: copy and interpolate refuse bad requests naming the field, stale views and others' locks") {
  Painted p;
  Session s(p.folder, quiet());
  const uint32_t id = paint_disc(s, 2, 32, 32, 5, "new");
  paint_disc(s, 6, 32, 32, 9, id);
  const int64_t v = s.version();
  auto refused = [&](const std::string& op, json fields, int status, const std::string& names) {
    const auto [got, message] = refusal(s, request(op, "ann", v, fields));
    CHECK_MESSAGE(got == status, op << " " << fields.dump() << ": " << message);
    CHECK_MESSAGE(message.find(names) != std::string::npos, message << " should name " << names);
  };
  refused("interpolate", {{"id", id}, {"z1", 2}, {"z2", 3}}, 400, "'z2'");
  refused("interpolate", {{"id", id}, {"z1", 2}}, 400, "'z2'");
  refused("interpolate", {{"id", id}, {"z1", 2}, {"z2", 40}}, 400, "'z2'");
  refused("interpolate", {{"id", id}, {"z1", 0}, {"z2", 6}}, 400, "'z1'");     // not painted on section 0
  refused("interpolate", {{"id", id}, {"z1", 2}, {"z2", 9}}, 400, "'z2'");     // nor on section 9
  refused("interpolate", {{"id", "x"}, {"z1", 2}, {"z2", 6}}, 400, "'id'");
  refused("interpolate", {{"id", id}, {"z1", 2}, {"z2", 6}, {"protect", 1}}, 400, "'protect'");
  refused("interpolate", {{"id", 99}, {"z1", 2}, {"z2", 6}}, 404, "segment 99");
  refused("copy", {{"id", id}, {"z", 2}, {"to", 2}}, 400, "'to'");
  refused("copy", {{"id", id}, {"z", 2}, {"to", -1}}, 400, "'to'");
  refused("copy", {{"id", id}, {"z", 3}, {"to", 4}}, 400, "'z'");
  refused("copy", {{"id", id}, {"to", 3}}, 400, "'z'");
  CHECK(s.version() == v);
  // Someone else changed the segment after the version this page shows: refused, nothing changed.
  const json other = s.apply(request("paint", "bob", v, {{"z", 6}, {"points", {{32, 20}}}, {"radius", 1}, {"id", id}}));
  CHECK(refusal(s, request("interpolate", "ann", v, {{"id", id}, {"z1", 2}, {"z2", 6}})).first == 409);
  CHECK(refusal(s, request("copy", "ann", v, {{"id", id}, {"z", 2}, {"to", 3}})).first == 409);
  CHECK(s.version() == other["version"]);
  // A segment locked by someone else is not painted over (overwrite) nor extended.
  const uint32_t big = paint_disc(s, 8, 32, 8, 6, "new");  // over segment 1's edge
  s.apply(request("lock", "bob", s.version(), {{"id", 1}}));
  CHECK(refusal(s, request("copy", "ann", s.version(), {{"id", 1}, {"z", 2}, {"to", 3}})).first == 409);
  CHECK(refusal(s, request("copy", "ann", s.version(), {{"id", big}, {"z", 8}, {"to", 7}, {"protect", false}})).first == 409);
  CHECK(s.apply(request("copy", "ann", s.version(), {{"id", big}, {"z", 8}, {"to", 7}}))["kept"].get<int64_t>() > 0);
}
