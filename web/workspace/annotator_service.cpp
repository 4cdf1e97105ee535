#include "web/workspace/annotator_service.h"

#include <httplib.h>

#include <fstream>

#include "io/mesh_files.h"
#include "web/request_error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::web {
namespace {

std::string param(const httplib::Request& req, const char* key) {
  if (!req.has_param(key)) throw RequestError(400, std::string("the query needs '") + key + "'");
  return req.get_param_value(key);
}

std::string body_path(const json& body) {
  if (!body.is_object() || !body.contains("path") || !body["path"].is_string())
    throw RequestError(400, "name the mesh folder: {\"path\": \"meshes\", ...}");
  return body["path"];
}

void send_file(httplib::Response& res, std::string content, const std::string& type, const std::string& name) {
  res.set_header("Cache-Control", "no-store");
  if (!name.empty()) res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
  res.set_content(std::move(content), type);
}

}  // namespace

std::shared_ptr<MeshFolder> AnnotatorService::folder(const std::string& text) {
  const fs::path path = paths_.resolve(text);
  std::error_code ec;
  const auto written = fs::last_write_time(path / "measurements.csv", ec);
  if (ec) throw RequestError(404, "'" + text + "' is no mesh folder (no measurements.csv: make one with uniem mesh)");
  std::lock_guard<std::mutex> lock(mutex_);
  Open& open = open_[path];
  if (!open.folder || open.written != written) {
    try {
      open.folder = std::make_shared<MeshFolder>(path);
    } catch (const std::exception& e) {
      open_.erase(path);
      throw RequestError(404, e.what());
    }
    open.written = written;
  }
  return open.folder;
}

AnnotatorService::AnnotatorService(HttpServer& http, const WorkspacePaths& paths) : paths_(paths) {
  http.get("/api/meshes", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string text = param(req, "path");
    const auto held = folder(text);
    MeshFolder& f = *held;
    const std::string order = req.has_param("order") ? req.get_param_value("order") : "asc";
    if (order != "asc" && order != "desc") throw RequestError(400, "'order' is asc or desc");
    json page = f.page(req.has_param("sort") ? req.get_param_value("sort") : "id", order == "desc",
                       req.has_param("q") ? req.get_param_value("q") : "", query_integer(req, "offset", 0, int64_t{1} << 40, 0, false),
                       query_integer(req, "limit", 1, 1000, 100, false));
    page["folder"] = paths_.shown(f.folder());
    send_json(res, page);
  });
  http.get("/api/meshes/surface", [this](const httplib::Request& req, httplib::Response& res) {
    const auto held = folder(param(req, "path"));
    MeshFolder& f = *held;
    const int64_t id = query_integer(req, "id", 0, int64_t{1} << 62, 0, true);
    const MeshObject* o = f.find(id);
    if (!o) throw RequestError(404, "there is no object " + std::to_string(id) + " in this mesh folder");
    if (o->file.empty()) throw RequestError(404, "object " + std::to_string(id) + " has no surface file here (written as one file, or as precomputed?)");
    std::ifstream in(f.folder() / o->file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (o->file.ends_with(".frag")) {  // Neuroglancer's fragment, given as PLY like the others
      res.set_header("X-Uniem-Converted", "precomputed fragment as PLY");
      bytes = encode_mesh(decode_mesh_binary(bytes, (f.folder() / o->file).string()), MeshFormat::ply);
    }
    send_file(res, std::move(bytes), "application/octet-stream", "");
  });
  http.get("/api/meshes/annotations", [this](const httplib::Request& req, httplib::Response& res) {
    send_json(res, folder(param(req, "path"))->annotations());
  });
  http.post("/api/meshes/change", [this](const httplib::Request&, const json& body, httplib::Response& res) {
    send_json(res, folder(body_path(body))->change(body));
  });
  http.post("/api/meshes/import", [this](const httplib::Request&, const json& body, httplib::Response& res) {
    const auto held = folder(body_path(body));
    MeshFolder& f = *held;
    if (!body.contains("csv") || !body["csv"].is_string()) throw RequestError(400, "send the file's text as \"csv\"");
    send_json(res, f.import_markers(body["csv"]));
  });
  http.get("/api/meshes/objects.csv", [this](const httplib::Request& req, httplib::Response& res) {
    send_file(res, folder(param(req, "path"))->objects_csv(), "text/csv; charset=utf-8", "objects.csv");
  });
  http.get("/api/meshes/markers.csv", [this](const httplib::Request& req, httplib::Response& res) {
    send_file(res, folder(param(req, "path"))->markers_csv(), "text/csv; charset=utf-8", "markers.csv");
  });
}

}  // namespace uniem::web
