#include "web/project_shelf.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "web/request_error.h"
#include "web/server.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::web {
ProjectShelf::ProjectShelf(HttpServer& http, fs::path workspace, SessionOptions options)
    : workspace_(std::move(workspace)), options_(std::move(options)) {
  http.get("/api/projects", [this](const httplib::Request&, httplib::Response& res) { send_json(res, list()); });
  http.get(R"(/projects/([A-Za-z0-9_.-]+))", [](const httplib::Request& req, httplib::Response& res) {
    res.set_redirect("/projects/" + std::string(req.matches[1]) + "/");  // the page names its files relatively
  });
  add_proofreading_routes(http, "/projects/([A-Za-z0-9_.-]+)",
                          [this](const httplib::Request& req) -> Session& { return open(req.matches[1]); });
}

ProjectShelf::~ProjectShelf() = default;

json ProjectShelf::list() {
  json projects = json::array();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(workspace_, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || !safe_name(name, 200) || !fs::exists(e.path() / "project.json")) continue;
    json p = {{"name", name}, {"url", "/projects/" + name + "/"}};
    const json info = json::parse(std::ifstream(e.path() / "project.json"), nullptr, false);
    if (info.is_object() && info.contains("shape")) p["shape"] = info["shape"];
    std::lock_guard<std::mutex> lock(mutex_);
    p["open"] = open_.count(name) > 0;
    projects.push_back(std::move(p));
  }
  std::sort(projects.begin(), projects.end(), [](const json& a, const json& b) { return a["name"] < b["name"]; });
  return {{"projects", projects}};
}

Session& ProjectShelf::open(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = open_.find(name); it != open_.end()) return *it->second;
  const fs::path folder = workspace_ / name;
  if (!safe_name(name, 200) || !fs::exists(folder / "project.json"))
    throw RequestError(404, "there is no proofreading project '" + name + "' in the workspace");
  try {
    return *open_.emplace(name, std::make_unique<Session>(folder, options_)).first->second;
  } catch (const RequestError&) {
    throw;
  } catch (const InputError& e) {
    throw RequestError(409, "the project '" + name + "' cannot be opened: " + e.what());
  }
}

}  // namespace uniem::web
