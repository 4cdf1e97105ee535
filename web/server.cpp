#include "web/server.h"

#include <httplib.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "io/stack.h"
#include "web/pages.h"
#include "web/proofreading/project_export.h"
#include "web/proofreading/segment_meshes.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::web {
namespace {

std::string gzip(const std::string& data) {
  z_stream s{};
  UNIEM_CHECK(deflateInit2(&s, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2 failed");
  std::string out(deflateBound(&s, static_cast<uLong>(data.size())) + 32, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&s, Z_FINISH);
  deflateEnd(&s);
  UNIEM_CHECK(rc == Z_STREAM_END, "gzip: deflate did not finish");
  out.resize(s.total_out);
  return out;
}

}  // namespace

std::string export_labels(const Session& session, const std::string& format, int bits) {
  if (format != "tif" && format != "png") throw RequestError(400, "'format' is tif or png");
  if (bits != 0 && bits != 8 && bits != 16 && bits != 32) throw RequestError(400, "'bits' is 0 (smallest), 8, 16 or 32");
  if (format == "png" && bits == 32) throw RequestError(400, "PNG holds 8 or 16 bits; export 32-bit labels as tif");
  ProjectExport exported;
  try {
    exported = read_export(session, bits);
    if (format == "png" && exported.labels.dtype() == DType::u32)
      throw InputError("the labels have ids above 65535, which PNG cannot hold; export as tif");
  } catch (const RequestError&) {
    throw;
  } catch (const InputError& e) {
    throw RequestError(409, e.what());
  }
  const std::string name = "labels-v" + std::to_string(exported.version) + (format == "tif" ? ".tif" : "");
  WriteOptions options;
  options.format = format == "tif" ? StackFormat::multipage_tiff : StackFormat::png_folder;
  options.overwrite = true;
  write_export(session.project().folder() / "exports" / name, exported, options);
  return name;
}

void add_proofreading_routes(HttpServer& http, const std::string& prefix, SessionOf session_of) {

  HttpServer& s = http;
  add_page_routes(s, "index.html", prefix);
  add_page_routes(s, "annotator.html", prefix + "/annotator");  // the 3D annotator on this project

  // Surfaces of segments, per session (a workbench serves several projects).
  struct Meshes {
    std::mutex mutex;
    std::map<const Session*, std::unique_ptr<SegmentMeshes>> of;
  };
  auto meshes = std::make_shared<Meshes>();
  auto mesh_of = [session_of, meshes](const httplib::Request& req, bool* cached) {
    Session& session = session_of(req);
    const int64_t id = query_integer(req, "segment", 1, UINT32_MAX, 0, true);
    const bool full = req.has_param("detail") && req.get_param_value("detail") == "full";
    SegmentMeshes* made = nullptr;
    {
      std::lock_guard<std::mutex> lock(meshes->mutex);
      auto& m = meshes->of[&session];
      if (!m) m = std::make_unique<SegmentMeshes>(session);
      made = m.get();
    }
    return made->get(static_cast<uint32_t>(id), full, cached);
  };
  s.get(prefix + "/api/mesh", [mesh_of](const httplib::Request& req, httplib::Response& res) {
    bool cached = false;
    const auto mesh = mesh_of(req, &cached);
    nlohmann::json info = mesh->info;
    info["cached"] = cached;
    res.set_header("X-Uniem-Mesh", info.dump());
    res.set_header("Cache-Control", "no-store");
    res.set_content(mesh->ply, "application/octet-stream");
  });
  s.get(prefix + "/api/mesh/info", [mesh_of](const httplib::Request& req, httplib::Response& res) {
    bool cached = false;
    nlohmann::json info = mesh_of(req, &cached)->info;
    info["cached"] = cached;
    send_json(res, info);
  });
  s.get(prefix + "/api/info", [session_of, &http](const httplib::Request& req, httplib::Response& res) {
    json info = session_of(req).info();
    const std::string user = http.user(req), client = http.client(req);
    if (!user.empty()) info["user"] = user;
    if (!client.empty()) info["anonymous"] = "anonymous-" + client.substr(0, 6);
    send_json(res, info);
  });
  s.get(prefix + "/api/image", [session_of](const httplib::Request& req, httplib::Response& res) {
    Session& session = session_of(req);
    const ProjectInfo& info = session.project().info();
    const int64_t z = query_integer(req, "z", 0, info.shape[0] - 1, 0, true);
    const int level = static_cast<int>(query_integer(req, "level", 0, info.levels - 1, 0, false));
    const double lo = query_number(req, "lo", info.window[0]), hi = query_number(req, "hi", info.window[1]);
    if (hi <= lo) throw RequestError(400, "'hi' must be above 'lo'");
    res.set_header("Cache-Control", "max-age=3600");
    res.set_content(session.project().image_png(z, level, lo, hi), "image/png");
  });
  s.get(prefix + "/api/labels", [session_of](const httplib::Request& req, httplib::Response& res) {
    Session& session = session_of(req);
    const ProjectInfo& info = session.project().info();
    const int64_t z = query_integer(req, "z", 0, info.shape[0] - 1, 0, true);
    const int level = static_cast<int>(query_integer(req, "level", 0, info.levels - 1, 0, false));
    const std::string encoding = req.has_param("encoding") ? req.get_param_value("encoding") : "raw";
    if (encoding != "raw" && encoding != "runs") throw RequestError(400, "'encoding' is raw or runs");
    // Runs: a 1024 x 1024 section of cells some 50 voxels wide is 180 kB instead of 4 MB, made
    // in about a millisecond, where gzip of the raw section took 15 ms.
    std::string body = encoding == "runs" ? session.label_runs(z, level) : session.label_slice(z, level);
    const auto size = session.project().level_size(level);
    res.set_header("X-Uniem-Size", std::to_string(size[0]) + "," + std::to_string(size[1]));
    res.set_header("Cache-Control", "no-store");
    if (encoding == "raw" && req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos) {
      res.set_header("Content-Encoding", "gzip");
      body = gzip(body);
    }
    res.set_content(std::move(body), "application/octet-stream");
  });
  // The cuts across the sections (the page's xz and yz views), at full resolution.
  auto plane_of = [](const httplib::Request& req, const ProjectInfo& info, int64_t& at) {
    const std::string plane = req.has_param("plane") ? req.get_param_value("plane") : "";
    if (plane != "xz" && plane != "yz") throw RequestError(400, "'plane' is xz (the cut through y = at) or yz (through x = at)");
    at = query_integer(req, "at", 0, info.shape[plane == "xz" ? 1 : 2] - 1, 0, true);
    return plane;
  };
  s.get(prefix + "/api/image/plane", [session_of, plane_of](const httplib::Request& req, httplib::Response& res) {
    Session& session = session_of(req);
    const ProjectInfo& info = session.project().info();
    int64_t at = 0;
    const std::string plane = plane_of(req, info, at);
    const double lo = query_number(req, "lo", info.window[0]), hi = query_number(req, "hi", info.window[1]);
    if (hi <= lo) throw RequestError(400, "'hi' must be above 'lo'");
    res.set_header("Cache-Control", "max-age=3600");
    res.set_content(session.project().image_plane_png(plane, at, lo, hi), "image/png");
  });
  s.get(prefix + "/api/labels/plane", [session_of, plane_of](const httplib::Request& req, httplib::Response& res) {
    Session& session = session_of(req);
    const ProjectInfo& info = session.project().info();
    int64_t at = 0;
    const std::string plane = plane_of(req, info, at);
    const std::string encoding = req.has_param("encoding") ? req.get_param_value("encoding") : "raw";
    if (encoding != "raw" && encoding != "runs") throw RequestError(400, "'encoding' is raw or runs");
    res.set_header("X-Uniem-Size", std::to_string(info.shape[0]) + "," + std::to_string(info.shape[plane == "xz" ? 2 : 1]));
    res.set_header("Cache-Control", "no-store");
    res.set_content(session.label_plane(plane, at, encoding == "runs"), "application/octet-stream");
  });
  s.get(prefix + "/api/segments", [session_of](const httplib::Request& req, httplib::Response& res) {
    Session& session = session_of(req);
    if (!req.has_param("count")) return send_json(res, session.segments());
    SegmentQuery q;
    q.offset = query_integer(req, "offset", 0, INT32_MAX, 0, false);
    q.count = query_integer(req, "count", 1, 10000, 500, true);
    q.sort = req.has_param("sort") ? req.get_param_value("sort") : "id";
    if (q.sort != "id" && q.sort != "voxels" && q.sort != "name") throw RequestError(400, "'sort' is id, voxels or name");
    const std::string order = req.has_param("order") ? req.get_param_value("order") : "up";
    if (order != "up" && order != "down") throw RequestError(400, "'order' is up or down");
    q.descending = order == "down";
    q.search = req.has_param("search") ? req.get_param_value("search") : "";
    if (q.search.size() > 200) throw RequestError(400, "'search' is longer than 200 characters");
    send_json(res, session.segment_page(q));
  });
  s.get(prefix + "/api/segment", [session_of](const httplib::Request& req, httplib::Response& res) {
    Session& session = session_of(req);
    send_json(res, session.locate(static_cast<uint32_t>(query_integer(req, "id", 1, UINT32_MAX, 0, true))));
  });
  s.get(prefix + "/api/fill", [session_of](const httplib::Request& req, httplib::Response& res) {
    Session& session = session_of(req);
    const auto shape = session.project().info().shape;
    send_json(res, session.fill_preview(query_integer(req, "z", 0, shape[0] - 1, 0, true),
                                        query_integer(req, "y", 0, shape[1] - 1, 0, true),
                                        query_integer(req, "x", 0, shape[2] - 1, 0, true)));
  });
  s.get(prefix + "/api/review", [session_of](const httplib::Request& req, httplib::Response& res) {
    Session& session = session_of(req);
    ReviewRules rules;
    rules.small_below = query_integer(req, "small", 0, INT64_MAX / 2, 0, false);
    send_json(res, session.review(rules));
  });
  s.get(prefix + "/api/markers", [session_of](const httplib::Request& req, httplib::Response& res) {
    Session& session = session_of(req); send_json(res, session.markers()); });
  s.get(prefix + "/api/history", [session_of](const httplib::Request& req, httplib::Response& res) {
    Session& session = session_of(req);
    send_json(res, session.history(query_integer(req, "count", 1, 1000, 50, false)));
  });
  s.stream(prefix + "/api/events", [session_of](const httplib::Request& req) -> StreamStep {
    Session& session = session_of(req);
    int64_t seen = query_integer(req, "since", 0, INT64_MAX / 2, 0, true);
    return [&session, seen]() mutable {
      const json e = session.wait_events(seen, std::chrono::seconds(2));
      seen = e["version"].get<int64_t>();
      return e.contains("reload") || !e["events"].empty() ? "data: " + e.dump() + "\n\n" : std::string(": idle\n\n");
    };
  });
  s.post(prefix + "/api/edit", [session_of, &http](const httplib::Request& req, const json& request, httplib::Response& res) {
    Session& session = session_of(req);
    // A person with their own token is that person, whatever name the request gives.
    const std::string user = http.user(req);
    if (request.is_object() && !user.empty()) {
      json named = request;
      named["user"] = user;
      json result = session.apply(named);
      result["user"] = user;
      return send_json(res, result);
    }
    // People who give no name are told apart by their browser, so that undo takes back their own.
    const std::string client = http.client(req);
    if (request.is_object() && !client.empty() && request.value("user", json("anonymous")) == "anonymous") {
      json named = request;
      named["user"] = "anonymous-" + client.substr(0, 6);
      json result = session.apply(named);
      result["user"] = named["user"];
      return send_json(res, result);
    }
    send_json(res, session.apply(request));
  });
  s.post(prefix + "/api/export", [session_of](const httplib::Request& req, const json& request, httplib::Response& res) {
    Session& session = session_of(req);
    if (!request.is_object()) throw RequestError(400, "the body must be a JSON object");
    const json format = request.value("format", json("tif")), bits = request.value("bits", json(0));
    if (!format.is_string() || !bits.is_number_integer()) throw RequestError(400, "'format' is a string, 'bits' a number");
    const std::string name = export_labels(session, format.get<std::string>(), bits.get<int>());
    const fs::path stack = session.project().folder() / "exports" / name;
    json tables = json::array();
    for (const fs::path& table : export_table_paths(stack)) tables.push_back(table.filename().string());
    send_json(res, json{{"file", name}, {"path", stack.string()}, {"tables", tables}});
  });
  s.get(prefix + R"(/exports/([^/]+))", [session_of](const httplib::Request& req, httplib::Response& res) {
    Session& session = session_of(req);
    const std::string name = req.matches[req.matches.size() - 1];
    if (!safe_name(name, 128)) throw RequestError(400, "not an export name: " + name);
    const fs::path file = session.project().folder() / "exports" / name;
    if (!fs::is_regular_file(file)) throw RequestError(404, "no export named " + name);
    std::ifstream in(file, std::ios::binary);
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
    res.set_content(std::move(body), "application/octet-stream");
  });
}

Server::Server(Session& session, ServerOptions options) : session_(session), http_(std::move(options)) {
  add_proofreading_routes(http_, "", [this](const httplib::Request&) -> Session& { return session_; });
}

Server::~Server() { stop(); }

int Server::bind() { return http_.bind(); }

void Server::listen() { http_.listen(); }

void Server::stop() { http_.stop(); }

}  // namespace uniem::web
