#include "web/http.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>
#include <vector>

#include "web/request_error.h"

using nlohmann::json;

namespace uniem::web {
namespace {

// One thread per connection, at most `max` at once; connections beyond wait for a thread to end.
// Finished threads are joined when the next connection arrives, and all of them at shutdown.
class ConnectionThreads : public httplib::TaskQueue {
 public:
  explicit ConnectionThreads(size_t max) : max_(max) {}
  ~ConnectionThreads() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mutex_);
    reap();
    if (threads_.size() >= max_ || !start(std::move(fn))) waiting_.push_back(std::move(fn));
  }

  void shutdown() override {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [&] { return finished_.size() == threads_.size(); });
    reap();
  }

 private:
  // The caller holds the mutex. False when the system gives no more threads.
  bool start(std::function<void()>&& fn) {
    try {
      std::thread t([this, first = std::move(fn)]() mutable { run(std::move(first)); });
      const auto id = t.get_id();
      threads_.emplace(id, std::move(t));
      return true;
    } catch (const std::system_error&) {
      return false;
    }
  }
  void run(std::function<void()> fn) {
    for (;;) {
      fn();
      std::lock_guard<std::mutex> lock(mutex_);
      if (waiting_.empty()) {
        finished_.push_back(std::this_thread::get_id());
        idle_.notify_all();
        return;
      }
      fn = std::move(waiting_.front());
      waiting_.pop_front();
    }
  }
  void reap() {  // the caller holds the mutex
    for (const auto& id : finished_) {
      auto it = threads_.find(id);
      if (it == threads_.end()) continue;
      it->second.join();
      threads_.erase(it);
    }
    finished_.clear();
  }

  size_t max_;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::map<std::thread::id, std::thread> threads_;
  std::vector<std::thread::id> finished_;
  std::deque<std::function<void()>> waiting_;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool same_token(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || a.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "".
std::string cookie_value(const std::string& header, const std::string& name) {
  size_t at = 0;
  while (at < header.size()) {
    size_t end = header.find(';', at);
    if (end == std::string::npos) end = header.size();
    std::string pair = header.substr(at, end - at);
    const size_t first = pair.find_first_not_of(' ');
    pair = first == std::string::npos ? "" : pair.substr(first);
    const size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    at = end + 1;
  }
  return "";
}

// The page and its files are served to anyone who may reach the server; everything else is API.
bool is_page(const std::string& path) { return path == "/" || path.rfind("/assets/", 0) == 0; }

}  // namespace

void send_json(httplib::Response& res, const json& j, int status) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  // Messages may quote what the client sent: invalid UTF-8 is replaced, never a throw.
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, json{{"error", message}}, status);
}

int64_t query_integer(const httplib::Request& req, const char* key, int64_t lo, int64_t hi, int64_t fallback,
                      bool required) {
  if (!req.has_param(key)) {
    if (required) throw RequestError(400, std::string("the query needs '") + key + "'");
    return fallback;
  }
  const std::string s = req.get_param_value(key);
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size()) throw RequestError(400, std::string("'") + key + "' must be a whole number");
  if (v < lo || v > hi)
    throw RequestError(400, std::string("'") + key + "' must lie in " + std::to_string(lo) + ".." + std::to_string(hi));
  return v;
}

double query_number(const httplib::Request& req, const char* key, double fallback) {
  if (!req.has_param(key)) return fallback;
  const std::string s = req.get_param_value(key);
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size() || !std::isfinite(v) || std::abs(v) > 1e9)
    throw RequestError(400, std::string("'") + key + "' must be a number");
  return v;
}

int json_depth(const std::string& text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

bool is_loopback(const std::string& host) {
  const std::string h = lower(host);
  return h == "localhost" || h == "::1" || h == "[::1]" || h.rfind("127.", 0) == 0;
}

std::string make_token() {
  std::random_device device;
  std::string token;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) token.push_back(hex[device() % 16]);
  return token;
}

HttpServer::HttpServer(HttpOptions options)
    : options_(std::move(options)), http_(std::make_unique<httplib::Server>()), secret_(make_token()) {
  if (!is_loopback(options_.host) && options_.token.empty())
    throw InputError("serving on " + options_.host + " (beyond this computer) needs an access token");
  const size_t connections = static_cast<size_t>(std::max(1, options_.max_connections));
  http_->new_task_queue = [connections] { return new ConnectionThreads(connections); };
  http_->set_payload_max_length(options_.max_body);
  http_->set_keep_alive_max_count(1000);
  http_->set_keep_alive_timeout(5);
  http_->set_read_timeout(options_.io_timeout_seconds, 0);
  http_->set_write_timeout(options_.io_timeout_seconds, 0);
  guard();
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
  int port = options_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.host);
  } else if (!http_->bind_to_port(options_.host, port)) {
    port = -1;
  }
  if (port < 0)
    throw InputError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                     " (in use? choose another with --port)");
  cookie_ = "uniem-" + std::to_string(port);
  hosts_.clear();
  if (is_loopback(options_.host)) {
    for (std::string name : {std::string("127.0.0.1"), std::string("localhost"), std::string("[::1]"), lower(options_.host)}) {
      if (name == "::1") name = "[::1]";
      hosts_.insert(name + ":" + std::to_string(port));
      if (port == 80) hosts_.insert(name);
    }
  }
  return port;
}

void HttpServer::listen() { http_->listen_after_bind(); }

void HttpServer::stop() {
  if (http_) http_->stop();
}

void HttpServer::guard() {
  using Outcome = httplib::Server::HandlerResponse;
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    auto refuse = [&](int status, const std::string& message) {
      send_error(res, status, message);
      return Outcome::Handled;
    };
    const std::string host = lower(req.get_header_value("Host"));
    if (!hosts_.empty() && !hosts_.count(host))
      return refuse(421, "this server answers only to the address it printed (http://127.0.0.1:...); a page "
                         "reached it through the name '" + host + "', which is how another web site would try");
    const std::string header_token = req.get_header_value("X-Uniem-Token");
    const bool token_ok = !options_.token.empty() &&
                          same_token(header_token.empty() && req.has_param("token") ? req.get_param_value("token") : header_token,
                                     options_.token);
    if (!options_.token.empty() && !token_ok)
      return refuse(401, "this server asks for its access token (printed when it started): open the address it printed");
    if (!is_page(req.path)) {
      const std::string origin = req.get_header_value("Origin");
      if (!origin.empty() && lower(origin) != "http://" + host)
        return refuse(403, "requests from other web sites (" + origin + ") are refused");
      const std::string site = req.get_header_value("Sec-Fetch-Site");
      if (!site.empty() && site != "same-origin" && site != "none")
        return refuse(403, "requests from other web sites are refused (Sec-Fetch-Site: " + site + ")");
    }
    if (req.method == "GET" || req.method == "HEAD") return Outcome::Unhandled;
    if (req.method != "POST") return refuse(405, "the method " + req.method + " is not used by this server");
    if (!post_paths_.count(req.path)) return refuse(404, "no such API: " + req.path);
    if (req.has_header("Content-Encoding"))
      return refuse(415, "compressed request bodies are refused; send the JSON as it is");
    const std::string framing = lower(req.get_header_value("Transfer-Encoding"));
    if (!framing.empty() && framing != "chunked") return refuse(400, "the transfer encoding '" + framing + "' is not accepted");
    if (framing.empty()) {
      if (!req.has_header("Content-Length")) return refuse(411, "a request body needs a Content-Length");
      const std::string length = req.get_header_value("Content-Length");
      if (length.empty() || length.size() > 18 || length.find_first_not_of("0123456789") != std::string::npos)
        return refuse(400, "the Content-Length is not a number");
      // A body somewhat over the limit is read and dropped, so that the client hears why; a far
      // larger one is refused before it is sent.
      if (std::stoull(length) > 16 * options_.max_body)
        return refuse(413, "the request is too large (" + std::to_string(options_.max_body >> 10) + " KiB at most)");
    }
    std::string type = lower(req.get_header_value("Content-Type"));
    type = type.substr(0, type.find(';'));
    type.erase(std::remove(type.begin(), type.end(), ' '), type.end());
    if (type != "application/json")
      return refuse(415, "write requests must be JSON, sent with Content-Type: application/json");
    if (!token_ok && client(req).empty())
      return refuse(403, "this request lacks the page's secret: reload the page (a page from another web site cannot "
                         "send it; programs get it with GET / first, or use a token)");
    return Outcome::Unhandled;
  });
  http_->set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // The page gets the secret with an id for this browser, kept across reloads.
    if (req.method == "GET" && res.get_header_value("Content-Type").rfind("text/html", 0) == 0 && client(req).empty())
      res.set_header("Set-Cookie", cookie_ + "=" + secret_ + "." + make_token().substr(0, 12) +
                                       "; Path=/; HttpOnly; SameSite=Strict");
  });
  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const RequestError& e) {
      send_error(res, e.status, e.what());
    } catch (const InputError& e) {
      send_error(res, 400, e.what());
    } catch (const std::bad_alloc&) {
      send_error(res, 503, "the server is out of memory for this request");
    } catch (const std::exception& e) {
      send_error(res, 500, std::string("internal error: ") + e.what());
    } catch (...) {
      send_error(res, 500, "internal error");
    }
  });
  http_->set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (res.body.empty()) {
      const std::string what = res.status == 413 ? "the request is too large (" + std::to_string(options_.max_body >> 10) + " KiB at most)"
                               : res.status == 404 ? "no such page or API: " + req.path
                                                   : "the request was refused";
      send_error(res, res.status, what);
    }
  });
}

std::string HttpServer::client(const httplib::Request& req) const {
  const std::string value = cookie_value(req.get_header_value("Cookie"), cookie_);
  const size_t dot = value.find('.');
  if (dot == std::string::npos || !same_token(value.substr(0, dot), secret_)) return "";
  std::string id = value.substr(dot + 1, 12);
  for (char c : id)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
  return id;
}

void HttpServer::get(const std::string& pattern, Handler handler) { http_->Get(pattern, std::move(handler)); }

void HttpServer::post(const std::string& path, JsonHandler handler) {
  post_paths_.insert(path);
  http_->Post(path, [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res,
                                                         const httplib::ContentReader& reader) {
    std::string body;
    bool too_large = false;
    const bool whole = reader([&](const char* data, size_t size) {
      if (body.size() + size > options_.max_body) {
        too_large = true;
        return false;
      }
      body.append(data, size);
      return true;
    });
    if (too_large || res.status == 413)
      throw RequestError(413, "the request is too large (" + std::to_string(options_.max_body >> 10) + " KiB at most)");
    if (!whole) throw RequestError(400, "the request body was cut short");
    if (json_depth(body) > options_.max_json_depth)
      throw RequestError(400, "the body nests deeper than " + std::to_string(options_.max_json_depth) + " levels");
    json parsed = json::object();
    if (!body.empty()) {
      try {
        parsed = json::parse(body);
      } catch (const json::exception&) {
        throw RequestError(400, "the body is not JSON");
      }
    }
    handler(req, parsed, res);
  });
}

void HttpServer::stream(const std::string& pattern, std::function<StreamStep(const httplib::Request&)> make) {
  get(pattern, [this, make = std::move(make)](const httplib::Request& req, httplib::Response& res) {
    StreamStep step = make(req);
    if (streams_.fetch_add(1) >= options_.max_streams) {
      --streams_;
      throw RequestError(503, "too many pages are open on this server (" + std::to_string(options_.max_streams) +
                                  "); close some and reload this one");
    }
    res.set_header("Cache-Control", "no-store");
    res.set_chunked_content_provider(
        "text/event-stream",
        [step = std::move(step)](size_t, httplib::DataSink& sink) {
          const std::string message = step();
          return sink.write(message.data(), message.size());
        },
        [this](bool) { --streams_; });
  });
}

}  // namespace uniem::web
