// The HTTP layer every uniem server stands on (cpp-httplib underneath), and the rules it applies
// before any handler runs, so that a hostile web page open in the user's browser, or a hostile
// client on the network, can neither change nor read the data nor stop the server:
//
//  - Host: a server on a loopback address answers only to 127.0.0.1, localhost and [::1] (on any
//    port, for SSH tunnels); a page whose own name was rebound to 127.0.0.1 gets 421 (DNS rebinding).
//  - Token: when one is set (always beyond loopback), every request carries it, as the header
//    X-Uniem-Token or the query parameter token, or carries the page's secret cookie (below), which
//    only a page loaded with the token gets; checked before any body is read.
//  - People: with `users`, each person has a token of their own (any of them is accepted as the
//    token is), and user() says whose a request is: the person whose token it carries or, without
//    one, whose page gave it its cookie (a cookie stands for one person's token; a page loaded with
//    another person's token gets that person's cookie instead).
//  - Origin: API requests (all but the page and its assets) that a browser marks as coming from
//    another origin (Origin, Sec-Fetch-Site) get 403.
//  - Writes (POST, only to the paths registered with post()): Content-Type application/json, so a
//    cross-site "simple" request is impossible; and the page's secret: the cookie
//    uniem-PORT = SECRET.CLIENT (HttpOnly, SameSite=Strict) that a page answer sets when the
//    browser has none, or the token in the header. CLIENT (12 hex digits) tells browsers apart
//    (client()). A program that is not a browser gets the cookie from GET / first, or uses a token.
//    The page itself may not be framed by another site.
//  - Bodies: no Content-Encoding (415), a length or chunked framing (411), at most max_body bytes
//    however framed (413), JSON nested at most max_json_depth levels (400), checked before parsing.
//    Other methods get 405, and GET with a body 400, before their body is read. The same checks
//    answer "Expect: 100-continue". After any refused request that may carry a body, the
//    connection is closed, so that an unread body is never taken for the next request.
//  - Connections: each has its own thread, so event streams and slow clients never take the
//    threads that requests need. At most max_connections at once, and max_per_client from one
//    address other than this computer's (503 beyond, at once). A request's head must arrive within
//    head_timeout_seconds and hold at most max_head bytes, the whole request within
//    request_timeout_seconds; every read and write waits at most io_timeout_seconds; idle
//    keep-alive connections end after 5 s. At most max_streams event streams (503 beyond).
//  - Shared files: GET and HEAD under /share/ (a workspace's volumes and meshes for Neuroglancer,
//    webKnossos and other viewers, read-only, with byte ranges) may come from the other web sites
//    named in share_origins, which get CORS headers (and answers to their preflight OPTIONS);
//    every other site is refused as above. With a token, the path carries it as its first part,
//    /share/TOKEN/..., since a viewer appends file names to the address it is given.
// Errors are JSON {"error": message}: 4xx for the request, 5xx when the server or its disk fails.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <vector>
#include <string>

#include <nlohmann/json.hpp>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace uniem::web {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;               // 0: any free port
  bool any_port_if_taken = false;  // another free port when `port` is taken
  std::string token;             // empty: none asked (loopback only)
  std::map<std::string, std::string> users;  // person -> their own token (each also works as `token`)
  std::string secret;            // the page's secret; empty: a random one for this process
  std::vector<std::string> share_origins;  // sites that may read /share/ ("https://neuroglancer-demo.appspot.com")
  size_t max_body = 1 << 20;     // bytes of a request body
  size_t max_head = 64 << 10;    // bytes of a request line and headers
  int max_json_depth = 64;       // nesting of a JSON body
  int max_connections = 512;     // served at once, each on its own thread
  int max_per_client = 64;       // from one address other than this computer's
  int max_streams = 128;         // event streams open at once
  int io_timeout_seconds = 5;    // per read and per write
  int head_timeout_seconds = 10;     // for a request's line and headers
  int request_timeout_seconds = 30;  // for the whole request, body included
};

class GuardedServer;

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
using JsonHandler = std::function<void(const httplib::Request&, const nlohmann::json& body, httplib::Response&)>;
// An event stream's next message: called again and again (it should wait a little when there is
// nothing new); returns the text to send ("data: ...\n\n", or ": idle\n\n" to keep it open), or
// nothing to end the stream.
using StreamStep = std::function<std::string()>;

class HttpServer {
 public:
  explicit HttpServer(HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void get(const std::string& pattern, Handler handler);
  // A write: the body is read under the rules above and parsed; an empty body is {}. `pattern`
  // is a path or a regular expression over paths (its groups in the request's matches).
  void post(const std::string& pattern, JsonHandler handler);
  // GET pattern -> text/event-stream; make(request) returns the stream's step function.
  void stream(const std::string& pattern, std::function<StreamStep(const httplib::Request&)> make);

  int bind();     // returns the port; throws InputError when it is taken
  void listen();  // serves until stop()
  void stop();

  int open_streams() const { return streams_; }
  // The id of the browser that sent `req` (from its cookie), "" when it has no valid cookie.
  std::string client(const httplib::Request& req) const;
  // The person (a name of HttpOptions::users) `req` comes from, "" without users or when unknown.
  std::string user(const httplib::Request& req) const;
  // For a request under /share/: the path after /share/ (and after the token, when there is one).
  std::string shared_path(const httplib::Request& req) const;

 private:
  void guard();
  // Answers `req` with its refusal and returns true when the rules above refuse it.
  bool refuse(const httplib::Request& req, httplib::Response& res);
  bool host_allowed(const std::string& host) const;
  bool share_origin(const httplib::Request& req) const;  // a /share/ request from a site in share_origins
  std::string cookie_client(const httplib::Request& req) const;  // CLIENT of any cookie, checked or not
  // A token the server accepts, the person it is theirs ("" for HttpOptions::token) and the
  // secret their page's cookie carries (bound to the token).
  struct Key {
    std::string user, token, secret;
  };
  const Key* token_key(const httplib::Request& req) const;   // the token the request carries
  const Key* cookie_key(const httplib::Request& req) const;  // the token its valid cookie stands for
  HttpOptions options_;
  std::unique_ptr<GuardedServer> http_;
  std::string secret_, cookie_;     // the page's secret and the name of its cookie
  std::vector<Key> keys_;           // empty: no token asked (loopback)
  std::vector<std::regex> post_paths_;
  std::atomic<int> streams_{0};
  std::atomic<bool> listening_{false}, stopping_{false};
};

void send_json(httplib::Response& res, const nlohmann::json& j, int status = 200);
void send_error(httplib::Response& res, int status, const std::string& message);
// Query parameters, checked: RequestError 400 naming the parameter when malformed or outside lo..hi.
int64_t query_integer(const httplib::Request& req, const char* key, int64_t lo, int64_t hi, int64_t fallback,
                      bool required);
double query_number(const httplib::Request& req, const char* key, double fallback);

// The deepest nesting of arrays and objects in a JSON text (strings skipped), without recursion.
int json_depth(const std::string& text);
// A name that may be part of a path: letters, digits, '-', '_', '.', no leading dot, at most
// `max_length` characters; never a path itself (an export, a project).
bool safe_name(const std::string& name, size_t max_length);
// `text` percent-encoded for a URL's query (letters, digits, -_.~/ kept).
std::string url_component(const std::string& text);
// True when `host` is a loopback address or name (127.x.x.x, localhost, ::1).
bool is_loopback(const std::string& host);

// A random 128-bit token in hex, from the system's random device.
std::string make_token();

}  // namespace uniem::web
