// bench/annotator: what the 3D annotator waits for, against the goals (no peer program
// here: Neuroglancer and webKnossos mesh on their own servers):
//   1. a 1M-voxel segment of a proofreading project meshed when asked and served
//      (GET /projects/ID/api/mesh): the first time, and again (kept until the segment changes);
//   2. the first view of 1,000 segments: the object table's first page and the surfaces of its 100
//      objects, from a project (made when asked) and from a folder written by uniem mesh;
// with the triangles and bytes sent per segment. Everything on loopback, in one process.
// Usage: bench_annotator
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/label_meshes.h"
#include "web/http.h"
#include "web/project_shelf.h"
#include "web/proofreading/project.h"
#include "web/workspace/annotator_service.h"
#include "web/workspace/data_service.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace uniem;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

httplib::Result get(httplib::Client& c, const std::string& path) {
  auto r = c.Get(path);
  if (!r || r->status != 200) {
    std::fprintf(stderr, "bench_annotator: GET %s failed (%s)\n", path.c_str(), r ? r->body.c_str() : "no answer");
    std::exit(1);
  }
  return r;
}

}  // namespace

int main() {
  const fs::path dir = fs::temp_directory_path() / ("uniem-bench-annotator-" + std::to_string(::getpid()));
  fs::create_directories(dir / "ws");
  // A volume of 1,000 blobs (a 10 x 10 x 10 grid of balls) and, in a second project, one ball of
  // about 1M voxels.
  Volume image(DType::u8, 100, 400, 400), many(DType::u16, 100, 400, 400), big(DType::u16, 100, 400, 400);
  image.voxel_size = many.voxel_size = big.voxel_size = {30, 6, 6, true};
  for (int64_t z = 0; z < 100; ++z)
    for (int64_t y = 0; y < 400; ++y)
      for (int64_t x = 0; x < 400; ++x) {
        const int64_t i = (z * 400 + y) * 400 + x;
        image.data<uint8_t>()[i] = static_cast<uint8_t>((x * 7 + y * 3 + z) % 256);
        const int64_t cz = z / 10, cy = y / 40, cx = x / 40;
        const double dz = (z % 10 - 4.5) / 4.5, dy = (y % 40 - 19.5) / 18, dx = (x % 40 - 19.5) / 18;
        if (dz * dz + dy * dy + dx * dx < 1) many.data<uint16_t>()[i] = static_cast<uint16_t>(1 + (cz * 10 + cy) * 10 + cx);
        const double bz = (z - 49.5) / 25, by = (y - 199.5) / 98, bx = (x - 199.5) / 98;
        if (bz * bz + by * by + bx * bx < 1) big.data<uint16_t>()[i] = 1;
      }
  int64_t big_voxels = 0;
  for (int64_t i = 0; i < big.voxels(); ++i) big_voxels += big.data<uint16_t>()[i] == 1;
  web::create_project(dir / "ws" / "big", image, &big, "image", "big");
  web::create_project(dir / "ws" / "many", image, &many, "image", "many");
  fs::create_directories(dir / "ws" / "meshes");
  write_label_meshes(many, "many", dir / "ws" / "meshes", MeshJob{});

  web::HttpOptions o;
  o.port = 0;
  o.token = "A";
  web::HttpServer http(o);
  web::ProjectShelf shelf(http, dir / "ws", {});
  web::DataService data(http, dir / "ws");
  web::AnnotatorService annotator(http, data.paths());
  const int port = http.bind();
  std::thread server([&] { http.listen(); });
  httplib::Client c("127.0.0.1", port);
  c.set_default_headers({{"X-Uniem-Token", "A"}});
  c.set_read_timeout(120, 0);
  get(c, "/projects/big/api/info");  // the session opened
  get(c, "/projects/many/api/info");

  // 1. The big segment.
  auto t = Clock::now();
  auto r = get(c, "/projects/big/api/mesh?segment=1");
  const double first = ms_since(t);
  const json info = json::parse(r->get_header_value("X-Uniem-Mesh"));
  std::vector<double> again;
  for (int k = 0; k < 20; ++k) {
    t = Clock::now();
    get(c, "/projects/big/api/mesh?segment=1");
    again.push_back(ms_since(t));
  }
  std::sort(again.begin(), again.end());
  std::printf("a segment of %lld voxels meshed when asked and served: %.0f ms (%lld triangles, %.1f MB); again (kept): %.1f ms "
              "(median of 20)\n", static_cast<long long>(big_voxels), first, static_cast<long long>(info["triangles"].get<int64_t>()),
              static_cast<double>(r->body.size()) / 1e6, again[again.size() / 2]);

  // 2. The first view of 1,000 segments: the table's first page and its 100 surfaces.
  for (const bool project : {true, false}) {
    t = Clock::now();
    const json page = json::parse(get(c, project ? "/projects/many/api/segments?count=100&offset=0&sort=id&order=up"
                                                 : "/api/meshes?path=meshes&limit=100")->body);
    const json& rows = project ? page["items"] : page["objects"];
    int64_t triangles = 0, bytes = 0;
    for (const auto& row : rows) {
      const std::string id = std::to_string(row["id"].get<int64_t>());
      auto s = get(c, project ? "/projects/many/api/mesh?segment=" + id : "/api/meshes/surface?path=meshes&id=" + id);
      bytes += static_cast<int64_t>(s->body.size());
      if (project) triangles += json::parse(s->get_header_value("X-Uniem-Mesh"))["triangles"].get<int64_t>();
    }
    const double ms = ms_since(t);
    std::printf("first view of %lld segments from %s: the table's first page and its %zu surfaces in %.0f ms; per segment %.0f bytes%s\n",
                static_cast<long long>(page["total"].get<int64_t>()), project ? "a proofreading project (made when asked)" : "a uniem mesh folder",
                rows.size(), ms, static_cast<double>(bytes) / static_cast<double>(rows.size()),
                project ? (", " + std::to_string(triangles / static_cast<int64_t>(rows.size())) + " triangles").c_str() : "");
  }
  http.stop();
  server.join();
  fs::remove_all(dir);
  return 0;
}
