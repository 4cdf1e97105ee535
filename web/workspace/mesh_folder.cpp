#include "web/workspace/mesh_folder.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "core/error.h"
#include "io/atomic_output.h"
#include "web/request_error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::web {
namespace {

constexpr const char* annotations_file = "annotations.json";

// The fields of one CSV line: commas separate, double quotes quote ("" is a quote).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out{""};
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string number_text(double v) {
  std::ostringstream o;
  o.precision(10);
  o << v;
  return o.str();
}

std::string text_of(const json& j, const char* key, const std::string& fallback = "") {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_string()) throw RequestError(400, std::string("'") + key + "' is text, not " + j[key].dump());
  const std::string s = j[key].get<std::string>();
  if (s.size() > 2000) throw RequestError(400, std::string("'") + key + "' is longer than 2000 characters");
  return s;
}

double coordinate(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number() || !std::isfinite(j[key].get<double>()))
    throw RequestError(400, std::string("'") + key + "' must be a number (nm)");
  return j[key].get<double>();
}

int64_t whole(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number_integer()) throw RequestError(400, std::string("'") + key + "' must be a whole number");
  return j[key].get<int64_t>();
}

}  // namespace

MeshFolder::MeshFolder(fs::path folder) : folder_(std::move(folder)) {
  const fs::path table = folder_ / "measurements.csv";
  std::ifstream in(table);
  if (!in) throw InputError(table, "cannot be read: this is no mesh folder written by uniem mesh");
  std::string line;
  std::getline(in, line);
  const auto header = csv_fields(line);
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < header.size(); ++i) column[header[i]] = i;
  for (const char* needed : {"label", "voxels", "mesh_volume_nm3", "surface_area_nm2", "centroid_z_nm", "centroid_y_nm", "centroid_x_nm"})
    if (!column.count(needed)) throw InputError(table, std::string("has no column '") + needed + "'");
  std::map<int64_t, std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder_, ec)) {
    static const std::regex name(R"(label_(\d+)\.(ply|obj|stl)|(\d+)\.frag)");  // the .frag: Neuroglancer's precomputed
    std::smatch m;
    const std::string f = e.path().filename().string();
    if (!std::regex_match(f, m, name)) continue;
    const std::string digits = m[1].matched ? m[1].str() : m[3].str();
    int64_t id = 0;
    if (std::from_chars(digits.data(), digits.data() + digits.size(), id).ec == std::errc()) files[id] = f;
  }
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const auto f = csv_fields(line);
    auto at = [&](const char* key) -> double {
      const size_t i = column[key];
      try {
        return i < f.size() ? std::stod(f[i]) : 0;
      } catch (const std::exception&) {
        throw InputError(table, "line " + std::to_string(number) + ": '" + key + "' is not a number");
      }
    };
    MeshObject o;
    o.id = static_cast<int64_t>(at("label"));
    o.voxels = static_cast<int64_t>(at("voxels"));
    o.volume_nm3 = at("mesh_volume_nm3");
    o.area_nm2 = at("surface_area_nm2");
    o.centroid_nm = {at("centroid_z_nm"), at("centroid_y_nm"), at("centroid_x_nm")};
    if (column.count("vertices")) o.vertices = static_cast<int64_t>(at("vertices"));
    if (column.count("triangles")) o.triangles = static_cast<int64_t>(at("triangles"));
    const char* box[] = {"z_min", "y_min", "x_min", "z_max", "y_max", "x_max"};
    for (int k = 0; k < 6; ++k)
      if (column.count(box[k])) o.box[static_cast<size_t>(k)] = static_cast<int64_t>(at(box[k]));
    if (auto it = files.find(o.id); it != files.end()) o.file = it->second;
    objects_.push_back(o);
  }
  std::ifstream notes(folder_ / annotations_file);
  notes_ = notes ? json::parse(notes, nullptr, false) : json();
  // A file edited by hand keeps what is usable in it; the rest starts afresh.
  if (notes_.is_discarded() || !notes_.is_object()) notes_ = json::object();
  if (!notes_.contains("version") || !notes_["version"].is_number_integer()) notes_["version"] = 0;
  if (!notes_.contains("objects") || !notes_["objects"].is_object()) notes_["objects"] = json::object();
  json markers = json::array();
  int64_t next = 1;
  for (const auto& m : notes_.value("markers", json::array())) {
    if (!m.is_object() || !m.contains("id") || !m["id"].is_number_integer()) continue;
    json kept = {{"id", m["id"]}, {"name", ""}, {"type", ""}, {"note", ""}, {"x", 0.0}, {"y", 0.0}, {"z", 0.0}, {"segment", 0}};
    for (const char* key : {"name", "type", "note"})
      if (m.contains(key) && m[key].is_string()) kept[key] = m[key];
    for (const char* key : {"x", "y", "z"})
      if (m.contains(key) && m[key].is_number()) kept[key] = m[key];
    if (m.contains("segment") && m["segment"].is_number_integer()) kept["segment"] = m["segment"];
    next = std::max(next, kept["id"].get<int64_t>() + 1);
    markers.push_back(std::move(kept));
  }
  notes_["markers"] = markers;
  if (!notes_.contains("next_marker") || !notes_["next_marker"].is_number_integer() || notes_["next_marker"].get<int64_t>() < next)
    notes_["next_marker"] = next;
}

const MeshObject* MeshFolder::find(int64_t id) const {
  for (const auto& o : objects_)
    if (o.id == id) return &o;
  return nullptr;
}

json MeshFolder::page(const std::string& sort, bool descending, const std::string& search, int64_t offset, int64_t limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto name_of = [&](int64_t id) {
    const json& objects = notes_["objects"];
    const std::string key = std::to_string(id);
    return objects.contains(key) ? objects[key].value("name", "") : std::string();
  };
  std::vector<const MeshObject*> rows;
  std::string needle = search;
  std::transform(needle.begin(), needle.end(), needle.begin(), ::tolower);
  for (const auto& o : objects_) {
    if (!needle.empty()) {
      std::string name = name_of(o.id);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      if (std::to_string(o.id).find(needle) == std::string::npos && name.find(needle) == std::string::npos) continue;
    }
    rows.push_back(&o);
  }
  std::function<bool(const MeshObject*, const MeshObject*)> less;
  if (sort == "id") less = [](auto a, auto b) { return a->id < b->id; };
  else if (sort == "voxels") less = [](auto a, auto b) { return a->voxels < b->voxels || (a->voxels == b->voxels && a->id < b->id); };
  else if (sort == "volume") less = [](auto a, auto b) { return a->volume_nm3 < b->volume_nm3 || (a->volume_nm3 == b->volume_nm3 && a->id < b->id); };
  else if (sort == "area") less = [](auto a, auto b) { return a->area_nm2 < b->area_nm2 || (a->area_nm2 == b->area_nm2 && a->id < b->id); };
  else if (sort == "name") less = [&](auto a, auto b) { return std::make_pair(name_of(a->id), a->id) < std::make_pair(name_of(b->id), b->id); };
  else throw RequestError(400, "'sort' is id, name, voxels, volume or area, not '" + sort + "'");
  std::stable_sort(rows.begin(), rows.end(), [&](auto a, auto b) { return descending ? less(b, a) : less(a, b); });
  json page = json::array();
  for (int64_t i = offset; i < std::min<int64_t>(offset + limit, static_cast<int64_t>(rows.size())); ++i) {
    const MeshObject& o = *rows[static_cast<size_t>(i)];
    const std::string key = std::to_string(o.id);
    const json note = notes_["objects"].contains(key) ? notes_["objects"][key] : json::object();
    page.push_back({{"id", o.id}, {"name", note.value("name", "")}, {"colour", note.value("colour", "")}, {"voxels", o.voxels},
                    {"volume_nm3", o.volume_nm3}, {"area_nm2", o.area_nm2}, {"centroid_nm", o.centroid_nm},
                    {"vertices", o.vertices}, {"triangles", o.triangles}, {"file", o.file}});
  }
  return {{"total", rows.size()}, {"offset", offset}, {"objects", page}, {"version", notes_["version"]}};
}

json MeshFolder::annotations() {
  std::lock_guard<std::mutex> lock(mutex_);
  return notes_;
}

void MeshFolder::save() {
  notes_["version"] = notes_["version"].get<int64_t>() + 1;
  try {
    write_file_durably(folder_ / annotations_file, notes_.dump(1) + "\n");
  } catch (const std::exception& e) {
    notes_["version"] = notes_["version"].get<int64_t>() - 1;
    throw RequestError(507, std::string("not saved: ") + e.what());
  }
}

json MeshFolder::change(const json& op) {
  if (!op.is_object() || !op.contains("op") || !op["op"].is_string())
    throw RequestError(400, "a change is {\"op\": \"add\" | \"move\" | \"edit\" | \"delete\" | \"restore\" | \"object\", ...}");
  const std::string kind = op["op"];
  std::lock_guard<std::mutex> lock(mutex_);
  const json before = notes_;
  json& markers = notes_["markers"];
  auto marker_at = [&](int64_t id) -> json& {
    for (auto& m : markers)
      if (m["id"] == id) return m;
    throw RequestError(404, "there is no marker " + std::to_string(id));
  };
  auto set_segment = [&](json& m, const json& from) {
    if (!from.contains("segment")) return;
    const int64_t s = whole(from, "segment");
    if (s < 0) throw RequestError(400, "'segment' must not be negative");
    m["segment"] = s;
  };
  auto marker_from = [&](const json& from, int64_t id) {
    json m = {{"id", id}, {"name", text_of(from, "name", "marker " + std::to_string(id))}, {"type", text_of(from, "type", "")},
              {"note", text_of(from, "note", "")}, {"x", coordinate(from, "x")}, {"y", coordinate(from, "y")},
              {"z", coordinate(from, "z")}, {"segment", 0}};
    set_segment(m, from);
    return m;
  };
  try {
    if (kind == "add") {
      if (!op.contains("marker") || !op["marker"].is_object()) throw RequestError(400, "'add' needs \"marker\": {\"x\", \"y\", \"z\", ...}");
      const int64_t id = notes_["next_marker"].get<int64_t>();
      markers.push_back(marker_from(op["marker"], id));
      notes_["next_marker"] = id + 1;
    } else if (kind == "restore") {
      if (!op.contains("marker") || !op["marker"].is_object()) throw RequestError(400, "'restore' needs \"marker\"");
      const int64_t id = whole(op["marker"], "id");
      for (const auto& m : markers)
        if (m["id"] == id) throw RequestError(409, "marker " + std::to_string(id) + " exists already");
      markers.push_back(marker_from(op["marker"], id));
      notes_["next_marker"] = std::max(notes_["next_marker"].get<int64_t>(), id + 1);
    } else if (kind == "move") {
      json& m = marker_at(whole(op, "id"));
      for (const char* axis : {"x", "y", "z"}) m[axis] = coordinate(op, axis);
      set_segment(m, op);
    } else if (kind == "edit") {
      json& m = marker_at(whole(op, "id"));
      for (const char* key : {"name", "type", "note"})
        if (op.contains(key)) m[key] = text_of(op, key);
    } else if (kind == "delete") {
      const int64_t id = whole(op, "id");
      marker_at(id);
      markers.erase(std::remove_if(markers.begin(), markers.end(), [&](const json& m) { return m["id"] == id; }), markers.end());
    } else if (kind == "object") {
      const int64_t id = whole(op, "object");
      if (!find(id)) throw RequestError(404, "there is no object " + std::to_string(id) + " in this mesh folder");
      json& o = notes_["objects"][std::to_string(id)];
      if (!o.is_object()) o = json::object();
      if (op.contains("name")) o["name"] = text_of(op, "name");
      if (op.contains("colour")) {
        const std::string c = text_of(op, "colour");
        if (!std::regex_match(c, std::regex("(#[0-9a-fA-F]{6})?"))) throw RequestError(400, "'colour' is #rrggbb, e.g. #ff8800, not '" + c + "'");
        o["colour"] = c;
      }
    } else {
      throw RequestError(400, "unknown change '" + kind + "' (add, move, edit, delete, restore, object)");
    }
    save();
  } catch (...) {
    notes_ = before;  // nothing of a refused or unsaved change stays
    throw;
  }
  return notes_;
}

json MeshFolder::import_markers(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  if (!std::getline(in, line)) throw RequestError(400, "the file is empty (a header line id,name,type,x,y,z,segment comes first)");
  const auto header = csv_fields(line);
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < header.size(); ++i) column[header[i]] = i;
  for (const char* needed : {"name", "type", "x", "y", "z", "segment"})
    if (!column.count(needed))
      throw RequestError(400, std::string("line 1: no column '") + needed + "' (the header is id,name,type,x,y,z,segment[,note])");
  std::vector<json> found;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty() || line == "\r") continue;
    const auto f = csv_fields(line);
    const std::string where = "line " + std::to_string(number) + ": ";
    auto field = [&](const char* key) { return column[key] < f.size() ? f[column[key]] : std::string(); };
    auto number_in = [&](const char* key) {
      const std::string text = field(key);
      try {
        size_t used = 0;
        const double v = std::stod(text, &used);
        if (used == text.size() && std::isfinite(v)) return v;
      } catch (const std::exception&) {
      }
      throw RequestError(400, where + "'" + key + "' is not a number: '" + text + "'");
    };
    const double segment = number_in("segment");
    if (segment < 0 || segment != std::floor(segment)) throw RequestError(400, where + "'segment' must be a whole number, 0 or more");
    found.push_back({{"name", field("name")}, {"type", field("type")}, {"note", column.count("note") ? field("note") : ""},
                     {"x", number_in("x")}, {"y", number_in("y")}, {"z", number_in("z")}, {"segment", static_cast<int64_t>(segment)}});
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const json before = notes_;
  try {
    for (auto& m : found) {
      const int64_t id = notes_["next_marker"].get<int64_t>();
      m["id"] = id;
      if (m["name"].get<std::string>().empty()) m["name"] = "marker " + std::to_string(id);
      notes_["markers"].push_back(m);
      notes_["next_marker"] = id + 1;
    }
    save();
  } catch (...) {
    notes_ = before;
    throw;
  }
  return {{"imported", found.size()}, {"annotations", notes_}};
}

std::string MeshFolder::objects_csv() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out = "id,name,colour,voxels,volume_nm3,surface_area_nm2,centroid_z_nm,centroid_y_nm,centroid_x_nm\n";
  for (const auto& o : objects_) {
    const std::string key = std::to_string(o.id);
    const json note = notes_["objects"].contains(key) ? notes_["objects"][key] : json::object();
    out += key + "," + csv_field(note.value("name", "")) + "," + note.value("colour", "") + "," + std::to_string(o.voxels) + "," +
           number_text(o.volume_nm3) + "," + number_text(o.area_nm2) + "," + number_text(o.centroid_nm[0]) + "," +
           number_text(o.centroid_nm[1]) + "," + number_text(o.centroid_nm[2]) + "\n";
  }
  return out;
}

std::string MeshFolder::markers_csv() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out = "id,name,type,x,y,z,segment,note\n";
  for (const auto& m : notes_["markers"])
    out += std::to_string(m["id"].get<int64_t>()) + "," + csv_field(m["name"]) + "," + csv_field(m["type"]) + "," +
           number_text(m["x"]) + "," + number_text(m["y"]) + "," + number_text(m["z"]) + "," +
           std::to_string(m["segment"].get<int64_t>()) + "," + csv_field(m["note"]) + "\n";
  return out;
}

}  // namespace uniem::web
