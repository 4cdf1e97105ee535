// A proofreading project served on a free loopback port for the HTTP tests: 4 x 96 x 96 voxels,
// segment 1 on the left half, 2 on the right; and clients that talk to it as the page does.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>

#include "tests/test_support.h"
#include "web/proofreading/project.h"
#include "web/server.h"
#include "web/proofreading/session.h"

namespace uniem::test {

struct Served {
  TempDir dir{"uniem-server"};
  std::unique_ptr<web::Session> session;
  std::unique_ptr<web::Server> server;
  std::thread thread;
  int port = 0;

  explicit Served(const std::string& token = "", web::ServerOptions options = {}) {
    Volume image(DType::u16, 4, 96, 96), labels(DType::u8, 4, 96, 96);
    for (int64_t i = 0; i < image.voxels(); ++i) {
      image.data<uint16_t>()[i] = static_cast<uint16_t>(1000 + i % 3000);
      labels.data<uint8_t>()[i] = i % 96 < 48 ? 1 : 2;
    }
    web::create_project(dir / "p", image, &labels, "image", "labels");
    web::SessionOptions o;
    o.flush_seconds = 0.2;
    session = std::make_unique<web::Session>(dir / "p", o);
    options.port = 0;
    options.token = token;
    server = std::make_unique<web::Server>(*session, options);
    port = server->bind();
    thread = std::thread([this] { server->listen(); });
  }
  ~Served() {
    server->stop();
    thread.join();
  }
  // A client without the page's cookie: what another program, or another web site, has.
  httplib::Client bare() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    return c;
  }
  // The page's secret cookie, as the browser keeps it after loading the page ("" with a token).
  std::string cookie() const {
    auto c = bare();
    const auto page = c.Get("/");
    if (!page) return "";
    const std::string set = page->get_header_value("Set-Cookie");
    return set.substr(0, set.find(';'));
  }
  // A client that loaded the page first, as the browser does.
  httplib::Client client() const {
    auto c = bare();
    const std::string jar = cookie();
    if (!jar.empty()) c.set_default_headers({{"Cookie", jar}});
    return c;
  }
};

}  // namespace uniem::test
