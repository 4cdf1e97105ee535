// The workbench's data service (web/workspace/): what a workspace holds, by kind; sections as
// PNG pictures with their window and colours; training logs read a piece at a time; and the rule
// that nothing outside the workspace and its added folders is listed or read (403, whether it
// exists or not), with a real HTTP server and client.
#include <doctest/doctest.h>
#include <httplib.h>
#include <lodepng.h>

#include <fstream>
#include <thread>

#include "io/stack.h"
#include "tests/web/served_workspace.h"
#include "web/http.h"
#include "web/workspace/data_service.h"
#include "web/workspace/section_picture.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace uniem;
using namespace uniem::test;

namespace {

// A workspace: an image stack (PNG folder), a label stack (multi-page TIFF), a 2D model with a
// training log, a proofreading project, a mesh folder, a run folder, a folder that is no stack.
struct Workspace : ServedWorkspace {
  Workspace() {
    Volume image(DType::u8, 5, 40, 60);
    for (int64_t i = 0; i < image.voxels(); ++i) image.data<uint8_t>()[i] = static_cast<uint8_t>(i % 200);
    image.voxel_size = {30, 6, 6, true};
    fs::create_directories(dir / "em");
    write_volume(dir / "em" / "image", image, {});
    Volume labels(DType::u16, 5, 40, 60);
    for (int64_t i = 0; i < labels.voxels(); ++i) labels.data<uint16_t>()[i] = static_cast<uint16_t>(i % 60 < 30 ? 7 : 0);
    write_volume(dir / "em" / "cells.tif", labels, {.format = StackFormat::multipage_tiff});
    fs::create_directories(dir / "unet");
    write_text(dir / "unet" / "model.json", R"({"format": "uniem-model-2d", "network": {"family": "unet"}})");
    write_text(dir / "unet" / "training-log.jsonl", "{\"step\": 10, \"loss\": 0.5}\n{\"step\": 20, \"loss\": 0.25}\n");
    fs::create_directories(dir / "proj");
    write_text(dir / "proj" / "project.json", R"({"shape": [5, 40, 60]})");
    fs::create_directories(dir / "meshes");
    write_text(dir / "meshes" / "measurements.csv", "id,voxels\n1,10\n2,20\n");
    fs::create_directories(dir / "runs" / "job-1");
    write_text(dir / "runs" / "job-1" / "run.json", R"({"exit_status": 0, "steps": [{"command": "label"}]})");
    fs::create_directories(dir / "broken");
    write_text(dir / "broken" / "0.png", "not a png");
    fs::create_directories(dir / ".uniem");
    write_text(dir / ".uniem" / "page-secret", "secret");
    start();
  }
};

json find(const json& items, const std::string& path) {
  for (const auto& i : items)
    if (i["path"] == path) return i;
  return json();
}

std::vector<unsigned char> decode(const std::string& png, unsigned& w, unsigned& h, LodePNGColorType type) {
  unsigned char* pixels = nullptr;
  REQUIRE(lodepng_decode_memory(&pixels, &w, &h, reinterpret_cast<const unsigned char*>(png.data()), png.size(), type, 8) == 0);
  std::vector<unsigned char> out(pixels, pixels + w * h * (type == LCT_RGB ? 3 : 1));
  std::free(pixels);
  return out;
}

}  // namespace

TEST_CASE("data service: the workspace by kind, with each stack's shape, type and voxel size") {
  Workspace w;
  const json list = w.get_json("/api/data");
  const json& items = list["items"];
  const json image = find(items, "em/image");
  REQUIRE(image.is_object());
  CHECK(image["kind"] == "images");
  CHECK(image["shape"] == json({5, 40, 60}));
  CHECK(image["dtype"] == "uint8");
  CHECK(image["voxel_size"]["z"] == 30.0);
  CHECK(image["format"] == "folder of 5 PNG files");
  CHECK(image["bytes"].get<int64_t>() > 0);
  CHECK(image["thumbnail"].get<std::string>().find("z=2") != std::string::npos);  // the middle section
  const json cells = find(items, "em/cells.tif");
  CHECK(cells["kind"] == "labels");  // 16 bits
  CHECK(cells["format"] == "multi-page TIFF");
  CHECK(find(items, "unet")["kind"] == "model2d");
  CHECK(find(items, "unet")["details"]["steps"] == 20);
  CHECK(find(items, "proj")["kind"] == "project");
  CHECK(find(items, "proj")["open"] == "projects/proj/");
  CHECK(find(items, "meshes")["details"]["objects"] == 2);
  CHECK(find(items, "runs/job-1")["kind"] == "run");
  CHECK(find(items, "runs/job-1")["details"]["commands"] == json({"label"}));
  REQUIRE(list["problems"].size() == 1);  // the folder that is no stack, with the reader's message
  CHECK(list["problems"][0]["path"] == "broken");
  CHECK(list["problems"][0]["message"].get<std::string>().find("0.png") != std::string::npos);
  for (const auto& i : items) CHECK(i["path"].get<std::string>().find(".uniem") == std::string::npos);
}

TEST_CASE("data service: OME-Zarr images and N5 datasets are stacks; their chunks are not walked") {
  Workspace w;
  Volume v(DType::u8, 3, 20, 30);
  for (int64_t i = 0; i < v.voxels(); ++i) v.data<uint8_t>()[i] = static_cast<uint8_t>(i % 90);
  write_volume(w.dir / "em" / "image.zarr", v, {.format = StackFormat::ome_zarr});
  fs::create_directories(w.dir / "vol.n5" / "raw" / "0" / "0");
  write_text(w.dir / "vol.n5" / "attributes.json", R"({"n5": "2.0.0"})");
  write_text(w.dir / "vol.n5" / "raw" / "attributes.json",
             R"({"dimensions": [2, 2, 1], "blockSize": [2, 2, 1], "dataType": "uint8", "compression": {"type": "raw"}})");
  write_text(w.dir / "vol.n5" / "raw" / "0" / "0" / "0", std::string("\0\0\0\3\0\0\0\2\0\0\0\2\0\0\0\1\1\2\3\4", 20));
  const json list = w.get_json("/api/data");
  const json zarr = find(list["items"], "em/image.zarr");
  CHECK(zarr["format"] == "OME-Zarr");
  CHECK(zarr["shape"] == json({3, 20, 30}));
  CHECK(find(list["items"], "vol.n5/raw")["shape"] == json({1, 2, 2}));
  for (const auto& i : list["items"]) CHECK(i["path"].get<std::string>().find("image.zarr/") == std::string::npos);
  CHECK(list["problems"].size() == 1);  // still only the folder that is no stack
  const auto picture = w.get("/api/data/section?path=em/image.zarr&z=1");
  CHECK(picture->status == 200);
}

TEST_CASE("data service: each volume of an HDF5 file is a stack; a file outside by a link is refused") {
  Workspace w;
  Volume raw(DType::u8, 2, 16, 24), labels(DType::u16, 2, 16, 24);
  for (int64_t i = 0; i < raw.voxels(); ++i) raw.data<uint8_t>()[i] = static_cast<uint8_t>(i), labels.data<uint16_t>()[i] = static_cast<uint16_t>(i / 50);
  write_volume(w.dir / "cremi.h5:volumes/raw", raw, {.format = StackFormat::hdf5});
  write_volume(w.dir / "cremi.h5:volumes/labels/neuron_ids", labels, {.format = StackFormat::hdf5});
  const json list = w.get_json("/api/data");
  const json r = find(list["items"], "cremi.h5:volumes/raw");
  CHECK(r["format"] == "HDF5 dataset");
  CHECK(r["kind"] == "images");
  CHECK(r["shape"] == json({2, 16, 24}));
  CHECK(find(list["items"], "cremi.h5:volumes/labels/neuron_ids")["kind"] == "labels");
  CHECK(w.get("/api/data/section?path=cremi.h5:volumes/raw&z=1")->status == 200);
  // A link inside the workspace to a file outside it: the file is what is checked, not the dataset.
  const fs::path outside = fs::path(w.dir.path().string() + "-outside.h5");
  fs::copy_file(w.dir / "cremi.h5", outside, fs::copy_options::overwrite_existing);
  fs::create_symlink(outside, w.dir / "link.h5");
  CHECK(w.get("/api/data/section?path=link.h5:volumes/raw&z=1")->status == 403);
  fs::remove(outside);
}

TEST_CASE("data service: /share/ gives viewers the files as they are, with byte ranges, to the sites named") {
  Workspace w;
  std::ifstream in(w.dir / "em" / "cells.tif", std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  httplib::Client viewer("127.0.0.1", w.port);  // no token header, no cookie: a viewer in another site's page
  auto r = viewer.Get("/share/T/em/cells.tif", httplib::Headers{{"Range", "bytes=8-23"}, {"Origin", "http://viewer.example:9000"}, {"Sec-Fetch-Site", "cross-site"}});
  REQUIRE(r);
  CHECK(r->status == 206);
  CHECK(r->body == file.substr(8, 16));
  CHECK(r->get_header_value("Content-Range") == "bytes 8-23/" + std::to_string(file.size()));
  CHECK(r->get_header_value_count("Access-Control-Allow-Origin") == 1);
  CHECK(r->get_header_value("Access-Control-Allow-Origin") == "http://viewer.example:9000");
  r = viewer.Get("/share/T/em/cells.tif");
  CHECK(r->status == 200);
  CHECK(r->body == file);
  // The preflight a viewer sends for its Range header.
  r = viewer.Options("/share/T/em/cells.tif", httplib::Headers{{"Origin", "http://viewer.example:9000"}, {"Access-Control-Request-Headers", "range"}});
  CHECK(r->status == 204);
  CHECK(r->get_header_value_count("Access-Control-Allow-Origin") == 1);
  CHECK(r->get_header_value("Access-Control-Allow-Headers") == "Range");
  // Refused: another site, no token, the workspace's hidden files, paths outside, folders.
  r = viewer.Get("/share/T/em/cells.tif", httplib::Headers{{"Origin", "http://evil.example"}, {"Sec-Fetch-Site", "cross-site"}});
  CHECK(r->status == 403);
  CHECK(!r->has_header("Access-Control-Allow-Origin"));
  CHECK(viewer.Options("/share/T/em/cells.tif", httplib::Headers{{"Origin", "http://evil.example"}})->status == 403);
  CHECK(viewer.Get("/share/em/cells.tif")->status == 401);
  CHECK(viewer.Get("/share/wrong/em/cells.tif")->status == 401);
  CHECK(viewer.Get("/share/T/.uniem/page-secret")->status == 403);
  CHECK(viewer.Get("/share/T/../outside.txt")->status != 200);
  CHECK(viewer.Get("/share/T/em")->status == 404);
  CHECK(w.get("/share/em/cells.tif")->status == 200);  // the token in the header does as well
}

TEST_CASE("data service: a broken project.json or mesh folder leaves the list readable") {
  Workspace w;
  fs::create_directories(w.dir / "badproj");
  write_text(w.dir / "badproj" / "project.json", "{\"shape\": [1, 2");
  write_text(w.dir / "meshes" / ("label_" + std::string(25, '9') + ".ply"), "x");
  auto r = w.get("/api/data");
  REQUIRE(r->status == 200);
  const json list = json::parse(r->body, nullptr, false);
  REQUIRE(!list.is_discarded());
  CHECK(find(list["items"], "badproj")["kind"] == "project");
}

TEST_CASE("data service: a section as a picture, in a window, shrunk, and labels in their colours") {
  Workspace w;
  auto r = w.get("/api/data/section?path=em/image&z=3");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "image/png");
  unsigned width = 0, height = 0;
  auto grey = decode(r->body, width, height, LCT_GREY);
  CHECK((width == 60 && height == 40));
  const int64_t base = 3 * 40 * 60;
  CHECK(grey[0] == (base % 200));  // 8 bits: shown as they are
  CHECK(grey[61] == ((base + 61) % 200));
  // the window 100..150: 100 black, 150 and above white, in between stretched
  grey = decode(w.get("/api/data/section?path=em/image&z=0&low=100&high=150")->body, width, height, LCT_GREY);
  CHECK(grey[10] == 0);
  CHECK(grey[125] == 128);  // (125 - 100) * 255 / 50 = 127.5, rounded up
  CHECK(grey[199] == 255);
  // at most 20 pixels on the longer side: every 3 x 3 voxels averaged
  decode(w.get("/api/data/section?path=em/image&z=0&size=20")->body, width, height, LCT_GREY);
  CHECK((width == 20 && height == 14));
  // labels: id 7 in its colour on the left, 0 black on the right
  auto rgb = decode(w.get("/api/data/section?path=em/cells.tif&z=4&as=labels")->body, width, height, LCT_RGB);
  const uint32_t seven = web::label_colour(7);
  CHECK(rgb[0] == (seven >> 16));
  CHECK(rgb[1] == ((seven >> 8) & 255));
  CHECK(rgb[2] == (seven & 255));
  CHECK((rgb[3 * 45] == 0 && rgb[3 * 45 + 1] == 0 && rgb[3 * 45 + 2] == 0));
  CHECK(web::label_colour(7) != web::label_colour(8));

  CHECK(w.get("/api/data/section?path=em/image&z=5")->status == 404);  // sections 0..4
  CHECK(w.get("/api/data/section?path=em/image")->status == 400);
  CHECK(w.get("/api/data/section?path=em/image&z=0&low=5&high=5")->status == 400);
  CHECK(w.get("/api/data/section?path=unet&z=0")->status == 404);  // no stack
}

TEST_CASE("data service: nothing outside the workspace and its added folders, the same answer whether it exists") {
  Workspace w;
  TempDir outside("uniem-outside");
  Volume image(DType::u8, 2, 8, 8);
  write_volume(outside / "stack", image, {});
  for (const std::string& path : std::vector<std::string>{"/etc/passwd", "/no/such/file", "../", (outside / "stack").string(), ".uniem/page-secret",
                                 "em/../../x", "%2Fetc%2Fpasswd"}) {
    auto r = w.get("/api/data/file?path=" + path);
    REQUIRE(r);
    CHECK_MESSAGE(r->status == 403, path);
    CHECK(r->body.find("outside the workspace") != std::string::npos);
    CHECK(w.get("/api/data/section?z=0&path=" + path)->status == 403);
    CHECK(w.get("/api/training/log?path=" + path)->status == 403);
  }
  fs::create_symlink("/etc", w.dir / "em" / "link");  // a link out is outside too
  CHECK(w.get("/api/data/file?path=em/link/passwd")->status == 403);
  CHECK(w.get("/api/data/file?path=nothing/../em/link/passwd")->status == 403);  // also behind a made-up folder
  CHECK(w.get("/api/data/file?path=" + std::string(300, 'a') + "/../em/link/passwd")->status == 403);

  // Added (from this computer): then listed and readable; removed: refused again.
  httplib::Client c = w.client();
  auto add = [&](const std::string& path) { return c.Post("/api/data/folders", json({{"path", path}}).dump(), "application/json"); };
  CHECK(add("relative/path")->status == 400);
  CHECK(add("/")->status == 400);
  CHECK(add("/etc")->status == 400);
  CHECK(add((outside / "nothing").string())->status == 400);
  auto added = add(outside.path().string());
  REQUIRE(added);
  REQUIRE_MESSAGE(added->status == 200, added->body);
  CHECK(json::parse(added->body)["folders"].size() == 1);
  CHECK(find(w.get_json("/api/data")["items"], (outside / "stack").string())["kind"] == "images");
  CHECK(w.get("/api/data/section?z=1&path=" + (outside / "stack").string())->status == 200);
  CHECK(fs::exists(w.dir / ".uniem" / "folders.json"));
  auto removed = c.Post("/api/data/folders/remove", json({{"path", outside.path().string()}}).dump(), "application/json");
  CHECK(removed->status == 200);
  CHECK(w.get("/api/data/section?z=1&path=" + (outside / "stack").string())->status == 403);
}

TEST_CASE("data service: a training log read a piece at a time, as the monitor polls it") {
  Workspace w;
  const json runs = w.get_json("/api/training")["runs"];
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["path"] == "unet");
  CHECK(runs[0]["steps"] == 20);
  CHECK(runs[0]["kind"] == "train2d");
  json log = w.get_json("/api/training/log?path=unet&since=0");
  CHECK(log["lines"].size() == 2);
  CHECK(log["model"]["network"]["family"] == "unet");
  const int64_t next = log["next"];
  // a line being written is not given until it is whole
  std::ofstream(w.dir / "unet" / "training-log.jsonl", std::ios::app) << "{\"step\": 30, \"lo";
  log = w.get_json("/api/training/log?path=unet&since=" + std::to_string(next));
  CHECK(log["lines"].empty());
  CHECK(log["next"] == next);
  CHECK(!log.contains("model"));
  std::ofstream(w.dir / "unet" / "training-log.jsonl", std::ios::app) << "ss\": 0.125}\n";
  log = w.get_json("/api/training/log?path=unet&since=" + std::to_string(next));
  REQUIRE(log["lines"].size() == 1);
  CHECK(log["lines"][0]["loss"] == 0.125);
  // rewritten shorter (a resumed training drops later lines): from the start again
  write_text(w.dir / "unet" / "training-log.jsonl", "{\"step\": 10, \"loss\": 0.5}\n");
  log = w.get_json("/api/training/log?path=unet&since=" + std::to_string(next));
  CHECK(log["reset"] == true);
  CHECK(log["lines"].size() == 1);
  // sample pictures, in the order of their steps
  fs::create_directories(w.dir / "unet" / "samples");
  write_text(w.dir / "unet" / "samples" / "step-100.png", "x");
  write_text(w.dir / "unet" / "samples" / "step-20.png", "x");
  const json samples = w.get_json("/api/training/samples?path=unet")["samples"];
  REQUIRE(samples.size() == 2);
  CHECK(samples[0]["step"] == 20);
  CHECK(samples[1]["url"] == "api/data/file?path=unet/samples/step-100.png");
  CHECK(w.get("/api/training/log?path=em&since=0")->status == 404);
}

TEST_CASE("data service: a filter preview on a crop of a section, as uniem filter computes it") {
  Workspace w;
  // No steps: the crop as it is; two steps: as uniem filter's pipeline gives them, in 2D.
  auto r = w.get("/api/data/preview?path=em/image&z=2&crop=32&cy=20&cx=30&steps=" + web::url_component("[]"));
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const json info = json::parse(r->get_header_value("X-Uniem-Preview"));
  CHECK(info["crop"] == json({4, 14, 32, 32}));
  unsigned width = 0, height = 0;
  auto plain = decode(r->body, width, height, LCT_GREY);
  CHECK((width == 32 && height == 32));
  CHECK(plain[0] == ((2 * 40 * 60 + 4 * 60 + 14) % 200));
  r = w.get("/api/data/preview?path=em/image&z=2&crop=32&steps=" + web::url_component(R"([{"threshold": 99}, {"invert": true}])"));
  REQUIRE(r->status == 200);
  CHECK(json::parse(r->get_header_value("X-Uniem-Preview"))["dtype"] == "uint8");
  const auto mask = decode(r->body, width, height, LCT_GREY);
  const int64_t y0 = json::parse(r->get_header_value("X-Uniem-Preview"))["crop"][0], x0 = json::parse(r->get_header_value("X-Uniem-Preview"))["crop"][1];
  const int value = static_cast<int>((2 * 40 * 60 + y0 * 60 + x0) % 200);
  CHECK(mask[0] == (value > 99 ? 0 : 255));  // above 99: 255, inverted
  // A bad step: the command line's message and which step.
  r = w.get("/api/data/preview?path=em/image&steps=" + web::url_component(R"([{"gaussian": 1}, {"median": "wide"}])"));
  CHECK(r->status == 400);
  const json refused = json::parse(r->body);
  CHECK(refused["step"] == 1);
  CHECK(refused["error"].get<std::string>().find("--median: 'wide' is not a number") != std::string::npos);
  CHECK(w.get("/api/data/preview?path=/etc&steps=[]")->status == 403);
  // Values that would make a filter run for hours or overflow are refused before it runs.
  for (const char* step : {R"([{"gaussian": 1e300}])", R"([{"gaussian": "nan"}])", R"([{"median": 1000000}])", R"([{"canny": "1,2,1e300"}])"}) {
    CAPTURE(step);
    CHECK(w.get(std::string("/api/data/preview?path=em/image&steps=") + web::url_component(step))->status == 400);
  }
}
