#include "web/proofreading/project_export.h"

#include <memory>
#include <vector>

#include "io/atomic_output.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::web {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string text_of(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// A marker as the export gives it: the session's "user" is its author.
json exported_marker(const json& m) {
  json e = {{"key", m.value("key", "")}, {"z", m.value("z", int64_t{0})}, {"y", m.value("y", int64_t{0})},
            {"x", m.value("x", int64_t{0})}, {"note", text_of(m, "note")}, {"author", text_of(m, "user")},
            {"segment", m.value("segment", int64_t{0})}, {"name", text_of(m, "name")}, {"type", text_of(m, "type")}};
  if (m.contains("nm")) e["nm"] = m["nm"];
  return e;
}

}  // namespace

ProjectExport read_export(const Session& session, int bits) {
  ProjectExport e;
  for (int attempt = 0; attempt < 3; ++attempt) {
    e.labels = session.labels(bits, &e.version);
    // The version does not go back: equal before and after, no edit came between the two reads.
    const int64_t before = session.version();
    e.segments = session.segments();
    e.markers = session.markers();
    e.tables_version = session.version();
    if (before == e.version && e.tables_version == e.version) break;
  }
  return e;
}

std::array<fs::path, 4> export_table_paths(const fs::path& stack) {
  fs::path base = stack;
  if (base.filename().empty()) base = base.parent_path();  // "labels-png/"
  base.replace_extension();
  const std::string b = base.string();
  return {fs::path(b + ".segments.csv"), fs::path(b + ".segments.json"), fs::path(b + ".markers.csv"),
          fs::path(b + ".markers.json")};
}

void check_export_tables(const fs::path& stack, bool overwrite) {
  for (const fs::path& table : export_table_paths(stack)) AtomicOutput::check(table, AtomicOutput::Kind::file, overwrite);
}

std::string segments_csv(const json& segments) {
  std::string out = "id,name,colour,locked_by,voxels,checked,checked_by\n";
  for (const json& s : segments)
    out += std::to_string(s.value("id", int64_t{0})) + "," + csv_field(text_of(s, "name")) + "," +
           csv_field(text_of(s, "colour")) + "," + csv_field(text_of(s, "locked_by")) + "," +
           std::to_string(s.value("voxels", int64_t{0})) + "," + (text_of(s, "checked_by").empty() ? "false" : "true") + "," +
           csv_field(text_of(s, "checked_by")) + "\n";
  return out;
}

std::string markers_csv(const json& markers) {
  std::string out = "key,z,y,x,note,author,segment,name,type\n";
  for (const json& raw : markers) {
    const json m = exported_marker(raw);
    out += csv_field(m["key"].get<std::string>()) + "," + std::to_string(m["z"].get<int64_t>()) + "," +
           std::to_string(m["y"].get<int64_t>()) + "," + std::to_string(m["x"].get<int64_t>()) + "," +
           csv_field(m["note"].get<std::string>()) + "," + csv_field(m["author"].get<std::string>()) + "," +
           std::to_string(m["segment"].get<int64_t>()) + "," + csv_field(m["name"].get<std::string>()) + "," +
           csv_field(m["type"].get<std::string>()) + "\n";
  }
  return out;
}

void write_export(const fs::path& stack, const ProjectExport& e, const WriteOptions& options) {
  json segments = json::array();
  for (const json& s : e.segments)
    segments.push_back({{"id", s.value("id", int64_t{0})}, {"name", text_of(s, "name")}, {"colour", text_of(s, "colour")},
                        {"locked_by", text_of(s, "locked_by")}, {"voxels", s.value("voxels", int64_t{0})},
                        {"checked", !text_of(s, "checked_by").empty()}, {"checked_by", text_of(s, "checked_by")}});
  json markers = json::array();
  for (const json& m : e.markers) markers.push_back(exported_marker(m));
  const std::array<std::string, 4> contents = {
      segments_csv(e.segments), json{{"version", e.tables_version}, {"segments", segments}}.dump(1) + "\n",
      markers_csv(e.markers), json{{"version", e.tables_version}, {"markers", markers}}.dump(1) + "\n"};
  const auto paths = export_table_paths(stack);
  std::vector<std::unique_ptr<AtomicOutput>> tables;
  for (size_t i = 0; i < paths.size(); ++i) {
    tables.push_back(std::make_unique<AtomicOutput>(paths[i], AtomicOutput::Kind::file, options.overwrite));
    write_file(tables.back()->temporary(), contents[i]);
  }
  write_volume(stack, e.labels, options);
  for (const auto& table : tables) table->commit();
}

}  // namespace uniem::web
