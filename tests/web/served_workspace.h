// A workspace's data and annotator services (web/workspace/) served on a free loopback port for
// the HTTP tests, with a client that carries the token, as a program talks to the workbench. The
// test writes its files into `dir` first, then calls start().
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"
#include "web/http.h"
#include "web/workspace/annotator_service.h"
#include "web/workspace/data_service.h"

namespace uniem::test {

struct ServedWorkspace {
  TempDir dir{"uniem-workspace"};
  std::unique_ptr<web::HttpServer> http;
  std::unique_ptr<web::DataService> data;
  std::unique_ptr<web::AnnotatorService> annotator;
  std::thread thread;
  int port = 0;

  void start() {
    web::HttpOptions o;
    o.port = 0;
    o.token = "T";  // what a program uses instead of the page's cookie
    o.share_origins = {"http://viewer.example:9000"};  // a viewer's site that may read /share/
    http = std::make_unique<web::HttpServer>(o);
    data = std::make_unique<web::DataService>(*http, dir.path());
    annotator = std::make_unique<web::AnnotatorService>(*http, data->paths());
    port = http->bind();
    thread = std::thread([this] { http->listen(); });
  }
  ~ServedWorkspace() {
    if (!http) return;
    http->stop();
    thread.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    c.set_default_headers({{"X-Uniem-Token", "T"}});
    return c;
  }
  httplib::Result get(const std::string& path) const { return client().Get(path); }
  nlohmann::json get_json(const std::string& path) const {
    auto r = get(path);
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 200, (path + ": " + r->body));
    return nlohmann::json::parse(r->body);
  }
  std::pair<int, nlohmann::json> post(const std::string& path, const nlohmann::json& body) const {
    auto r = client().Post(path, body.dump(), "application/json");
    REQUIRE(r);
    return {r->status, nlohmann::json::parse(r->body)};
  }
};

}  // namespace uniem::test
