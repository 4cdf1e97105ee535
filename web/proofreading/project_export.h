// A project's export: its labels as a stack and, beside it, what people said about them.
//
// For a stack at OUT (a file or a folder), the tables are OUT's path without its extension
// (".tif", ".zarr"...; a trailing slash dropped) followed by
//   .segments.csv  .segments.json   every segment: id, name, colour ("#rrggbb" given to it, ""
//                                   for its own from the page's palette), lock holder ("" none),
//                                   voxels, checked (true/false: marked as reviewed in the review
//                                   queue) and checked_by (who did, "" none)
//   .markers.csv   .markers.json    every marker: key, z, y, x (voxels), note, author, segment
//                                   (0 none), name, type (the 3D annotator's, "" otherwise)
// e.g. exports/labels-v12.tif and exports/labels-v12.segments.csv. The JSON files hold
// {"version", "segments" | "markers"}; the CSV files a header line, then one row each, fields
// quoted when they hold a comma, a quote or a line break.
// Written whole or not at all: the tables go to temporaries first, the stack is written (whole,
// io/stack.h), and only then are the tables renamed into place; a failure before leaves nothing.
// Both the page (web/server.h export_labels) and `uniem export` write through write_export().
#pragma once

#include <array>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "io/stack.h"
#include "web/proofreading/session.h"

namespace uniem::web {

struct ProjectExport {
  Volume labels;
  int64_t version = 0;      // the version the labels are the state of
  nlohmann::json segments;  // Session::segments(), at `version` unless edits went on throughout
  nlohmann::json markers;   // Session::markers(), the same
  int64_t tables_version = 0;
};

// The labels (Session::labels(bits)) and the tables, of one version: read again when an edit came
// between them (up to three times; then the tables are those of tables_version).
ProjectExport read_export(const Session& session, int bits);

// Where the tables of a stack at `stack` go: segments.csv, segments.json, markers.csv, markers.json.
std::array<std::filesystem::path, 4> export_table_paths(const std::filesystem::path& stack);

// InputError when a table exists and `overwrite` is false (checked before any work).
void check_export_tables(const std::filesystem::path& stack, bool overwrite);

// Writes the stack and its tables, as said above.
void write_export(const std::filesystem::path& stack, const ProjectExport& e, const WriteOptions& options);

std::string segments_csv(const nlohmann::json& segments);
std::string markers_csv(const nlohmann::json& markers);

}  // namespace uniem::web
