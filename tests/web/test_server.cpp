// The proofreader's HTTP server with httplib's client: routes, errors, tokens, hostile input,
// concurrent clients and the event stream (web/server.h).
#include <doctest/doctest.h>
#include <lodepng.h>
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <random>
#include <thread>

#include "io/label_meshes.h"
#include "tests/web/served.h"
#include "web/proofreading/segment_meshes.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace uniem;
using namespace uniem::web;
using uniem::test::Served;

namespace {

json edit(httplib::Client& c, json body, int* status = nullptr) {
  const auto r = c.Post("/api/edit", body.dump(), "application/json");
  REQUIRE(r);
  if (status) *status = r->status;
  return json::parse(r->body);
}

}  // namespace

TEST_CASE("server: the page, the project, sections and an edit over HTTP") {
  Served s;
  auto c = s.client();
  auto page = c.Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->body.find("uniem proofreader") != std::string::npos);
  CHECK(c.Get("/assets/app.js")->body.find("EventSource") != std::string::npos);

  const json info = json::parse(c.Get("/api/info")->body);
  CHECK(info["shape"] == json({4, 96, 96}));
  CHECK(info["image_type"] == "uint16");
  CHECK(info["window"][0].get<double>() >= 1000);

  auto png = c.Get("/api/image?z=2&lo=1000&hi=4000");
  CHECK(png->status == 200);
  CHECK(png->get_header_value("Content-Type") == "image/png");
  CHECK(png->body.substr(1, 3) == "PNG");
  {  // the section in the window 1000..4000: value v shows as round((v - 1000) * 255 / 3000)
    unsigned char* pixels = nullptr;
    unsigned w = 0, h = 0;
    REQUIRE(lodepng_decode_memory(&pixels, &w, &h, reinterpret_cast<const unsigned char*>(png->body.data()), png->body.size(),
                                  LCT_GREY, 8) == 0);
    REQUIRE((w == 96 && h == 96));
    int wrong = 0;
    for (int64_t i = 0; i < 96 * 96; ++i) {
      const double v = 1000 + (2 * 96 * 96 + i) % 3000;
      wrong += pixels[i] != static_cast<unsigned char>(std::lround((v - 1000) * 255 / 3000));
    }
    std::free(pixels);
    CHECK(wrong == 0);
  }
  auto labels = c.Get("/api/labels?z=1");
  REQUIRE(labels->body.size() == 96 * 96 * 4);
  CHECK(labels->get_header_value("X-Uniem-Size") == "96,96");
  uint32_t first = 0, last = 0;
  std::memcpy(&first, labels->body.data(), 4);
  std::memcpy(&last, labels->body.data() + labels->body.size() - 4, 4);
  CHECK(first == 1);
  CHECK(last == 2);
  // The same section as runs: (id, count) pairs that expand to the raw voxels.
  auto runs = c.Get("/api/labels?z=1&encoding=runs");
  REQUIRE(runs->status == 200);
  REQUIRE(runs->body.size() % 8 == 0);
  CHECK(runs->body.size() < labels->body.size() / 4);
  std::vector<uint32_t> pairs(runs->body.size() / 4), expanded;
  std::memcpy(pairs.data(), runs->body.data(), runs->body.size());
  for (size_t k = 0; k < pairs.size(); k += 2) {
    CHECK(pairs[k + 1] > 0);
    if (k > 0) CHECK(pairs[k] != pairs[k - 2]);  // runs are maximal
    expanded.insert(expanded.end(), pairs[k + 1], pairs[k]);
  }
  REQUIRE(expanded.size() == 96 * 96);
  CHECK(std::memcmp(expanded.data(), labels->body.data(), labels->body.size()) == 0);
  // The segment list, a page at a time.
  const json list = json::parse(c.Get("/api/segments?count=1&offset=1&sort=id&order=down")->body);
  CHECK(list["total"] == 2);
  CHECK(list["items"].size() == 1);
  CHECK(list["items"][0]["id"] == 1);

  int status = 0;
  json r = edit(c, {{"op", "paint"}, {"user", "ann"}, {"version", 0}, {"z", 1}, {"points", {{0, 0}}}, {"radius", 1}, {"id", 2}}, &status);
  CHECK(status == 200);
  CHECK(r["version"] == 1);
  std::memcpy(&first, c.Get("/api/labels?z=1")->body.data(), 4);
  CHECK(first == 2);
  CHECK(json::parse(c.Get("/api/segment?id=2")->body)["box"] == json({0, 0, 0, 4, 96, 96}));

  r = json::parse(c.Post("/api/export", R"({"format":"tif","bits":16})", "application/json")->body);
  CHECK(r["file"] == "labels-v1.tif");
  auto file = c.Get("/exports/labels-v1.tif");
  CHECK(file->status == 200);
  CHECK(file->body.size() > 4 * 96 * 96 * 2);
  {  // A segment on sections 0 and 3 only: the jump goes to one of them, onto the segment.
    const json a = edit(c, {{"op", "paint"}, {"user", "ann"}, {"version", 1}, {"z", 0}, {"points", {{10, 10}}}, {"radius", 2}, {"id", "new"}});
    edit(c, {{"op", "paint"}, {"user", "ann"}, {"version", 2}, {"z", 3}, {"points", {{80, 80}}}, {"radius", 2}, {"id", a["id"]}});
    const json where = json::parse(c.Get("/api/segment?id=" + a["id"].dump())->body);
    REQUIRE(where["y"].get<int64_t>() >= 0);
    CHECK(where["z"] == 0);  // (1 is the middle of 0..3; 0 is nearer than 3)
    auto section = c.Get("/api/labels?z=0")->body;
    uint32_t there = 0;
    std::memcpy(&there, section.data() + 4 * (where["y"].get<int64_t>() * 96 + where["x"].get<int64_t>()), 4);
    CHECK(there == a["id"].get<uint32_t>());
  }
}

TEST_CASE("server: bad and hostile requests get 4xx JSON and change nothing") {
  Served s;
  auto c = s.client();
  struct Case {
    std::string method, path, body;
    int status;
  };
  const std::vector<Case> cases = {
      {"GET", "/api/image?z=99", "", 400},
      {"GET", "/api/image?z=-1", "", 400},
      {"GET", "/api/image?z=1x", "", 400},
      {"GET", "/api/image", "", 400},
      {"GET", "/api/image?z=1&lo=5&hi=5", "", 400},
      {"GET", "/api/labels?z=0&level=7", "", 400},
      {"GET", "/api/labels?z=0&encoding=rle", "", 400},
      {"GET", "/api/segments?count=0", "", 400},
      {"GET", "/api/segments?count=10&sort=colour", "", 400},
      {"GET", "/api/segments?count=10&order=sideways", "", 400},
      {"GET", "/api/segments?count=10&offset=-1", "", 400},
      {"GET", "/api/segments?count=10&search=" + std::string(300, 'a'), "", 400},
      {"GET", "/api/segment?id=77", "", 404},
      {"GET", "/api/nothing", "", 404},
      {"GET", "/assets/../project.json", "", 404},
      {"GET", "/exports/..%2Fproject.json", "", 404},
      {"GET", "/exports/%2e%2e", "", 400},
      {"GET", "/exports/missing.tif", "", 404},
      {"POST", "/api/edit", "{not json", 400},
      {"POST", "/api/edit", "[1,2]", 400},
      {"POST", "/api/edit", R"({"op":"merge","user":"a","version":0,"ids":[1,9]})", 404},
      {"POST", "/api/edit", std::string(2 << 20, 'x'), 413},
      {"POST", "/api/export", R"({"format":"bmp"})", 400},
      {"POST", "/api/export", R"({"format":"png","bits":32})", 400},
  };
  for (const auto& k : cases) {
    auto r = k.method == "GET" ? c.Get(k.path.c_str()) : c.Post(k.path.c_str(), k.body, "application/json");
    REQUIRE_MESSAGE(r, k.path);
    CHECK_MESSAGE(r->status == k.status, (k.method + " " + k.path + " -> " + std::to_string(r->status) + " " + r->body));
    CHECK_MESSAGE(json::parse(r->body).contains("error"), k.path);
  }

  // A fuzz-style loop: random bodies and paths never crash the server or change the project.
  std::mt19937 random(7);
  const std::vector<std::string> ops = {"paint", "erase", "fill", "merge", "split", "delete", "lock", "name", "marker", "undo"};
  const std::vector<json> junk = {nullptr, -1, 1e300, "x", json::array(), json::object(), json({1, 2, 3}), 4294967296LL, true};
  for (int k = 0; k < 400; ++k) {
    json body{{"op", ops[random() % ops.size()]}, {"user", "fuzz"}, {"version", 0}};
    for (const char* key : {"z", "y", "x", "id", "ids", "points", "radius", "seeds", "name", "mode"})
      if (random() % 2) body[key] = junk[random() % junk.size()];
    auto r = c.Post("/api/edit", body.dump(), "application/json");
    REQUIRE(r);
    CHECK(r->status >= 400);
    CHECK(r->status < 500);
    std::string path = "/";
    for (int n = static_cast<int>(random() % 40); n > 0; --n) path.push_back("ab./%2e_-?&=z1"[random() % 14]);
    auto g = c.Get(path.c_str());
    REQUIRE(g);
    CHECK(g->status < 500);
  }
  CHECK(s.session->version() == 0);
}

TEST_CASE("server: a token is asked on every request when set") {
  Served s("secret123");
  auto c = s.client();
  CHECK(c.Get("/api/info")->status == 401);
  CHECK(c.Get("/")->status == 401);
  CHECK(c.Get("/api/info?token=wrong")->status == 401);
  CHECK(c.Get("/api/info?token=secret123")->status == 200);
  c.set_default_headers({{"X-Uniem-Token", "secret123"}});
  CHECK(c.Get("/api/info")->status == 200);
  // The page loaded with the token gets the secret cookie; with it, its scripts, styles and API
  // calls need no token (a browser sends the cookie, not the token, for them).
  const auto page = s.bare().Get("/?token=secret123");
  REQUIRE(page);
  CHECK(page->status == 200);
  const std::string set = page->get_header_value("Set-Cookie");
  auto browser = s.bare();
  browser.set_default_headers({{"Cookie", set.substr(0, set.find(';'))}});
  CHECK(browser.Get("/assets/app.js")->status == 200);
  CHECK(browser.Get("/api/info")->status == 200);
  CHECK(s.bare().Get("/assets/app.js")->status == 401);  // without either
  CHECK(make_token().size() == 32);
  CHECK(make_token() != make_token());
}

TEST_CASE("server: with people's own tokens, locks and undo are theirs whatever name is sent") {
  ServerOptions options;
  options.users = {{"alice", "alice-token-0123456789"}, {"bob", "bob-token-0123456789"}};
  Served s("", options);
  auto as = [&](const std::string& token) {
    auto c = s.bare();
    c.set_default_headers({{"X-Uniem-Token", token}});
    return c;
  };
  auto alice = as("alice-token-0123456789"), bob = as("bob-token-0123456789");
  CHECK(s.bare().Get("/api/info")->status == 401);  // neither token: no access, even on loopback
  CHECK(json::parse(alice.Get("/api/info")->body)["user"] == "alice");
  CHECK(json::parse(bob.Get("/api/info")->body)["user"] == "bob");

  // Bob locks segment 2 and paints into it, sending no name at all.
  int status = 0;
  json r = edit(bob, {{"op", "lock"}, {"version", 0}, {"id", 2}}, &status);
  CHECK(status == 200);
  CHECK(r["user"] == "bob");
  r = edit(bob, {{"op", "paint"}, {"version", 1}, {"z", 1}, {"points", {{10, 40}}}, {"radius", 2}, {"id", 2}}, &status);
  CHECK(status == 200);
  const int64_t before = s.session->version();
  CHECK(s.session->label_at(1, 10, 40) == 2);

  // Alice, saying she is bob, can neither unlock, nor paint into his segment, nor undo his edits.
  r = edit(alice, {{"op", "unlock"}, {"user", "bob"}, {"version", before}, {"id", 2}}, &status);
  CHECK(status == 409);
  CHECK(r["error"].get<std::string>().find("locked by bob") != std::string::npos);
  edit(alice, {{"op", "delete"}, {"user", "bob"}, {"version", before}, {"id", 2}}, &status);
  CHECK(status == 409);
  r = edit(alice, {{"op", "undo"}, {"user", "bob"}, {"version", before}}, &status);
  CHECK(status == 409);
  CHECK(r["error"].get<std::string>().find("nothing to undo") != std::string::npos);
  CHECK(s.session->version() == before);

  // Her page's cookie stands for her token: the page loaded with it edits as alice.
  const auto page = s.bare().Get("/?token=alice-token-0123456789");
  REQUIRE(page);
  const std::string set = page->get_header_value("Set-Cookie");
  const std::string jar = set.substr(0, set.find(';'));
  auto browser = s.bare();
  browser.set_default_headers({{"Cookie", jar}});
  r = edit(browser, {{"op", "lock"}, {"user", "bob"}, {"version", before}, {"id", 1}}, &status);
  CHECK(status == 200);
  CHECK(r["user"] == "alice");
  CHECK(s.session->segments()[0]["locked_by"] == "alice");
  r = edit(browser, {{"op", "undo"}, {"user", "bob"}, {"version", before + 1}}, &status);  // her own lock, not his
  CHECK(status == 200);
  CHECK(r["user"] == "alice");
  CHECK(s.session->segments()[0]["locked_by"] == "");
  CHECK(s.session->segments()[1]["locked_by"] == "bob");
  CHECK(s.session->label_at(1, 10, 40) == 2);  // his stroke stays

  // The same browser loading bob's address becomes bob: his token wins over her cookie, and the
  // page gets his cookie.
  auto switching = s.bare();
  switching.set_default_headers({{"Cookie", jar}});
  const auto his = switching.Get("/?token=bob-token-0123456789");
  REQUIRE(his);
  const std::string bob_set = his->get_header_value("Set-Cookie");
  REQUIRE(!bob_set.empty());
  CHECK(bob_set.substr(0, bob_set.find('.')) != jar.substr(0, jar.find('.')));
  auto as_bob = s.bare();
  as_bob.set_default_headers({{"Cookie", bob_set.substr(0, bob_set.find(';'))}});
  CHECK(json::parse(as_bob.Get("/api/info")->body)["user"] == "bob");
  r = edit(as_bob, {{"op", "unlock"}, {"user", "alice"}, {"version", s.session->version()}, {"id", 2}}, &status);
  CHECK(status == 200);
  CHECK(s.session->segments()[1]["locked_by"] == "");
}

TEST_CASE("server: the xz and yz cuts hold the voxels of the sections") {
  Served s;
  auto c = s.client();
  int status = 0;
  edit(c, {{"op", "paint"}, {"user", "a"}, {"version", 0}, {"z", 2}, {"points", {{30, 20}}}, {"radius", 3}, {"id", "new"}}, &status);
  REQUIRE(status == 200);
  for (const auto& [plane, at] : std::vector<std::pair<std::string, int>>{{"xz", 30}, {"yz", 20}, {"xz", 95}, {"yz", 0}}) {
    CAPTURE(plane);
    CAPTURE(at);
    const auto raw = c.Get("/api/labels/plane?plane=" + plane + "&at=" + std::to_string(at));
    REQUIRE(raw->status == 200);
    CHECK(raw->get_header_value("X-Uniem-Size") == "4,96");
    REQUIRE(raw->body.size() == 4 * 96 * 4);
    std::vector<uint32_t> voxels(4 * 96);
    std::memcpy(voxels.data(), raw->body.data(), raw->body.size());
    const auto runs = c.Get("/api/labels/plane?plane=" + plane + "&at=" + std::to_string(at) + "&encoding=runs");
    std::vector<uint32_t> pairs(runs->body.size() / 4), expanded;
    std::memcpy(pairs.data(), runs->body.data(), runs->body.size());
    for (size_t k = 0; k + 1 < pairs.size(); k += 2) expanded.insert(expanded.end(), pairs[k + 1], pairs[k]);
    CHECK(expanded == voxels);
    int wrong = 0;
    for (int64_t z = 0; z < 4; ++z)
      for (int64_t k = 0; k < 96; ++k)
        wrong += voxels[z * 96 + k] != (plane == "xz" ? s.session->label_at(z, at, k) : s.session->label_at(z, k, at));
    CHECK(wrong == 0);
    // The image's cut, windowed as the sections are.
    const auto png = c.Get("/api/image/plane?plane=" + plane + "&at=" + std::to_string(at) + "&lo=1000&hi=4000");
    REQUIRE(png->status == 200);
    unsigned char* pixels = nullptr;
    unsigned w = 0, h = 0;
    REQUIRE(lodepng_decode_memory(&pixels, &w, &h, reinterpret_cast<const unsigned char*>(png->body.data()), png->body.size(),
                                  LCT_GREY, 8) == 0);
    REQUIRE((w == 96 && h == 4));
    wrong = 0;
    for (int64_t z = 0; z < 4; ++z)
      for (int64_t k = 0; k < 96; ++k) {
        const int64_t y = plane == "xz" ? at : k, x = plane == "xz" ? k : at;
        const double v = 1000 + (z * 96 * 96 + y * 96 + x) % 3000;
        wrong += pixels[z * 96 + k] != static_cast<unsigned char>(std::lround((v - 1000) * 255 / 3000));
      }
    std::free(pixels);
    CHECK(wrong == 0);
  }
  CHECK(c.Get("/api/labels/plane?plane=xy&at=1")->status == 400);
  CHECK(c.Get("/api/labels/plane?plane=xz&at=96")->status == 400);
  CHECK(c.Get("/api/image/plane?plane=yz")->status == 400);
}

TEST_CASE("server: ten concurrent clients making 100 edits each end with all 1000 applied once") {
  Served s;
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 10; ++t)
    clients.emplace_back([&, t] {
      auto c = s.client();
      for (int k = 0; k < 100; ++k) {
        // Each client paints its own voxels: client t, edit k -> (z, y, x) unique, id 1 or 2 flipped.
        const int64_t y = t * 9 + k / 12, x = (k % 12) * 8;
        const json body{{"op", "paint"}, {"user", "c" + std::to_string(t)}, {"version", 0}, {"z", 3},
                        {"points", {{y, x}}}, {"radius", 0.5}, {"id", x < 48 ? 2 : 1}};
        auto r = c.Post("/api/edit", body.dump(), "application/json");
        if (r && r->status == 200) ++acknowledged;
      }
    });
  for (auto& c : clients) c.join();
  CHECK(acknowledged == 1000);
  CHECK(s.session->version() == 1000);
  const Volume labels = s.session->labels();
  int flipped = 0;
  for (int64_t y = 0; y < 96; ++y)
    for (int64_t x = 0; x < 96; ++x) flipped += labels.at<uint32_t>(3, y, x) != (x < 48 ? 1u : 2u);
  CHECK(flipped == 1000);
  CHECK(s.session->history(1000).size() == 1000);
}

TEST_CASE("server: a second client sees an edit through the event stream") {
  Served s;
  std::atomic<bool> seen{false};
  std::string received;
  httplib::Client listener("127.0.0.1", s.port);
  listener.set_read_timeout(5, 0);
  std::thread t([&] {
    listener.Get("/api/events?since=0", [&](const char* data, size_t n) {
      received.append(data, n);
      if (received.find("\"paint\"") != std::string::npos) {
        seen = true;
        return false;
      }
      return true;
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto c = s.client();
  edit(c, {{"op", "paint"}, {"user", "ann"}, {"version", 0}, {"z", 1}, {"points", {{5, 5}}}, {"radius", 1}, {"id", 2}});
  t.join();
  CHECK(seen);
  CHECK(received.find("\"box\":[1,4,4,2,7,7]") != std::string::npos);
}

TEST_CASE("server: people who give no name are told apart by their browser, each undoing their own edits") {
  Served s;
  auto ann = s.client(), bea = s.client();
  const json paint{{"op", "paint"}, {"version", 0}, {"z", 0}, {"points", {{3, 3}}}, {"radius", 1}, {"id", 2}};
  int status = 0;
  const json a = edit(ann, paint, &status);
  REQUIRE(status == 200);
  json later = paint;
  later["points"] = {{60, 60}};
  later["id"] = 1;
  later["version"] = 1;
  const json b = edit(bea, later, &status);
  REQUIRE(status == 200);
  CHECK(a["user"].get<std::string>().rfind("anonymous-", 0) == 0);
  CHECK(a["user"] != b["user"]);
  // Ann's undo takes back her stroke, not Bea's later one.
  edit(ann, {{"op", "undo"}, {"version", 2}}, &status);
  CHECK(status == 200);
  CHECK(s.session->label_at(0, 3, 3) == 1);
  CHECK(s.session->label_at(0, 60, 60) == 1);
  // A cookie the browser already holds is kept across reloads (same person, same undo history).
  CHECK(ann.Get("/")->get_header_value("Set-Cookie").empty());
}

TEST_CASE("server: a segment's surface made when asked equals uniem mesh's, kept until the segment changes") {
  Served s;
  auto c = s.client();
  // What uniem mesh writes for the same labels.
  Volume labels(DType::u8, 4, 96, 96);
  for (int64_t i = 0; i < labels.voxels(); ++i) labels.data<uint8_t>()[i] = i % 96 < 48 ? 1 : 2;
  labels.voxel_size = s.session->project().info().voxel_size;
  fs::create_directories(s.dir / "meshes");
  write_label_meshes(labels, "labels", s.dir / "meshes", MeshJob{});
  std::ifstream written(s.dir / "meshes" / "label_1.ply", std::ios::binary);
  const std::string expected((std::istreambuf_iterator<char>(written)), {});
  // "element vertex N" and "element face M" of a PLY header.
  const auto counts = [](const std::string& ply) {
    const auto number_after = [&](const std::string& key) {
      const size_t at = ply.find(key);
      return at == std::string::npos ? int64_t{-1} : std::stoll(ply.substr(at + key.size()));
    };
    return std::make_pair(number_after("element vertex "), number_after("element face "));
  };
  std::ifstream table(s.dir / "meshes" / "measurements.csv");
  std::string line;
  std::getline(table, line);
  std::getline(table, line);  // label 1: label,voxels,voxel_volume_nm3,mesh_volume_nm3,surface_area_nm2,...
  std::vector<std::string> fields;
  for (size_t start = 0, end; start <= line.size(); start = end + 1) {
    end = std::min(line.find(',', start), line.size());
    fields.push_back(line.substr(start, end - start));
  }
  const double expected_area = std::stod(fields[4]);

  auto r = c.Get("/api/mesh?segment=1&detail=full");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const json info = json::parse(r->get_header_value("X-Uniem-Mesh"));
  CHECK(info["cached"] == false);
  CHECK(info["level"] == 1);
  CHECK(counts(r->body) == counts(expected));
  CHECK(counts(r->body).first > 0);
  CHECK(info["area_nm2"].get<double>() == doctest::Approx(expected_area).epsilon(0.001));
  // Asked again: kept.
  CHECK(json::parse(c.Get("/api/mesh/info?segment=1&detail=full")->body)["cached"] == true);
  // Segment 1 painted over in part: made anew, smaller.
  int status = 0;
  edit(c, {{"op", "paint"}, {"user", "ann"}, {"version", 0}, {"z", 2}, {"points", {{20, 20}}}, {"radius", 8}, {"id", 2}}, &status);
  REQUIRE(status == 200);
  const json again = json::parse(c.Get("/api/mesh/info?segment=1&detail=full")->body);
  CHECK(again["cached"] == false);
  CHECK(again["voxels"].get<int64_t>() < info["voxels"].get<int64_t>());
  CHECK(again["version"].get<int64_t>() > info["version"].get<int64_t>());
  // Unknown segments: 404 with a message.
  r = c.Get("/api/mesh?segment=77");
  CHECK(r->status == 404);
  CHECK(r->body.find("segment 77 does not exist") != std::string::npos);
}

TEST_CASE("server: a segment too large for one mesh is made at a coarser level, and a large surface decimated for display") {
  Served s;
  web::SegmentMeshes coarse(*s.session, 500, 4000);  // at most 500 triangles shown, 4000 voxels a box
  const auto mesh = coarse.get(1, false);
  CHECK(mesh->info["level"].get<int64_t>() >= 2);  // the box holds 4 x 96 x 48 voxels
  CHECK(mesh->info["triangles"].get<int64_t>() <= 500);
  CHECK(mesh->info["decimated"] == (mesh->info["full_triangles"].get<int64_t>() > 500));
  const auto full = coarse.get(1, true);
  CHECK(full->info["triangles"] == full->info["full_triangles"]);
}
