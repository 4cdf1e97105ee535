// What a hostile web page or client can try against a uniem server (web/http.h), on a real server
// on loopback: nesting and size bombs, cross-site and rebinding requests, slow connections and
// many event streams, expensive strokes, and ids that would wrap. Each is refused quickly, nothing
// changes, and the server keeps answering. Bounded in count and time.
#include <doctest/doctest.h>
#include <httplib.h>
#include <zlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "tests/web/served.h"

using nlohmann::json;
using namespace uniem;
using namespace uniem::web;
using uniem::test::Served;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A raw connection, for what httplib's client will not send.
class Socket {
 public:
  explicit Socket(int port, const char* from = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (from) {  // another loopback address as the source: a client that is not this computer's browser
      sockaddr_in b{};
      b.sin_family = AF_INET;
      ::inet_pton(AF_INET, from, &b.sin_addr);
      ::bind(fd_, reinterpret_cast<sockaddr*>(&b), sizeof b);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket(Socket&& o) noexcept : fd_(o.fd_), connected_(o.connected_) { o.fd_ = -1; }
  bool connected() const { return connected_; }
  bool send(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  // The status of the first response (0 when none came within 5 s).
  int status() {
    std::string got;
    char buffer[4096];
    while (got.find("\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return 0;
      got.append(buffer, static_cast<size_t>(n));
    }
    return got.size() > 12 ? std::atoi(got.c_str() + 9) : 0;
  }
  // Everything the server sends until it closes the connection (or 5 s pass).
  std::string rest() {
    std::string got;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd_, buffer, sizeof buffer, 0)) > 0;) got.append(buffer, static_cast<size_t>(n));
    return got;
  }
  // True while the server keeps the connection open.
  bool open() {
    char byte;
    const ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string paint(int64_t version, int64_t y, int64_t x, double radius = 1, int points = 1) {
  json p = json::array();
  for (int k = 0; k < points; ++k) p.push_back({y, std::min<int64_t>(95, x + k % 50)});
  return json{{"op", "paint"}, {"user", "ann"}, {"version", version}, {"z", 1}, {"points", p}, {"radius", radius}, {"id", 2}}
      .dump();
}

}  // namespace

TEST_CASE("hostile: deeply nested JSON is refused before parsing, at any depth, and the server lives") {
  Served s;
  auto c = s.client();
  for (int depth : {10, 64, 65, 1000, 200000}) {
    const std::string body = "{\"op\":" + std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']') + "}";
    const auto r = c.Post("/api/edit", body, "application/json");
    REQUIRE(r);
    if (depth < 64)
      CHECK(r->status == 400);  // parsed: not a valid operation
    else if (depth > 64)
      CHECK(r->body.find("nests deeper than 64") != std::string::npos);
    CHECK(r->status == 400);
  }
  CHECK(c.Get("/api/info")->status == 200);
  CHECK(json_depth(R"({"a":"[[[[","b":[[1],{"c":"\"{{"}]})") == 3);
}

TEST_CASE("hostile: cross-site requests are refused however they are made") {
  Served s;
  const std::string cookie = s.cookie();
  REQUIRE(cookie.rfind("uniem-" + std::to_string(s.port) + "=", 0) == 0);
  auto page = s.bare().Get("/");
  CHECK(page->get_header_value("Set-Cookie").find("SameSite=Strict") != std::string::npos);
  CHECK(page->get_header_value("Set-Cookie").find("HttpOnly") != std::string::npos);
  auto c = s.bare();
  const std::string edit = paint(0, 5, 5);
  // A "simple" request (text/plain, no preflight) from another site's page: even with the cookie.
  CHECK(c.Post("/api/edit", {{"Cookie", cookie}}, edit, "text/plain")->status == 415);
  CHECK(c.Post("/api/edit", {{"Cookie", cookie}}, edit, "application/x-www-form-urlencoded")->status == 415);
  // JSON without the page's secret (a program, or a site whose request carries no cookie).
  const auto no_secret = c.Post("/api/edit", edit, "application/json");
  CHECK(no_secret->status == 403);
  CHECK(no_secret->body.find("not saved: reload this page (F5)") != std::string::npos);  // what the page shows first
  CHECK(c.Post("/api/edit", {{"Cookie", "uniem-" + std::to_string(s.port) + "=guess"}}, edit, "application/json")->status == 403);
  // Marked by the browser as coming from elsewhere.
  CHECK(c.Post("/api/edit", {{"Cookie", cookie}, {"Origin", "http://evil.example"}}, edit, "application/json")->status == 403);
  CHECK(c.Post("/api/edit", {{"Cookie", cookie}, {"Origin", "http://127.0.0.1:1"}}, edit, "application/json")->status == 403);
  CHECK(c.Post("/api/edit", {{"Cookie", cookie}, {"Sec-Fetch-Site", "cross-site"}}, edit, "application/json")->status == 403);
  CHECK(c.Post("/api/edit", {{"Cookie", cookie}, {"Sec-Fetch-Site", "same-site"}}, edit, "application/json")->status == 403);
  CHECK(c.Get("/api/labels?z=0", {{"Sec-Fetch-Site", "cross-site"}})->status == 403);
  CHECK(c.Get("/api/info", {{"Origin", "http://evil.example"}})->status == 403);
  CHECK(s.session->version() == 0);
  // The page itself, same-origin, with its cookie: accepted.
  const std::string origin = "http://127.0.0.1:" + std::to_string(s.port);
  const auto ok = c.Post("/api/edit", {{"Cookie", cookie}, {"Origin", origin}, {"Sec-Fetch-Site", "same-origin"}}, edit,
                         "application/json; charset=utf-8");
  CHECK(ok->status == 200);
  CHECK(s.session->version() == 1);
  // Other methods are not used, and never have their bodies read.
  CHECK(c.Put("/api/edit", {{"Cookie", cookie}}, edit, "application/json")->status == 405);
  CHECK(c.Delete("/api/edit", {{"Cookie", cookie}})->status == 405);
}

TEST_CASE("hostile: a refused request's body is never taken for the next request") {
  Served s;
  const std::string smuggled = "GET /api/segments HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port) + "\r\n\r\n";
  const std::string head = "POST /api/edit HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port) + "\r\n";
  // Refused for its type, its Host, its method, and for a missing secret: one answer, then closed.
  for (const std::string& request :
       {head + "Content-Type: text/plain\r\nContent-Length: " + std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled,
        "POST /api/edit HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\nContent-Length: " +
            std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled,
        "PUT /api/edit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled,
        "GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled,
        head + "Content-Type: application/json\r\nContent-Length: " + std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled}) {
    Socket k(s.port);
    k.send(request);
    const std::string answers = k.rest();
    size_t count = 0;
    for (size_t at = answers.find("HTTP/1.1 "); at != std::string::npos; at = answers.find("HTTP/1.1 ", at + 1)) ++count;
    CHECK_MESSAGE(count == 1, answers);
    CHECK(answers.find("\"items\"") == std::string::npos);
    CHECK(answers.find("[{\"id\"") == std::string::npos);
  }
  // "Expect: 100-continue" hears the refusal, not "go on".
  Socket k(s.port);
  k.send("POST /api/edit HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\nContent-Length: 5000000000\r\n"
         "Expect: 100-continue\r\n\r\n");
  CHECK(k.status() == 421);
}

TEST_CASE("hostile: a request head sent too slowly or too large is cut off") {
  ServerOptions o;
  o.head_timeout_seconds = 1;
  Served s("", o);
  Socket slow(s.port);
  slow.send("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  const auto start = Clock::now();
  bool cut = false;
  for (int k = 0; k < 40 && !cut; ++k) {  // a header byte every 100 ms, as a slow-loris client does
    cut = !slow.send("X") || !slow.open();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(cut);
  CHECK(seconds_since(start) < 3.5);
  Socket big(s.port);
  big.send("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ");
  bool refused = false;
  const std::string kilobyte(1024, 'x');
  for (int k = 0; k < 4096 && !refused; ++k) refused = !big.send(kilobyte);  // 4 MB of one header line
  CHECK((refused || big.status() == 400 || !big.open()));
  CHECK(s.client().Get("/api/info")->status == 200);
}

TEST_CASE("hostile: one address beyond this computer gets at most max_per_client connections") {
  ServerOptions o;
  o.max_per_client = 4;
  Served s("", o);
  std::vector<Socket> held;
  for (int k = 0; k < 4; ++k) {
    held.emplace_back(s.port, "127.0.0.2");
    REQUIRE(held.back().connected());
    held.back().send("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Socket fifth(s.port, "127.0.0.2");
  fifth.send("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  CHECK(fifth.status() == 503);
  CHECK(s.client().Get("/api/info")->status == 200);  // this computer's browser is not counted with them
}

TEST_CASE("hostile: a foreign Host (DNS rebinding) is answered with nothing") {
  Served s;
  auto c = s.client();
  for (const std::string& name : {"evil.example:" + std::to_string(s.port), std::string("evil.example"),
                                 "127.0.0.1.evil.example:" + std::to_string(s.port)})
    for (const char* path : {"/", "/api/labels?z=0", "/api/info", "/exports/x.tif"}) {
      const auto r = c.Get(path, {{"Host", name}});
      REQUIRE(r);
      CHECK_MESSAGE(r->status == 421, (name + path));
      CHECK(r->body.find("uniem proofreader") == std::string::npos);
    }
  CHECK(c.Get("/api/info", {{"Host", "localhost:" + std::to_string(s.port)}})->status == 200);
  CHECK(c.Get("/api/info", {{"Host", "localhost:9000"}})->status == 200);  // an SSH tunnel's port
  CHECK(c.Get("/api/info", {{"Host", "[::1]:9000"}})->status == 200);
  CHECK(c.Get("/api/info", {{"Host", "127.0.0.1.evil.example"}})->status == 421);
  CHECK(c.Get("/")->get_header_value("X-Frame-Options") == "DENY");
  CHECK(c.Get("/api/info")->status == 200);
}

TEST_CASE("hostile: compressed, chunked and length-less bodies obey the same limit") {
  Served s;
  const std::string cookie = s.cookie();
  auto post_head = [&](const std::string& extra) {
    return "POST /api/edit HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port) + "\r\nCookie: " + cookie +
           "\r\nContent-Type: application/json\r\n" + extra + "\r\n";
  };
  {  // 1 MB of gzip that would inflate to 1 GB: refused on the header, nothing inflated
    std::string zeros(1 << 20, ' ');
    uLongf size = compressBound(static_cast<uLong>(zeros.size()));
    std::string gz(size, '\0');
    compress(reinterpret_cast<Bytef*>(gz.data()), &size, reinterpret_cast<const Bytef*>(zeros.data()), zeros.size());
    gz.resize(size);
    Socket k(s.port);
    REQUIRE(k.connected());
    k.send(post_head("Content-Encoding: gzip\r\nContent-Length: " + std::to_string(gz.size()) + "\r\n") + gz);
    CHECK(k.status() == 415);
  }
  {  // a chunked body that never ends: read up to the limit, then refused
    Socket k(s.port);
    k.send(post_head("Transfer-Encoding: chunked\r\n"));
    const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
    const auto start = Clock::now();
    for (int n = 0; n < 40 && k.send(chunk); ++n) {
    }
    CHECK(k.status() == 413);
    CHECK(seconds_since(start) < 5);
  }
  {  // no length and no chunks
    Socket k(s.port);
    k.send(post_head(""));
    CHECK(k.status() == 411);
  }
  {  // a length over the limit: refused before the body is sent
    Socket k(s.port);
    k.send(post_head("Content-Length: 5000000000\r\n"));
    CHECK(k.status() == 413);
  }
  {  // with a token, an anonymous chunked body is refused before it is read
    Served t("secret123");
    Socket k(t.port);
    k.send("POST /api/edit HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(t.port) +
           "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    CHECK(k.status() == 401);
  }
  CHECK(s.session->version() == 0);
  CHECK(s.client().Get("/api/info")->status == 200);
}

TEST_CASE("hostile: 200 slow connections and 100 event streams leave requests answered within a second") {
  Served s;
  const std::string cookie = s.cookie();
  std::vector<Socket> slow, streams;
  for (int k = 0; k < 200; ++k) {
    slow.emplace_back(s.port);
    slow.back().send("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");  // never finished
  }
  for (int k = 0; k < 100; ++k) {
    streams.emplace_back(s.port);
    streams.back().send("GET /api/events?since=0 HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port) + "\r\n\r\n");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int open = 0;
  for (auto& k : slow) open += k.open();
  for (auto& k : streams) open += k.open();
  CHECK(open == 300);  // all of them still held while the requests below are answered
  auto c = s.client();
  for (int k = 0; k < 5; ++k) {
    const auto start = Clock::now();
    const auto r = c.Get("/api/labels?z=1&encoding=runs");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(seconds_since(start) < 1.0);
  }
  const auto start = Clock::now();
  CHECK(c.Post("/api/edit", paint(0, 7, 7), "application/json")->status == 200);
  CHECK(seconds_since(start) < 1.0);
}

TEST_CASE("hostile: event streams beyond the limit get 503, and the count comes back as they close") {
  ServerOptions o;
  o.max_streams = 3;
  Served s("", o);
  {
    std::vector<Socket> streams;
    for (int k = 0; k < 3; ++k) {
      streams.emplace_back(s.port);
      streams.back().send("GET /api/events?since=0 HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port) + "\r\n\r\n");
      CHECK(streams.back().status() == 200);
    }
    Socket more(s.port);
    more.send("GET /api/events?since=0 HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port) + "\r\n\r\n");
    CHECK(more.status() == 503);
  }
  // The closed streams notice at their next write (every 2 s).
  bool reopened = false;
  for (int tries = 0; tries < 20 && !reopened; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    Socket again(s.port);
    again.send("GET /api/events?since=0 HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port) + "\r\n\r\n");
    reopened = again.status() == 200;
  }
  CHECK(reopened);
}

TEST_CASE("hostile: an expensive stroke is refused fast with 413") {
  Served s;
  auto c = s.client();
  const auto start = Clock::now();
  const auto r = c.Post("/api/edit", paint(0, 40, 0, 200, 10000), "application/json");
  REQUIRE(r);
  CHECK(r->status == 413);
  CHECK(seconds_since(start) < 1.0);
  CHECK(r->body.find("smaller brush") != std::string::npos);
  CHECK(c.Post("/api/edit", paint(0, 40, 0, 20, 50), "application/json")->status == 200);
}

TEST_CASE("hostile: ids never wrap to background") {
  test::TempDir dir("uniem-ids");
  Volume image(DType::u8, 2, 16, 16), labels(DType::u32, 2, 16, 16);
  labels.at<uint32_t>(0, 0, 0) = UINT32_MAX;
  try {
    web::create_project(dir / "full", image, &labels, "image", "labels.tif");
    FAIL("a label volume holding 4294967295 was imported");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("labels.tif") != std::string::npos);
    CHECK(std::string(e.what()).find("--relabel") != std::string::npos);
  }
  CHECK(!std::filesystem::exists(dir / "full"));
  // The largest id that leaves one more: the next new one is 4294967295, which is not handed out.
  for (int64_t i = 0; i < 256; ++i) labels.data<uint32_t>()[i] = i < 128 ? 7u : UINT32_MAX - 1;
  web::create_project(dir / "p", image, &labels, "image", "labels");
  SessionOptions o;
  o.flush_seconds = 0;
  Session session(dir / "p", o);
  auto refused = [&](const json& r) {
    try {
      session.apply(r);
    } catch (const RequestError& e) {
      return e.status;
    }
    return 200;
  };
  CHECK(refused(json{{"op", "paint"}, {"user", "a"}, {"version", 0}, {"z", 0}, {"points", {{3, 3}}}, {"radius", 1}, {"id", "new"}}) == 409);
  CHECK(refused(json{{"op", "split"}, {"user", "a"}, {"version", 0}, {"z", 0}, {"id", 7}, {"seeds", {{0, 0, 1}, {7, 15, 2}}}}) == 409);
  CHECK(session.version() == 0);
  CHECK(session.label_at(0, 0, 0) == 7);
}
