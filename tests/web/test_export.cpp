// A project's export (web/proofreading/project_export.h): the stack, and beside it the tables of
// segments and markers, from the page's route function and through write_export.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "io/stack.h"
#include "tests/test_support.h"
#include "web/proofreading/project.h"
#include "web/proofreading/project_export.h"
#include "web/proofreading/session.h"
#include "web/server.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace uniem;
using namespace uniem::web;
using uniem::test::read_text;

namespace {

json edit(Session& s, const std::string& op, const std::string& user, json fields) {
  fields["op"] = op;
  fields["user"] = user;
  fields["version"] = s.version();
  return s.apply(fields);
}

// 3 x 20 x 30 voxels: segment 1 on the left (x < 10), 2 in the middle, 3 on the right (x >= 20).
struct Annotated {
  test::TempDir dir{"uniem-export"};
  fs::path project = dir / "project";
  std::unique_ptr<Session> session;
  Annotated() {
    Volume image(DType::u8, 3, 20, 30), labels(DType::u8, 3, 20, 30);
    for (int64_t i = 0; i < labels.voxels(); ++i) {
      image.data<uint8_t>()[i] = 100;
      labels.data<uint8_t>()[i] = i % 30 < 10 ? 1 : i % 30 < 20 ? 2 : 3;
    }
    create_project(project, image, &labels, "image", "labels");
    SessionOptions o;
    o.flush_seconds = 0;
    session = std::make_unique<Session>(project, o);
    edit(*session, "name", "ann", {{"id", 1}, {"name", "axon, \"left\""}});
    edit(*session, "lock", "bea", {{"id", 2}});
    edit(*session, "colour", "ann", {{"id", 3}, {"colour", "#ff8000"}});
    edit(*session, "marker", "carl", {{"z", 2}, {"y", 5}, {"x", 25}, {"note", "merge here?"}});
    edit(*session, "check", "dora", {{"id", 3}, {"checked", true}});
  }
};

}  // namespace

TEST_CASE("export: the page's export writes the segments and markers beside the stack") {
  Annotated a;
  const std::string name = export_labels(*a.session, "tif", 0);
  CHECK(name == "labels-v5.tif");
  const fs::path exports = a.project / "exports";
  const Volume labels = read_volume(exports / name);
  CHECK(labels.nz() == 3);
  CHECK(labels.value(25) == 3);

  CHECK(read_text(exports / "labels-v5.segments.csv") ==
        "id,name,colour,locked_by,voxels,checked,checked_by\n"
        "1,\"axon, \"\"left\"\"\",,,600,false,\n"
        "2,,,bea,600,false,\n"
        "3,,#ff8000,,600,true,dora\n");
  const json segments = json::parse(read_text(exports / "labels-v5.segments.json"));
  CHECK(segments["version"] == 5);
  REQUIRE(segments["segments"].size() == 3);
  CHECK(segments["segments"][0] == json({{"id", 1}, {"name", "axon, \"left\""}, {"colour", ""}, {"locked_by", ""}, {"voxels", 600},
                                              {"checked", false}, {"checked_by", ""}}));
  CHECK(segments["segments"][1]["locked_by"] == "bea");
  CHECK((segments["segments"][2]["checked"] == true && segments["segments"][2]["checked_by"] == "dora"));

  CHECK(read_text(exports / "labels-v5.markers.csv") ==
        "key,z,y,x,note,author,segment,name,type\n"
        "marker/4,2,5,25,merge here?,carl,3,,\n");
  const json markers = json::parse(read_text(exports / "labels-v5.markers.json"));
  REQUIRE(markers["markers"].size() == 1);
  const json& m = markers["markers"][0];
  CHECK((m["z"] == 2 && m["y"] == 5 && m["x"] == 25 && m["note"] == "merge here?" && m["author"] == "carl" && m["segment"] == 3));

  // A PNG folder gets its tables named after the folder (here those of the .tif: the same version);
  // nothing temporary is left.
  CHECK(export_labels(*a.session, "png", 0) == "labels-v5");
  CHECK(fs::is_directory(exports / "labels-v5"));
  CHECK(read_text(exports / "labels-v5.markers.csv").find("carl") != std::string::npos);  // the same version, the same tables
  for (const auto& e : fs::directory_iterator(exports))
    CHECK_MESSAGE(e.path().filename().string().find(".tmp-") == std::string::npos, e.path().string());
}

TEST_CASE("export: the tables' names; an existing table is refused before anything is written") {
  const auto paths = export_table_paths("out/corrected.tif");
  CHECK(paths[0] == fs::path("out/corrected.segments.csv"));
  CHECK(paths[3] == fs::path("out/corrected.markers.json"));
  CHECK(export_table_paths("out/labels-png/")[1] == fs::path("out/labels-png.segments.json"));

  Annotated a;
  const fs::path out = a.dir / "corrected.tif";
  std::ofstream(a.dir / "corrected.markers.csv") << "mine\n";
  CHECK_THROWS_AS(check_export_tables(out, false), InputError);
  const ProjectExport e = read_export(*a.session, 0);
  CHECK(e.version == 5);
  CHECK(e.tables_version == 5);
  WriteOptions options;
  options.format = StackFormat::multipage_tiff;
  CHECK_THROWS_AS(write_export(out, e, options), InputError);
  CHECK(!fs::exists(out));
  CHECK(!fs::exists(a.dir / "corrected.segments.csv"));
  CHECK(read_text(a.dir / "corrected.markers.csv") == "mine\n");
  options.overwrite = true;
  write_export(out, e, options);
  CHECK(fs::exists(out));
  CHECK(read_text(a.dir / "corrected.markers.csv").find("merge here?") != std::string::npos);
}
