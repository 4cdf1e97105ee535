// The proofreader's HTTP server (cpp-httplib): the page, and a small JSON API over a Session.
//
//   GET  /                     the page (web/assets/, embedded at build time)
//   GET  /annotator/           the 3D annotator on this project (its segments' surfaces, markers)
//   GET  /api/info             project, version, next id; "user": the person whose own token (or
//                              cookie) the request carries (HttpOptions::users), "anonymous": the
//                              name this browser's edits get when it gives none
//   GET  /api/image?z&level[&lo&hi]   image section as 8-bit PNG, values lo..hi shown black..white
//   GET  /api/labels?z&level[&encoding=raw|runs]   label section, uint32 little-endian: raw, each
//                              voxel (gzip when the browser takes it), or runs, (id, count) pairs
//                              in raster order (what the page asks for: small and fast to make)
//   GET  /api/image/plane?plane=xz|yz&at[&lo&hi]   the cut across the sections as 8-bit PNG:
//                              xz through y = at (rows z, columns x), yz through x = at (rows z, columns y)
//   GET  /api/labels/plane?plane=xz|yz&at[&encoding=raw|runs]   the same cut of the labels, uint32
//                              as /api/labels gives a section (X-Uniem-Size: nz, columns)
//   GET  /api/segments         [{id, voxels, name, colour, locked_by, checked_by}], all of them
//   GET  /api/segments?count[&offset&sort=id|voxels|name&order=up|down&search]   a page of them
//                              (Session::segment_page: {total, matching, offset, items, annotated})
//   GET  /api/segment?id       where a segment is: {id, voxels, box, z, y, x}
//   GET  /api/fill?z&y&x       what a fill there would change: Session::fill_preview()
//   GET  /api/markers          [{key, z, y, x, note, user, segment, name?, type?, nm?}]
//   GET  /api/review[?small=N] the review queue: segments to look at and why, who checked them, the
//                              markers, the progress (Session::review; small: a small fragment has
//                              fewer than N voxels, 0 or absent: a tenth of the median)
//   GET  /api/history?count    the last journal records
//   GET  /api/mesh?segment=N[&detail=full]   the segment's surface, binary PLY in nm, made when asked
//                              and kept until the segment changes (segment_meshes.h): decimated for
//                              display unless detail=full; what it is in the X-Uniem-Mesh header
//   GET  /api/mesh/info?segment=N[&detail=full]   that JSON alone: vertices, triangles, area,
//                              volume, level (1: every voxel; more: a coarser level), decimated
//   GET  /api/events?since=V   server-sent events: {"version", "events" | "reload"} as they happen
//   POST /api/edit             an operation (web/proofreading/session.h); 200 {"version", ...} once it is on disk;
//                              with people's own tokens, the edit is that person's whatever "user" says
//   POST /api/export           {"format": "tif"|"png", "bits": 0|8|16|32} -> exports/NAME, {"file", "path",
//                              "tables": [NAME.segments.csv, .segments.json, .markers.csv, .markers.json]}
//   GET  /exports/NAME         a finished export or one of its tables
// Every request passes the rules of web/http.h first (host, token, origin, the page's secret for
// edits, body limits, connection threads); errors are JSON {"error": message}, 4xx for the
// request, 5xx only when the disk fails. Names in paths are checked so that nothing outside
// exports/ is reachable.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "web/http.h"
#include "web/proofreading/session.h"

namespace uniem::web {

using ServerOptions = HttpOptions;

// The routes above and the page, under `prefix`: "" for uniem serve, "/projects/([A-Za-z0-9_.~-]+)"
// for the workbench, whose projects are told apart by the first group. `session_of(request)`
// gives the session a request is for (RequestError 404 when there is none).
using SessionOf = std::function<Session&(const httplib::Request&)>;
void add_proofreading_routes(HttpServer& http, const std::string& prefix, SessionOf session_of);

class Server {
 public:
  Server(Session& session, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int bind();     // returns the port; throws InputError when it is taken
  void listen();  // serves until stop()
  void stop();

 private:
  Session& session_;
  HttpServer http_;
};

// "exports/labels-v12.tif": writes the labels as they are now under the project's exports/ folder
// (8/16/32 bits, 0 = the smallest that holds the ids; refused like `uniem convert` when they do not
// fit), with its tables of segments and markers beside it (web/proofreading/project_export.h).
// Returns the file or folder name.
std::string export_labels(const Session& session, const std::string& format, int bits);

}  // namespace uniem::web
