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

std::string project_id(const fs::path& relative) {
  std::string id;
  for (const auto& part : relative) {
    if (!safe_name(part.string(), 200)) return "";
    id += (id.empty() ? "" : "~") + part.string();
  }
  return id;
}

ProjectShelf::ProjectShelf(HttpServer& http, fs::path workspace, SessionOptions options)
    : workspace_(std::move(workspace)), options_(std::move(options)) {
  http.get("/api/projects", [this](const httplib::Request&, httplib::Response& res) { send_json(res, list()); });
  http.get(R"(/projects/([A-Za-z0-9_.~-]+))", [](const httplib::Request& req, httplib::Response& res) {
    res.set_redirect("/projects/" + std::string(req.matches[1]) + "/");  // the page names its files relatively
  });
  add_proofreading_routes(http, "/projects/([A-Za-z0-9_.~-]+)",
                          [this](const httplib::Request& req) -> Session& { return open(req.matches[1]); });
}

ProjectShelf::~ProjectShelf() = default;

json ProjectShelf::list() {
  json projects = json::array();
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(workspace_, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code entry_ec;
    if (!it->is_directory(entry_ec)) continue;
    const std::string part = it->path().filename().string();
    if (part.starts_with(".") || part.find(".tmp-") != std::string::npos) {
      it.disable_recursion_pending();
      continue;
    }
    if (!fs::exists(it->path() / "project.json", entry_ec)) {
      if (it.depth() >= 3) it.disable_recursion_pending();
      continue;
    }
    it.disable_recursion_pending();  // a project holds no projects
    const fs::path relative = it->path().lexically_relative(workspace_);
    const std::string id = project_id(relative);
    if (id.empty()) continue;
    json p = {{"name", relative.string()}, {"id", id}, {"url", "/projects/" + id + "/"}};
    const json info = json::parse(std::ifstream(it->path() / "project.json"), nullptr, false);
    if (info.is_object() && info.contains("shape")) p["shape"] = info["shape"];
    std::lock_guard<std::mutex> lock(mutex_);
    p["open"] = open_.count(id) > 0;
    projects.push_back(std::move(p));
  }
  std::sort(projects.begin(), projects.end(), [](const json& a, const json& b) { return a["name"] < b["name"]; });
  return {{"projects", projects}};
}

Session& ProjectShelf::open(const std::string& id) {
  std::unique_lock<std::mutex> lock(mutex_);
  // Opened once; a project being opened (its journal replayed) is waited for, the others not.
  for (;;) {
    if (auto it = open_.find(id); it != open_.end()) return *it->second;
    if (!opening_.count(id)) break;
    opened_.wait(lock);
  }
  fs::path relative;
  for (size_t start = 0; start <= id.size();) {
    const size_t end = std::min(id.find('~', start), id.size());
    relative /= id.substr(start, end - start);
    start = end + 1;
  }
  const fs::path folder = workspace_ / relative;
  const std::string name = relative.string();
  // What list() offers and nothing else: at most 4 folders deep, no partial outputs, and (links
  // followed) inside the workspace.
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(folder, ec), root = fs::weakly_canonical(workspace_, ec);
  const bool inside = !ec && std::mismatch(root.begin(), root.end(), real.begin(), real.end()).first == root.end();
  const bool partial = name.find(".tmp-") != std::string::npos;
  if (project_id(relative) != id || std::distance(relative.begin(), relative.end()) > 4 || partial || !inside ||
      !fs::exists(folder / "project.json"))
    throw RequestError(404, "there is no proofreading project '" + name + "' in the workspace");
  opening_.insert(id);
  lock.unlock();
  std::unique_ptr<Session> session;
  std::exception_ptr failure;
  try {
    session = std::make_unique<Session>(folder, options_);
  } catch (...) {
    failure = std::current_exception();
  }
  lock.lock();
  opening_.erase(id);
  opened_.notify_all();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const RequestError&) {
      throw;
    } catch (const InputError& e) {
      throw RequestError(409, "the project '" + name + "' cannot be opened: " + e.what());
    }
  }
  return *open_.emplace(id, std::move(session)).first->second;
}

}  // namespace uniem::web
