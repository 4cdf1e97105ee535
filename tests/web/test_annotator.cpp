// The 3D annotator's service (web/workspace/annotator_service.h, mesh_folder.h) over HTTP: a mesh
// folder written by write_label_meshes, its object table sorted, searched and paged, its surfaces,
// names, colours and markers changed and kept on disk, markers imported from CSV all or nothing,
// and the tables exported.
#include <doctest/doctest.h>
#include <httplib.h>

#include <fstream>
#include <thread>

#include "io/label_meshes.h"
#include "tests/web/served_workspace.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace uniem;
using namespace uniem::test;

namespace {

// Three boxes of different sizes, labels 1..3, meshed into WORKSPACE/meshes.
struct Annotated : ServedWorkspace {
  Annotated() {
    Volume labels(DType::u16, 12, 40, 40);
    labels.voxel_size = {30, 6, 6, true};
    auto box = [&](uint16_t id, int z0, int z1, int y0, int y1, int x0, int x1) {
      for (int z = z0; z < z1; ++z)
        for (int y = y0; y < y1; ++y)
          for (int x = x0; x < x1; ++x) labels.data<uint16_t>()[(z * 40 + y) * 40 + x] = id;
    };
    box(1, 2, 10, 2, 12, 2, 12);
    box(2, 2, 10, 20, 38, 20, 38);
    box(3, 4, 6, 25, 30, 2, 7);
    fs::create_directories(dir / "meshes");
    write_label_meshes(labels, "labels", dir / "meshes", MeshJob{});
    fs::create_directories(dir / "precomputed");
    MeshJob neuroglancer;
    neuroglancer.format = "precomputed";
    write_label_meshes(labels, "labels", dir / "precomputed", neuroglancer);
    start();
  }
  json get(const std::string& path) const { return get_json(path); }
};

std::vector<int64_t> ids(const json& page) {
  std::vector<int64_t> out;
  for (const auto& o : page["objects"]) out.push_back(o["id"]);
  return out;
}

}  // namespace

TEST_CASE("annotator: the object table of a mesh folder, sorted, searched and paged on the server") {
  Annotated a;
  json page = a.get("/api/meshes?path=meshes");
  CHECK(page["total"] == 3);
  CHECK(ids(page) == std::vector<int64_t>{1, 2, 3});
  const json& first = page["objects"][0];
  CHECK(first["voxels"] == 8 * 10 * 10);
  CHECK(first["volume_nm3"].get<double>() > 0);
  CHECK(first["area_nm2"].get<double>() > 0);
  CHECK(first["file"] == "label_1.ply");
  CHECK(first["centroid_nm"].size() == 3);
  CHECK(ids(a.get("/api/meshes?path=meshes&sort=voxels&order=desc")) == std::vector<int64_t>{2, 1, 3});
  CHECK(ids(a.get("/api/meshes?path=meshes&sort=volume&limit=2&offset=1")) == std::vector<int64_t>{1, 2});
  CHECK(ids(a.get("/api/meshes?path=meshes&q=3")) == std::vector<int64_t>{3});
  // The surface file as written.
  auto surface = a.client().Get("/api/meshes/surface?path=meshes&id=2");
  REQUIRE(surface->status == 200);
  std::ifstream in(a.dir / "meshes" / "label_2.ply", std::ios::binary);
  CHECK(surface->body == std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  // A precomputed folder's fragments come as PLY, the same surface.
  const json fragments = a.get("/api/meshes?path=precomputed");
  CHECK(fragments["objects"][1]["file"] == "2.frag");
  auto converted = a.client().Get("/api/meshes/surface?path=precomputed&id=2");
  REQUIRE(converted->status == 200);
  CHECK(converted->body.starts_with("ply\n"));
  CHECK(converted->body.find("element face " + std::to_string(page["objects"][1]["triangles"].get<int64_t>()) + "\n") != std::string::npos);
  // A surface file with a number too long for an id is passed over, not a failure.
  test::write_text(a.dir / "meshes" / ("label_" + std::string(25, '9') + ".ply"), "x");
  CHECK(a.client().Get("/api/meshes?path=meshes")->status == 200);
  // Bad requests: JSON messages.
  auto r = a.client().Get("/api/meshes/surface?path=meshes&id=9");
  CHECK(r->status == 404);
  CHECK(r->body.find("no object 9") != std::string::npos);
  CHECK(a.client().Get("/api/meshes?path=nothing")->status == 404);
  CHECK(a.client().Get("/api/meshes?path=/etc")->status == 403);
  CHECK(a.client().Get("/api/meshes?path=meshes&sort=colour")->status == 400);
}

TEST_CASE("annotator: names, colours and markers are kept on disk; CSV in all or nothing, and out") {
  Annotated a;
  auto [status, notes] = a.post("/api/meshes/change", {{"path", "meshes"}, {"op", "object"}, {"object", 2}, {"name", "big, cell"}, {"colour", "#ff8800"}});
  REQUIRE(status == 200);
  CHECK(notes["objects"]["2"]["name"] == "big, cell");
  CHECK(ids(a.get("/api/meshes?path=meshes&q=big")) == std::vector<int64_t>{2});
  std::tie(status, notes) = a.post("/api/meshes/change", {{"path", "meshes"}, {"op", "object"}, {"object", 2}, {"colour", "orange"}});
  CHECK(status == 400);
  std::tie(status, notes) = a.post("/api/meshes/change", {{"path", "meshes"}, {"op", "object"}, {"object", 7}, {"name", "x"}});
  CHECK(status == 404);

  std::tie(status, notes) = a.post("/api/meshes/change", {{"path", "meshes"}, {"op", "add"},
                                                          {"marker", {{"name", "synapse"}, {"type", "pre"}, {"x", 40.5}, {"y", 60}, {"z", 120}, {"segment", 1}}}});
  REQUIRE(status == 200);
  CHECK(notes["markers"].size() == 1);
  const int64_t id = notes["markers"][0]["id"];
  std::tie(status, notes) = a.post("/api/meshes/change", {{"path", "meshes"}, {"op", "move"}, {"id", id}, {"x", 1}, {"y", 2}, {"z", 3}});
  CHECK(notes["markers"][0]["x"] == 1.0);
  std::tie(status, notes) = a.post("/api/meshes/change", {{"path", "meshes"}, {"op", "add"}, {"marker", {{"x", "far"}, {"y", 0}, {"z", 0}}}});
  CHECK(status == 400);
  CHECK(notes["error"].get<std::string>().find("'x' must be a number") != std::string::npos);
  // Undo of a delete: restored with its id.
  const json deleted = a.get("/api/meshes/annotations?path=meshes")["markers"][0];
  std::tie(status, notes) = a.post("/api/meshes/change", {{"path", "meshes"}, {"op", "delete"}, {"id", id}});
  CHECK(notes["markers"].empty());
  std::tie(status, notes) = a.post("/api/meshes/change", {{"path", "meshes"}, {"op", "restore"}, {"marker", deleted}});
  REQUIRE(status == 200);
  CHECK(notes["markers"][0] == deleted);
  // A hand-edited annotations.json without its counters still takes changes.
  {
    test::TempDir other("uniem-notes");
    fs::copy(a.dir / "meshes", other / "m", fs::copy_options::recursive);
    test::write_text(other / "m" / "annotations.json", R"({"markers": [{"id": 4, "x": 1, "y": 2, "z": 3}, "junk"]})");
    web::MeshFolder edited(other / "m");
    const json after = edited.change({{"op", "add"}, {"marker", {{"x", 1}, {"y", 1}, {"z", 1}}}});
    CHECK(after["markers"].size() == 2);
    CHECK(after["markers"][1]["id"] == 5);
  }
  // On disk: a fresh reading of the folder has it all.
  web::MeshFolder again(a.dir / "meshes");
  CHECK(again.annotations()["markers"][0]["name"] == "synapse");
  CHECK(again.annotations()["objects"]["2"]["colour"] == "#ff8800");

  // CSV import: a bad line refuses the whole file, naming the line.
  std::tie(status, notes) = a.post("/api/meshes/import", {{"path", "meshes"},
                                                          {"csv", "id,name,type,x,y,z,segment\n1,a,t,1,2,3,1\n2,b,t,1,north,3,1\n"}});
  CHECK(status == 400);
  CHECK(notes["error"].get<std::string>().find("line 3: 'y' is not a number") != std::string::npos);
  CHECK(a.get("/api/meshes/annotations?path=meshes")["markers"].size() == 1);
  std::tie(status, notes) = a.post("/api/meshes/import", {{"path", "meshes"},
                                                          {"csv", "id,name,type,x,y,z,segment,note\n1,\"a, quoted\",t,1,2,3,1,first\n2,,t,4,5,6,2,\n"}});
  REQUIRE(status == 200);
  CHECK(notes["imported"] == 2);
  const std::string markers = a.client().Get("/api/meshes/markers.csv?path=meshes")->body;
  CHECK(markers.starts_with("id,name,type,x,y,z,segment,note\n"));
  CHECK(markers.find("\"a, quoted\",t,1,2,3,1,first") != std::string::npos);
  const std::string objects = a.client().Get("/api/meshes/objects.csv?path=meshes")->body;
  CHECK(objects.find("2,\"big, cell\",#ff8800,") != std::string::npos);
  size_t lines = 0;
  for (char c : objects) lines += c == '\n';
  CHECK(lines == 4);
}
