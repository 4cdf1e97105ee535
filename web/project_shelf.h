// The proofreading projects of a workspace, served side by side by one server (uniem workbench):
// each folder directly in the workspace that holds a project (project.json, web/proofreading/
// project.h) is proofread at /projects/NAME/, with the proofreader's page and routes
// (add_proofreading_routes in web/server.h). A project's session is opened at its first request
// and kept, with the project's lock, until the server stops.
//
//   GET /api/projects        {"projects": [{"name", "shape", "open"}]}
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "web/http.h"
#include "web/proofreading/session.h"

namespace uniem::web {

class ProjectShelf {
 public:
  ProjectShelf(HttpServer& http, std::filesystem::path workspace, SessionOptions options);
  ~ProjectShelf();
  nlohmann::json list();

 private:
  Session& open(const std::string& name);  // RequestError 404 when NAME is no project here
  std::filesystem::path workspace_;
  SessionOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Session>> open_;
};

}  // namespace uniem::web
