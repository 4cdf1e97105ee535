#include "web/http.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>
#include <vector>

#include "io/sha256.h"
#include "web/request_error.h"

using nlohmann::json;

namespace uniem::web {
namespace {

// One thread per connection; beyond `max` threads, connections wait for one to end (the server
// refuses connections over its own limits at once, so the threads stay few). Finished threads are
// joined when the next connection arrives, and all of them at shutdown.
class ConnectionThreads : public httplib::TaskQueue {
 public:
  explicit ConnectionThreads(size_t max) : max_(max) {}
  ~ConnectionThreads() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mutex_);
    reap();
    if (threads_.size() >= max_ || !start(fn)) waiting_.push_back(std::move(fn));
  }

  void shutdown() override {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [&] { return finished_.size() == threads_.size(); });
    reap();
  }

 private:
  // The caller holds the mutex. False (and `fn` kept) when the system gives no more threads and
  // others run to take it later; with none running, it is served here.
  bool start(std::function<void()>& fn) {
    try {
      std::thread t([this, first = fn]() mutable { run(std::move(first)); });
      const auto id = t.get_id();
      threads_.emplace(id, std::move(t));
      return true;
    } catch (const std::system_error&) {
      if (!threads_.empty()) return false;
      try {
        fn();
      } catch (const std::exception&) {  // the connection is closed either way
      }
      return true;
    }
  }
  void run(std::function<void()> fn) {
    for (;;) {
      try {
        fn();
      } catch (const std::exception& e) {  // never let one connection end the server
        std::fprintf(stderr, "uniem: a connection failed: %s\n", e.what());
      }
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

using Clock = std::chrono::steady_clock;

// Set by the server's checks when the connection must close after this response: a refused
// request may leave a body unread, which must never be taken for the next request.
thread_local bool close_after_response = false;

// One connection's socket, read through a buffer, with the limits of web/http.h: every read and
// write waits at most io_timeout; a request's head must arrive within head_timeout and hold at
// most head_bytes, the whole request within request_timeout.
class GuardedStream : public httplib::Stream {
 public:
  GuardedStream(int fd, const HttpOptions& o) : fd_(fd), options_(o) {}

  // Waits for the first byte of a next request, up to `ms`, while `running()`.
  template <class Running>
  bool wait_request(int ms, Running&& running) {
    for (int waited = 0; at_ == end_ && waited < ms; waited += 200) {
      if (!running()) return false;
      if (wait(POLLIN, std::min(200, ms - waited))) return true;
    }
    return at_ < end_;
  }
  void start_request() {
    const auto now = Clock::now();
    head_deadline_ = now + std::chrono::seconds(options_.head_timeout_seconds);
    request_deadline_ = now + std::chrono::seconds(options_.request_timeout_seconds);
    in_head_ = true;
    head_read_ = 0;
    tail_ = 0;
  }

  bool is_readable() const override { return at_ < end_ || wait(POLLIN, read_wait()); }
  bool is_writable() const override { return wait(POLLOUT, options_.io_timeout_seconds * 1000); }

  ssize_t read(char* ptr, size_t size) override {
    if (at_ == end_) {
      const int ms = read_wait();
      if (ms <= 0 || !wait(POLLIN, ms)) return -1;
      ssize_t got;
      do {
        got = ::recv(fd_, buffer_, sizeof buffer_, 0);
      } while (got < 0 && errno == EINTR);
      if (got <= 0) return got < 0 ? -1 : 0;
      at_ = 0;
      end_ = static_cast<size_t>(got);
    }
    size_t n = std::min(size, end_ - at_);
    if (in_head_) {  // count the head's bytes up to its blank line
      for (size_t k = 0; k < n; ++k) {
        tail_ = (tail_ << 8) | static_cast<unsigned char>(buffer_[at_ + k]);
        if ((tail_ & 0xffffffffu) == 0x0d0a0d0au) {
          in_head_ = false;
          n = k + 1;
          break;
        }
      }
      head_read_ += n;
      if (head_read_ > options_.max_head) return -1;
    }
    std::memcpy(ptr, buffer_ + at_, n);
    at_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t sent;
    do {
      sent = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address(::getpeername, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address(::getsockname, ip, port); }
  socket_t socket() const override { return fd_; }

 private:
  // Milliseconds a read may wait now: the I/O timeout, cut by the request's deadlines.
  int read_wait() const {
    const auto deadline = in_head_ ? head_deadline_ : request_deadline_;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::min<int64_t>(left, options_.io_timeout_seconds * 1000));
  }
  bool wait(short events, int ms) const {
    if (ms <= 0) return false;
    pollfd p{fd_, events, 0};
    int rc;
    do {
      rc = ::poll(&p, 1, ms);
    } while (rc < 0 && errno == EINTR);
    return rc > 0 && (p.revents & (events | POLLHUP | POLLERR));
  }
  template <class Name>
  void address(Name name, std::string& ip, int& port) const {
    sockaddr_storage a{};
    socklen_t size = sizeof a;
    ip.clear();
    port = 0;
    if (name(fd_, reinterpret_cast<sockaddr*>(&a), &size) != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (a.ss_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
      ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      port = ntohs(v4->sin_port);
    } else if (a.ss_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
      ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      port = ntohs(v6->sin6_port);
    }
    ip = text;
  }

  int fd_;
  const HttpOptions& options_;
  char buffer_[8192];
  size_t at_ = 0, end_ = 0;
  Clock::time_point head_deadline_{}, request_deadline_{};
  bool in_head_ = false;
  size_t head_read_ = 0;
  uint32_t tail_ = 0;
};

}  // namespace

// httplib's server with uniem's own connection loop (GuardedStream's deadlines and limits, a
// connection closed after a refused request) and admission: at most max_connections at once, and
// max_per_client from one address other than this computer's.
class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(const HttpOptions& options) : options_(options) {}
  // httplib listens with a backlog of 5: bursts of connections (a page loads several files at
  // once) would wait a second each for the retransmitted SYN.
  void widen_backlog() { ::listen(svr_sock_, SOMAXCONN); }

 private:
  bool process_and_close_socket(socket_t sock) override {
    std::string peer;
    int port = 0;
    GuardedStream stream(sock, options_);
    stream.get_remote_ip_and_port(peer, port);
    const bool local = peer == "127.0.0.1" || peer == "::1" || peer == "::ffff:127.0.0.1";
    // Whatever happens while serving, the slot is given back and the socket closed.
    struct Closing {
      int sock;
      ~Closing() { close_gently(sock); }
    } closing{sock};
    if (admit(peer, local)) {
      struct Leaving {
        GuardedServer& server;
        const std::string& peer;
        bool local;
        ~Leaving() {
          std::lock_guard<std::mutex> lock(server.mutex_);
          --server.active_;
          if (!local && --server.per_client_[peer] == 0) server.per_client_.erase(peer);
        }
      } leaving{*this, peer, local};
      serve(stream);
    } else {
      const std::string body = R"({"error":"the server is busy: too many connections are open; try again in a minute"})";
      const std::string answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
                                 "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
      (void)!::send(sock, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    return true;
  }

  // Closes after the answer has left: the sending side first, then what the client still sends
  // (a refused body) is read and dropped for a moment, so that closing with unread data does not
  // reset the connection and take the answer with it.
  static void close_gently(int sock) {
    ::shutdown(sock, SHUT_WR);
    char sink[4096];
    const auto until = Clock::now() + std::chrono::milliseconds(300);
    for (size_t dropped = 0; dropped < (size_t{1} << 20) && Clock::now() < until;) {
      pollfd p{sock, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) break;
      const ssize_t n = ::recv(sock, sink, sizeof sink, 0);
      if (n <= 0) break;
      dropped += static_cast<size_t>(n);
    }
    ::close(sock);
  }

  bool admit(const std::string& peer, bool local) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (active_ >= options_.max_connections) return false;
    if (!local && per_client_[peer] >= options_.max_per_client) return false;
    ++active_;
    if (!local) ++per_client_[peer];
    return true;
  }

  void serve(GuardedStream& stream) {
    // httplib's is_running() stays true until every connection has ended; its socket is closed
    // at once by stop().
    const auto running = [this] { return svr_sock_ != INVALID_SOCKET; };
    for (int served = 0; served < 1000; ++served) {
      if (!stream.wait_request(5000, running)) return;  // idle keep-alive ends after 5 s
      stream.start_request();
      close_after_response = false;
      bool closed = false;
      const bool ok = process_request(stream, served == 999, closed, nullptr);
      if (!ok || closed || close_after_response || !running()) return;
    }
  }

  const HttpOptions& options_;
  std::mutex mutex_;
  int active_ = 0;
  std::map<std::string, int> per_client_;
};

namespace {

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

std::string url_component(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') out += static_cast<char>(c);
    else out += {'%', hex[c >> 4], hex[c & 15]};
  }
  return out;
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
  std::string h = lower(host);
  if (h == "localhost") return true;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return ::inet_pton(AF_INET6, h.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

bool safe_name(const std::string& name, size_t max_length) {
  if (name.empty() || name.size() > max_length || name[0] == '.') return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

std::string make_token() {
  std::random_device device;
  std::string token;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) token.push_back(hex[device() % 16]);
  return token;
}

HttpServer::HttpServer(HttpOptions options)
    : options_(std::move(options)), http_(std::make_unique<GuardedServer>(options_)) {
  if (!is_loopback(options_.host) && options_.token.empty() && options_.users.empty())
    throw InputError("serving on " + options_.host + " (beyond this computer) needs an access token");
  secret_ = options_.secret.empty() ? make_token() : options_.secret;
  // With a token, the cookie that stands for it is bound to it: a browser that had an earlier
  // token's page gets no access when the server starts again with a new one, and one person's
  // cookie is never another's.
  const auto key = [this](const std::string& user, const std::string& token) {
    if (token.empty()) throw InputError("no access token for " + user);
    for (const Key& k : keys_)
      if (k.token == token)
        throw InputError("two people cannot share one access token (" + (k.user.empty() ? "--token" : k.user) + " and " + user + ")");
    Sha256 h;
    h.update(secret_ + "\n" + token);
    keys_.push_back(Key{user, token, h.hex().substr(0, 32)});
  };
  if (!options_.token.empty()) key("", options_.token);
  for (const auto& [user, token] : options_.users) key(user, token);
  // Room for the connections and the project's files: raise the soft limit on open files.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max && files.rlim_cur < 4096) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, 4096);
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  const size_t threads = static_cast<size_t>(std::max(1, options_.max_connections) + 64);
  http_->new_task_queue = [threads] { return new ConnectionThreads(threads); };
  http_->set_payload_max_length(options_.max_body);
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
    port = options_.any_port_if_taken ? http_->bind_to_any_port(options_.host) : -1;
  }
  if (port < 0)
    throw InputError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                     " (in use? choose another with --port)");
  http_->widen_backlog();
  cookie_ = "uniem-" + std::to_string(port);
  return port;
}

void HttpServer::listen() {
  listening_ = true;
  if (!stopping_) http_->listen_after_bind();
  listening_ = false;
}

void HttpServer::stop() {
  stopping_ = true;
  // httplib's stop() does nothing before its loop has started: wait for that, briefly.
  for (int k = 0; k < 200 && listening_ && !http_->is_running(); ++k)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  http_->stop();
}

// On a loopback server, the names a browser on this computer uses, on any port (an SSH tunnel
// or a port forward may bring it under another one). A page whose own name was rebound to
// 127.0.0.1 sends its own name, which is refused.
bool HttpServer::host_allowed(const std::string& host) const {
  if (!is_loopback(options_.host)) return true;  // a token is asked there
  std::string name = host;
  const size_t colon = name.rfind(':');
  if (colon != std::string::npos && name.find(']', colon) == std::string::npos &&
      name.find_first_not_of("0123456789", colon + 1) == std::string::npos)
    name = name.substr(0, colon);
  return name == "localhost" || name == "127.0.0.1" || name == "[::1]";
}

bool HttpServer::refuse(const httplib::Request& req, httplib::Response& res) {
  auto no = [&](int status, const std::string& message) {
    send_error(res, status, message);
    close_after_response = true;
    return true;
  };
  const std::string host = lower(req.get_header_value("Host"));
  if (!host_allowed(host))
    return no(421, "this server answers only at the address it printed (http://127.0.0.1:PORT/); it was reached "
                   "through the name '" + host + "', which is how another web site would try");
  const bool shared = req.path.rfind("/share/", 0) == 0;
  const bool token_ok = token_key(req) != nullptr;
  // The page's secret cookie stands for the token: it is given only with a page that was loaded
  // with it, so the page's scripts, styles and API calls need not carry the token themselves.
  if (!keys_.empty() && !token_ok && client(req).empty())
    return no(401, "this server asks for its access token (printed when it started): open the address it printed");
  if (shared && share_origin(req) && req.method == "OPTIONS") {  // a viewer's preflight for its Range header
    res.status = 204;  // Access-Control-Allow-Origin: added with every /share/ answer, below
    res.set_header("Access-Control-Allow-Methods", "GET, HEAD");
    res.set_header("Access-Control-Allow-Headers", "Range");
    res.set_header("Access-Control-Max-Age", "600");
    return true;
  }
  if (!is_page(req.path) && !(shared && share_origin(req) && (req.method == "GET" || req.method == "HEAD"))) {
    const std::string origin = req.get_header_value("Origin");
    if (!origin.empty() && lower(origin) != "http://" + host)
      return no(403, "requests from other web sites (" + origin + ") are refused");
    const std::string site = req.get_header_value("Sec-Fetch-Site");
    if (!site.empty() && site != "same-origin" && site != "none")
      return no(403, "requests from other web sites are refused (Sec-Fetch-Site: " + site + ")");
  }
  const std::string framing = lower(req.get_header_value("Transfer-Encoding"));
  const std::string length = req.get_header_value("Content-Length");
  if (req.method == "GET" || req.method == "HEAD") {
    if (!framing.empty() || (!length.empty() && length != "0")) return no(400, "a " + req.method + " request carries no body");
    return false;
  }
  if (req.method != "POST") return no(405, "the method " + req.method + " is not used by this server");
  if (std::none_of(post_paths_.begin(), post_paths_.end(), [&](const std::regex& r) { return std::regex_match(req.path, r); }))
    return no(404, "no such API: " + req.path);
  if (req.has_header("Content-Encoding")) return no(415, "compressed request bodies are refused; send the JSON as it is");
  if (!framing.empty() && framing != "chunked") return no(400, "the transfer encoding '" + framing + "' is not accepted");
  if (framing.empty()) {
    if (!req.has_header("Content-Length")) return no(411, "a request body needs a Content-Length");
    if (length.empty() || length.size() > 18 || length.find_first_not_of("0123456789") != std::string::npos)
      return no(400, "the Content-Length is not a number");
    // A body somewhat over the limit is read and dropped, so that the client hears why; a far
    // larger one is refused before it is read.
    if (std::stoull(length) > 16 * options_.max_body)
      return no(413, "the request is too large (" + std::to_string(options_.max_body >> 10) + " KiB at most)");
  }
  std::string type = lower(req.get_header_value("Content-Type"));
  type = type.substr(0, type.find(';'));
  type.erase(std::remove(type.begin(), type.end(), ' '), type.end());
  if (type != "application/json") return no(415, "write requests must be JSON, sent with Content-Type: application/json");
  if (!token_ok && client(req).empty())
    return no(403, "not saved: reload this page (F5); the server was started again since it was opened (earlier "
                   "changes are saved). A page from another web site cannot edit here");
  return false;
}

void HttpServer::guard() {
  using Outcome = httplib::Server::HandlerResponse;
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    return refuse(req, res) ? Outcome::Handled : Outcome::Unhandled;
  });
  // A client that waits for "100 Continue" before sending its body hears the refusal instead.
  http_->set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    return refuse(req, res) ? res.status : 100;
  });
  http_->set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // A refused write may have left its body unread: the connection ends with this answer.
    if (res.status >= 400 && req.method != "GET" && req.method != "HEAD") close_after_response = true;
    // So does one whose head was malformed, too large or too slow: what follows is not a request.
    if (res.status == 400 || res.status == 413 || res.status == 414 || res.status == 431) close_after_response = true;
    if (close_after_response) {
      res.set_header("Connection", "close");
      res.headers.erase("Keep-Alive");
    }
    if (req.path.rfind("/share/", 0) == 0 && share_origin(req)) {
      res.set_header("Access-Control-Allow-Origin", req.get_header_value("Origin"));
      res.set_header("Vary", "Origin");
      res.set_header("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges");
    }
    if (req.method == "GET" && res.get_header_value("Content-Type").rfind("text/html", 0) == 0) {
      res.set_header("X-Frame-Options", "DENY");
      res.set_header("Content-Security-Policy", "frame-ancestors 'none'");
      // The page gets the secret with an id for this browser, kept across reloads and restarts;
      // a page loaded with a person's token gets theirs, whoever's cookie the browser had.
      const Key* given = token_key(req);
      if (client(req).empty() || (given && given != cookie_key(req))) {
        std::string id = cookie_client(req);
        if (id.empty()) id = make_token().substr(0, 12);
        const std::string& secret = given ? given->secret : secret_;
        res.set_header("Set-Cookie", cookie_ + "=" + secret + "." + id + "; Path=/; HttpOnly; SameSite=Strict");
      }
    }
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

bool HttpServer::share_origin(const httplib::Request& req) const {
  const std::string origin = lower(req.get_header_value("Origin"));
  return !origin.empty() && std::any_of(options_.share_origins.begin(), options_.share_origins.end(),
                                        [&](const std::string& o) { return lower(o) == origin; });
}

std::string HttpServer::shared_path(const httplib::Request& req) const {
  std::string rest = req.path.substr(std::min(req.path.size(), size_t{7}));  // after "/share/"
  const std::string first = rest.substr(0, rest.find('/'));
  if (std::any_of(keys_.begin(), keys_.end(), [&](const Key& k) { return same_token(first, k.token); }))
    rest = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
  return rest;
}

std::string HttpServer::cookie_client(const httplib::Request& req) const {
  const std::string value = cookie_value(req.get_header_value("Cookie"), cookie_);
  const size_t dot = value.find('.');
  if (dot == std::string::npos) return "";
  std::string id = value.substr(dot + 1);
  if (id.size() != 12) return "";
  for (char c : id)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
  return id;
}

std::string HttpServer::client(const httplib::Request& req) const {
  if (!keys_.empty()) return cookie_key(req) ? cookie_client(req) : "";
  const std::string value = cookie_value(req.get_header_value("Cookie"), cookie_);
  const size_t dot = value.find('.');
  if (dot == std::string::npos || !same_token(value.substr(0, dot), secret_)) return "";
  return cookie_client(req);
}

const HttpServer::Key* HttpServer::token_key(const httplib::Request& req) const {
  const std::string header = req.get_header_value("X-Uniem-Token");
  const std::string given = header.empty() && req.has_param("token") ? req.get_param_value("token") : header;
  const bool shared = req.path.rfind("/share/", 0) == 0;
  const std::string in_path = shared ? req.path.substr(7, req.path.find('/', 7) - 7) : "";  // /share/TOKEN/...
  for (const Key& k : keys_)
    if (same_token(given, k.token) || (shared && same_token(in_path, k.token))) return &k;
  return nullptr;
}

const HttpServer::Key* HttpServer::cookie_key(const httplib::Request& req) const {
  const std::string value = cookie_value(req.get_header_value("Cookie"), cookie_);
  const size_t dot = value.find('.');
  if (dot == std::string::npos) return nullptr;
  for (const Key& k : keys_)
    if (same_token(value.substr(0, dot), k.secret)) return &k;
  return nullptr;
}

std::string HttpServer::user(const httplib::Request& req) const {
  if (const Key* k = token_key(req)) return k->user;
  if (const Key* k = cookie_key(req)) return k->user;
  return "";
}

void HttpServer::get(const std::string& pattern, Handler handler) { http_->Get(pattern, std::move(handler)); }

void HttpServer::post(const std::string& pattern, JsonHandler handler) {
  post_paths_.emplace_back(pattern);
  http_->Post(pattern, [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res,
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
          try {
            const std::string message = step();
            if (message.empty()) return false;  // the stream is over
            return sink.write(message.data(), message.size());
          } catch (const std::exception&) {
            return false;  // the page reconnects
          }
        },
        [this](bool) { --streams_; });
  });
}

}  // namespace uniem::web
