#include "web/server.h"

#include <httplib.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "io/stack.h"
#include "web/assets.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::web {
namespace {

constexpr size_t max_body = 1 << 20;

void send_json(httplib::Response& res, const json& j, int status = 200) {
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

std::string gzip(const std::string& data) {
  z_stream s{};
  UNIEM_CHECK(deflateInit2(&s, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2 failed");
  std::string out(deflateBound(&s, static_cast<uLong>(data.size())) + 32, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&s, Z_FINISH);
  deflateEnd(&s);
  UNIEM_CHECK(rc == Z_STREAM_END, "gzip: deflate did not finish");
  out.resize(s.total_out);
  return out;
}

bool same_token(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// Names of exports: letters, digits, '-', '_', '.', no leading dot; never a path.
bool safe_name(const std::string& name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

}  // namespace

std::string make_token() {
  std::random_device device;
  std::string token;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) token.push_back(hex[device() % 16]);
  return token;
}

std::string export_labels(const Session& session, const std::string& format, int bits) {
  if (format != "tif" && format != "png") throw RequestError(400, "'format' is tif or png");
  if (bits != 0 && bits != 8 && bits != 16 && bits != 32) throw RequestError(400, "'bits' is 0 (smallest), 8, 16 or 32");
  if (format == "png" && bits == 32) throw RequestError(400, "PNG holds 8 or 16 bits; export 32-bit labels as tif");
  const int64_t version = session.version();
  Volume labels;
  try {
    labels = session.labels(bits);
    if (format == "png" && labels.dtype() == DType::u32)
      throw InputError("the labels have ids above 65535, which PNG cannot hold; export as tif");
  } catch (const RequestError&) {
    throw;
  } catch (const InputError& e) {
    throw RequestError(409, e.what());
  }
  const std::string name = "labels-v" + std::to_string(version) + (format == "tif" ? ".tif" : "");
  WriteOptions options;
  options.format = format == "tif" ? StackFormat::multipage_tiff : StackFormat::png_folder;
  options.overwrite = true;
  write_volume(session.project().folder() / "exports" / name, labels, options);
  return name;
}

Server::Server(Session& session, ServerOptions options)
    : session_(session), options_(std::move(options)), http_(std::make_unique<httplib::Server>()) {
  const int threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_->set_payload_max_length(max_body);
  http_->set_keep_alive_max_count(1000);
  routes();
}

Server::~Server() { stop(); }

int Server::bind() {
  int port = options_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.host);
  } else if (!http_->bind_to_port(options_.host, port)) {
    port = -1;
  }
  if (port < 0)
    throw InputError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                     " (in use? choose another with --port)");
  return port;
}

void Server::listen() { http_->listen_after_bind(); }

void Server::stop() {
  if (http_) http_->stop();
}

void Server::routes() {
  httplib::Server& s = *http_;
  const std::string token = options_.token;

  s.set_pre_routing_handler([token](const httplib::Request& req, httplib::Response& res) {
    if (token.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string given = req.get_header_value("X-Uniem-Token");
    if (given.empty() && req.has_param("token")) given = req.get_param_value("token");
    if (same_token(given, token)) return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, 401, "this server asks for its access token (printed by uniem serve): open the address it printed");
    return httplib::Server::HandlerResponse::Handled;
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const RequestError& e) {
      send_error(res, e.status, e.what());
    } catch (const InputError& e) {
      send_error(res, 400, e.what());
    } catch (const std::exception& e) {
      send_error(res, 500, std::string("internal error: ") + e.what());
    } catch (...) {
      send_error(res, 500, "internal error");
    }
  });
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.body.empty()) {
      const std::string what = res.status == 413 ? "the request is too large (1 MiB at most)"
                               : res.status == 404 ? "no such page or API: " + req.path
                                                   : "the request was refused";
      send_error(res, res.status, what);
    }
  });

  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    const Asset* a = find_asset("index.html");
    res.set_content(reinterpret_cast<const char*>(a->data), a->size, a->type);
  });
  s.Get(R"(/assets/([A-Za-z0-9_.-]+))", [](const httplib::Request& req, httplib::Response& res) {
    const Asset* a = find_asset(req.matches[1]);
    if (!a) return send_error(res, 404, "no asset " + std::string(req.matches[1]));
    res.set_header("Cache-Control", "no-cache");
    res.set_content(reinterpret_cast<const char*>(a->data), a->size, a->type);
  });

  s.Get("/api/info", [this](const httplib::Request&, httplib::Response& res) { send_json(res, session_.info()); });
  s.Get("/api/image", [this](const httplib::Request& req, httplib::Response& res) {
    const ProjectInfo& info = session_.project().info();
    const int64_t z = query_integer(req, "z", 0, info.shape[0] - 1, 0, true);
    const int level = static_cast<int>(query_integer(req, "level", 0, info.levels - 1, 0, false));
    const double lo = query_number(req, "lo", info.window[0]), hi = query_number(req, "hi", info.window[1]);
    if (hi <= lo) throw RequestError(400, "'hi' must be above 'lo'");
    res.set_header("Cache-Control", "max-age=3600");
    res.set_content(session_.project().image_png(z, level, lo, hi), "image/png");
  });
  s.Get("/api/labels", [this](const httplib::Request& req, httplib::Response& res) {
    const ProjectInfo& info = session_.project().info();
    const int64_t z = query_integer(req, "z", 0, info.shape[0] - 1, 0, true);
    const int level = static_cast<int>(query_integer(req, "level", 0, info.levels - 1, 0, false));
    const std::string encoding = req.has_param("encoding") ? req.get_param_value("encoding") : "raw";
    if (encoding != "raw" && encoding != "runs") throw RequestError(400, "'encoding' is raw or runs");
    // Runs: a 1024 x 1024 section of cells some 50 voxels wide is 180 kB instead of 4 MB, made
    // in about a millisecond, where gzip of the raw section took 15 ms.
    std::string body = encoding == "runs" ? session_.label_runs(z, level) : session_.label_slice(z, level);
    const auto size = session_.project().level_size(level);
    res.set_header("X-Uniem-Size", std::to_string(size[0]) + "," + std::to_string(size[1]));
    res.set_header("Cache-Control", "no-store");
    if (encoding == "raw" && req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos) {
      res.set_header("Content-Encoding", "gzip");
      body = gzip(body);
    }
    res.set_content(std::move(body), "application/octet-stream");
  });
  s.Get("/api/segments", [this](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("count")) return send_json(res, session_.segments());
    SegmentQuery q;
    q.offset = query_integer(req, "offset", 0, INT32_MAX, 0, false);
    q.count = query_integer(req, "count", 1, 10000, 500, true);
    q.sort = req.has_param("sort") ? req.get_param_value("sort") : "id";
    if (q.sort != "id" && q.sort != "voxels" && q.sort != "name") throw RequestError(400, "'sort' is id, voxels or name");
    const std::string order = req.has_param("order") ? req.get_param_value("order") : "up";
    if (order != "up" && order != "down") throw RequestError(400, "'order' is up or down");
    q.descending = order == "down";
    q.search = req.has_param("search") ? req.get_param_value("search") : "";
    if (q.search.size() > 200) throw RequestError(400, "'search' is longer than 200 characters");
    send_json(res, session_.segment_page(q));
  });
  s.Get("/api/segment", [this](const httplib::Request& req, httplib::Response& res) {
    send_json(res, session_.locate(static_cast<uint32_t>(query_integer(req, "id", 1, UINT32_MAX, 0, true))));
  });
  s.Get("/api/markers", [this](const httplib::Request&, httplib::Response& res) { send_json(res, session_.markers()); });
  s.Get("/api/history", [this](const httplib::Request& req, httplib::Response& res) {
    send_json(res, session_.history(query_integer(req, "count", 1, 1000, 50, false)));
  });
  s.Get("/api/events", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t seen = query_integer(req, "since", 0, INT64_MAX / 2, 0, true);
    res.set_header("Cache-Control", "no-store");
    res.set_chunked_content_provider("text/event-stream", [this, seen](size_t, httplib::DataSink& sink) mutable {
      const json e = session_.wait_events(seen, std::chrono::seconds(2));
      const std::string message = e.contains("reload") || !e["events"].empty() ? "data: " + e.dump() + "\n\n" : ": idle\n\n";
      seen = e["version"].get<int64_t>();
      return sink.write(message.data(), message.size());
    });
  });
  s.Post("/api/edit", [this](const httplib::Request& req, httplib::Response& res) {
    json request;
    try {
      request = json::parse(req.body);
    } catch (const json::exception&) {
      throw RequestError(400, "the body is not JSON");
    }
    send_json(res, session_.apply(request));
  });
  s.Post("/api/export", [this](const httplib::Request& req, httplib::Response& res) {
    json request;
    try {
      request = req.body.empty() ? json::object() : json::parse(req.body);
    } catch (const json::exception&) {
      throw RequestError(400, "the body is not JSON");
    }
    if (!request.is_object()) throw RequestError(400, "the body must be a JSON object");
    const json format = request.value("format", json("tif")), bits = request.value("bits", json(0));
    if (!format.is_string() || !bits.is_number_integer()) throw RequestError(400, "'format' is a string, 'bits' a number");
    const std::string name = export_labels(session_, format.get<std::string>(), bits.get<int>());
    send_json(res, json{{"file", name}, {"path", (session_.project().folder() / "exports" / name).string()}});
  });
  s.Get(R"(/exports/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    if (!safe_name(name)) throw RequestError(400, "not an export name: " + name);
    const fs::path file = session_.project().folder() / "exports" / name;
    if (!fs::is_regular_file(file)) throw RequestError(404, "no export named " + name);
    std::ifstream in(file, std::ios::binary);
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
    res.set_content(std::move(body), "application/octet-stream");
  });
}

}  // namespace uniem::web
