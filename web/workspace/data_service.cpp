#include "web/workspace/data_service.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "core/image/filter_steps.h"
#include "io/hdf5.h"
#include "io/stack.h"
#include "web/request_error.h"
#include "web/workspace/catalog.h"
#include "web/workspace/section_picture.h"
#include "web/workspace/workspace_paths.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::web {
namespace {

constexpr size_t max_log_answer = 4 << 20;   // bytes of training log in one answer
constexpr uint64_t max_file = 64ull << 20;   // bytes of a file served as it is

std::string param(const httplib::Request& req, const char* key) {
  if (!req.has_param(key)) throw RequestError(400, std::string("the query needs '") + key + "'");
  return req.get_param_value(key);
}

// A path that must exist (the file, for a dataset in an HDF5 file): 404 otherwise (only once it
// is known to be inside).
fs::path existing(const WorkspacePaths& paths, const std::string& text) {
  fs::path p = paths.resolve(text);
  std::error_code ec;
  if (!fs::exists(file_on_disk(p), ec)) throw RequestError(404, "'" + text + "' does not exist");
  return p;
}

const char* content_type(const fs::path& file) {
  const std::string e = file.extension().string();
  if (e == ".png") return "image/png";
  if (e == ".csv") return "text/csv; charset=utf-8";
  if (e == ".json") return "application/json";
  if (e == ".jsonl" || e == ".txt" || e == ".log") return "text/plain; charset=utf-8";
  return nullptr;
}

// The lines of `file` from byte `since`, complete lines only, at most max_log_answer bytes.
json log_lines(const fs::path& file, uint64_t since) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) throw RequestError(404, "there is no training log in this folder");
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  json answer = {{"lines", json::array()}};
  if (since > size) since = 0, answer["reset"] = true;  // the log was rewritten (a resumed training)
  std::string text(static_cast<size_t>(std::min<uint64_t>(size - since, max_log_answer)), '\0');
  in.seekg(static_cast<std::streamoff>(since));
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    json line = json::parse(text.substr(start, end - start), nullptr, false);
    if (line.is_object()) answer["lines"].push_back(std::move(line));
  }
  answer["next"] = since + start;
  return answer;
}

}  // namespace

struct DataService::State {
  explicit State(fs::path workspace) : paths(std::move(workspace)), catalog(paths) {}
  WorkspacePaths paths;
  DataCatalog catalog;
};

DataService::DataService(HttpServer& http, fs::path workspace) : state_(std::make_unique<State>(std::move(workspace))) {
  State& s = *state_;
  http.get("/api/data", [&s](const httplib::Request&, httplib::Response& res) {
    json answer = s.catalog.list();
    answer["workspace"] = s.paths.workspace().string();
    answer["folders"] = json::array();
    for (const auto& f : s.paths.added()) answer["folders"].push_back(f.string());
    send_json(res, answer);
  });
  http.get("/api/data/section", [&s](const httplib::Request& req, httplib::Response& res) {
    const fs::path stack = existing(s.paths, param(req, "path"));
    SectionView view;
    view.z = query_integer(req, "z", 0, int64_t{1} << 40, 0, true);
    view.size = query_integer(req, "size", 16, 1 << 16, 0, false);
    if (req.has_param("low") || req.has_param("high")) {
      view.low = query_number(req, "low", 0), view.high = query_number(req, "high", 255);
      if (!(*view.high > *view.low)) throw RequestError(400, "'high' must be above 'low'");
    }
    const std::string as = req.has_param("as") ? req.get_param_value("as") : "images";
    if (as != "images" && as != "labels") throw RequestError(400, "'as' must be images or labels");
    view.labels = as == "labels";
    std::string png;
    try {
      png = section_png(stack, view);
    } catch (const RequestError&) {
      throw;
    } catch (const InputError& e) {
      throw RequestError(404, std::string("not an image stack: ") + e.what());
    }
    res.set_header("Cache-Control", req.has_param("v") ? "private, max-age=3600" : "no-store");
    res.set_content(std::move(png), "image/png");
  });
  http.get("/api/data/preview", [&s](const httplib::Request& req, httplib::Response& res) {
    const fs::path stack = existing(s.paths, param(req, "path"));
    const auto t0 = std::chrono::steady_clock::now();
    // The steps as a job file gives them: [{"gaussian": 1}, {"threshold": "otsu"}, {"invert": true}].
    const json given = req.has_param("steps") ? json::parse(req.get_param_value("steps"), nullptr, false) : json::array();
    if (!given.is_array()) throw RequestError(400, "'steps' is a JSON list, e.g. [{\"gaussian\": 1}, {\"threshold\": \"otsu\"}]");
    std::vector<ParsedFilterStep> steps;
    for (size_t i = 0; i < given.size(); ++i) {
      const json& g = given[i];
      if (!g.is_object() || g.size() != 1) throw RequestError(400, "each step is one {\"name\": value}, not " + g.dump());
      const json& v = g.begin().value();
      const std::string value = v.is_string() ? v.get<std::string>() : v.is_boolean() || v.is_null() ? "" : v.dump();
      try {
        steps.push_back(parse_filter_step({g.begin().key(), value}, false));
      } catch (const UsageError& e) {
        send_json(res, {{"error", e.what()}, {"step", i}}, 400);
        return;
      }
    }
    StackReader reader(stack);
    const int64_t z = query_integer(req, "z", 0, reader.nz() - 1, reader.nz() / 2, false);
    const int64_t side = query_integer(req, "crop", 16, 2048, 256, false);
    const int64_t h = std::min(side, reader.ny()), w = std::min(side, reader.nx());
    const int64_t y0 = std::clamp(query_integer(req, "cy", 0, reader.ny() - 1, reader.ny() / 2, false) - h / 2, int64_t{0}, reader.ny() - h);
    const int64_t x0 = std::clamp(query_integer(req, "cx", 0, reader.nx() - 1, reader.nx() / 2, false) - w / 2, int64_t{0}, reader.nx() - w);
    reader.seek(z);
    const Volume section = reader.next(1);
    Volume v = visit_dtype(section.dtype(), [&](auto type) {
      using T = decltype(type);
      Volume crop(section.dtype(), 1, h, w, section.channels());
      for (int64_t y = 0; y < h; ++y)
        std::copy_n(section.slice<T>(0) + ((y0 + y) * section.nx() + x0) * section.channels(), w * section.channels(),
                    crop.slice<T>(0) + y * w * section.channels());
      crop.voxel_size = section.voxel_size.known ? section.voxel_size : reader.voxel_size();
      return crop;
    });
    if (!v.voxel_size.known) v.voxel_size = reader.voxel_size();
    for (size_t i = 0; i < steps.size(); ++i) {
      try {
        v = apply_filter_step(steps[i], v, false);
      } catch (const InputError& e) {
        send_json(res, {{"error", "--" + steps[i].name + ": " + e.what()}, {"step", i}}, 400);
        return;
      }
    }
    SectionView view;
    const std::string png = picture_png(v, view);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    res.set_header("X-Uniem-Preview", json{{"z", z}, {"crop", {y0, x0, h, w}}, {"dtype", dtype_name(v.dtype())}, {"milliseconds", ms}}.dump());
    res.set_header("Cache-Control", "no-store");
    res.set_content(png, "image/png");
  });
  http.get("/api/data/file", [&s](const httplib::Request& req, httplib::Response& res) {
    const std::string text = param(req, "path");
    const fs::path file = existing(s.paths, text);
    const char* type = content_type(file);
    std::error_code ec;
    if (!type || !fs::is_regular_file(file, ec))
      throw RequestError(404, "'" + text + "' is not a picture, table or text file (.png, .csv, .json, .jsonl, .txt, .log)");
    if (fs::file_size(file, ec) > max_file) throw RequestError(413, "'" + text + "' is too large to show here (over 64 MB)");
    std::ifstream in(file, std::ios::binary);
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    res.set_header("Cache-Control", "no-store");
    res.set_content(std::move(body), type);
  });
  // Files as they are, for viewers: byte ranges come from httplib, which calls the provider for
  // the range asked; shards and chunks are read from the file, never held whole.
  http.get(R"(/share/.*)", [&s, &http](const httplib::Request& req, httplib::Response& res) {
    const std::string text = http.shared_path(req);
    const fs::path file = existing(s.paths, text);
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) throw RequestError(404, "'" + text + "' is a folder; a viewer asks for the files in it");
    const auto size = static_cast<size_t>(fs::file_size(file, ec));
    const std::string name = file.filename().string();
    const bool json_file = name == "info" || name == ".zarray" || name == ".zattrs" || name == ".zgroup" || name == "zarr.json" ||
                           name == "attributes.json" || file.extension() == ".json";
    res.set_header("Cache-Control", "no-cache");
    res.set_header("Accept-Ranges", "bytes");
    res.set_content_provider(size, json_file ? "application/json" : "application/octet-stream",
                             [file](size_t offset, size_t length, httplib::DataSink& sink) {
                               std::ifstream in(file, std::ios::binary);
                               in.seekg(static_cast<std::streamoff>(offset));
                               std::string buffer(std::min<size_t>(length, 1 << 20), '\0');
                               in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
                               const auto got = static_cast<size_t>(std::max<std::streamsize>(0, in.gcount()));
                               return got > 0 && sink.write(buffer.data(), got);
                             });
  });
  // Adding and removing folders, from this computer only: {"path"} -> {"folders"}.
  for (const bool adding : {true, false}) {
    http.post(adding ? "/api/data/folders" : "/api/data/folders/remove",
              [&s, adding](const httplib::Request& req, const json& body, httplib::Response& res) {
                if (!is_loopback(req.remote_addr))
                  throw RequestError(403, "folders can be added only at the computer that runs the workbench");
                if (!body.contains("path") || !body["path"].is_string())
                  throw RequestError(400, "give the folder as {\"path\": \"/full/path\"}");
                if (adding) s.paths.add(body["path"].get<std::string>());
                else s.paths.remove(body["path"].get<std::string>());
                json folders = json::array();
                for (const auto& f : s.paths.added()) folders.push_back(f.string());
                send_json(res, {{"folders", folders}});
              });
  }
  http.get("/api/training", [&s](const httplib::Request&, httplib::Response& res) { send_json(res, s.catalog.training_runs()); });
  http.get("/api/training/log", [&s](const httplib::Request& req, httplib::Response& res) {
    const fs::path folder = existing(s.paths, param(req, "path"));
    const int64_t since = query_integer(req, "since", 0, int64_t{1} << 50, 0, false);
    json answer = log_lines(folder / "training-log.jsonl", static_cast<uint64_t>(since));
    if (since == 0 || answer.contains("reset")) {
      std::ifstream in(folder / "model.json");
      const json model = in ? json::parse(in, nullptr, false) : json();
      if (model.is_object()) answer["model"] = model;
    }
    send_json(res, answer);
  });
  http.get("/api/training/samples", [&s](const httplib::Request& req, httplib::Response& res) {
    const std::string text = param(req, "path");
    const fs::path folder = existing(s.paths, text);
    std::vector<std::pair<int64_t, fs::path>> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(folder / "samples", ec)) {
      const std::string name = e.path().filename().string();
      if (!name.starts_with("step-") || e.path().extension() != ".png") continue;
      try {
        found.emplace_back(std::stoll(name.substr(5)), e.path());
      } catch (const std::exception&) {
      }
    }
    std::sort(found.begin(), found.end());
    json samples = json::array();
    for (const auto& [step, file] : found)
      samples.push_back({{"step", step}, {"url", "api/data/file?path=" + url_component(s.paths.shown(file))}});
    send_json(res, {{"samples", samples}});
  });
}

DataService::~DataService() = default;

const WorkspacePaths& DataService::paths() const { return state_->paths; }

}  // namespace uniem::web
