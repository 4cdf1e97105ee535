// The proofreading projects of a workspace, served side by side by one server (uniem workbench):
// each folder of the workspace (at most 4 folders deep, hidden ones and partial outputs skipped)
// that holds a project (project.json, web/proofreading/project.h) is proofread at /projects/ID/,
// ID its path in the workspace with '~' for '/' (runs/job-3/proofreading -> runs~job-3~proofreading),
// with the proofreader's page and routes (add_proofreading_routes in web/server.h). A project's
// session is opened at its first request and kept, with the project's lock, until the server stops.
//
//   GET /api/projects        {"projects": [{"name" (its path), "id", "url", "shape", "open"}]}
#pragma once

#include <filesystem>
#include <condition_variable>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "web/http.h"
#include "web/proofreading/session.h"

namespace uniem::web {

// The ID of the project at `relative` (a path in the workspace); "" when a part of it is no
// safe_name (web/http.h).
std::string project_id(const std::filesystem::path& relative);

class ProjectShelf {
 public:
  ProjectShelf(HttpServer& http, std::filesystem::path workspace, SessionOptions options);
  ~ProjectShelf();
  nlohmann::json list();

 private:
  Session& open(const std::string& id);  // RequestError 404 when ID is no project here
  std::filesystem::path workspace_;
  SessionOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Session>> open_;
  std::set<std::string> opening_;     // being opened, outside the lock
  std::condition_variable opened_;
};

}  // namespace uniem::web
