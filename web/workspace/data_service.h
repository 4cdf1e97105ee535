// The workspace's data, for the workbench's home page, its stack viewer and its training monitor:
// what the workspace (and the folders added to it) holds, by kind, with a picture of each stack.
// Nothing outside the workspace and its added folders is listed or read: such a path gets 403,
// the same answer whether it exists or not (workspace_paths.h).
//
//   GET  /api/data                   {"workspace", "folders": [added folders], "items": [...],
//                                    "problems": [{"path", "message"}]}; an item:
//          {"path" (as given to the other routes and to the job forms: relative to the workspace,
//           absolute in an added folder), "name", "kind" (images | labels | model2d | ffn_model |
//           project | meshes | run), "bytes" (on disk), "modified" (UTC),
//           stacks: "shape" [z, y, x], "channels", "dtype", "voxel_size" {z, y, x, known} (nm),
//                   "format", "sections_url" (append &z=..., see below), "thumbnail" (a URL);
//           others: "details" {...} (a model's network and steps trained, a project's shape,
//                   a mesh folder's objects, a run's command and state), "open" (a URL, if any)}
//   GET  /api/data/section?path=P&z=Z[&size=S][&low=L&high=H][&as=labels|images]
//                                    section Z of the stack P as a PNG: images in grey, L..H mapped
//                                    to black..white (default: the type's range for 8 bits, else
//                                    the section's 0.5 and 99.5 percentiles); labels in colours,
//                                    one per id (0 black); at most S pixels on the longer side
//                                    (default: full size). 404 when P is no stack or Z is outside.
//   GET  /api/data/preview?path=P&steps=JSON[&z=Z][&crop=S][&cy=Y&cx=X]
//                                    the filter steps (as a job file gives them, [{"gaussian": 1},
//                                    {"threshold": "otsu"}]) applied to an S x S crop (default 256)
//                                    of section Z around (Y, X) (default: the middle), in 2D, as a
//                                    PNG (X-Uniem-Preview: z, crop, dtype, milliseconds); a bad
//                                    step is 400 {"error" (the command line's message), "step"}
//   POST /api/data/folders {"path"}  adds a folder outside the workspace (it must exist and be
//                                    readable) -> {"folders"}; kept in .uniem/folders.json
//   POST /api/data/folders/remove {"path"}  forgets it (nothing on disk is touched)
//   GET  /api/training               {"runs": [{"path", "name", "kind" (train2d | ffn), "steps"
//                                    (the last logged step), "modified", "live" (written in the
//                                    last minute), "samples" (number of sample pictures)}]}:
//                                    every folder with a training-log.jsonl, whoever started it
//   GET  /api/training/log?path=P&since=B   the log's lines from byte B on: {"lines": [objects],
//                                    "next" (the byte to ask from next time), "model" (model.json,
//                                    when since=0), "reset": true when the log was rewritten since
//                                    (a resumed training): the lines start again from the first}; a
//                                    line not yet complete waits for the next call
//   GET  /api/training/samples?path=P  {"samples": [{"step", "url"}]}: the trainer's sample
//                                    pictures (P/samples/step-N.png: input, output, target)
//   GET  /api/data/file?path=F       a PNG, CSV, JSON or text file of the workspace, as it is
//   GET  /share/PATH                 any file of the workspace or an added folder, as it is, with
//                                    byte ranges (Range: bytes=A-B -> 206): what a viewer reads of
//                                    an OME-Zarr, N5 or precomputed volume and its meshes, e.g.
//                                    Neuroglancer at precomputed://http://HOST:PORT/share/seg.precomputed;
//                                    other sites only as web/http.h allows (share_origins, token)
#pragma once

#include <filesystem>
#include <memory>

#include "web/http.h"
#include "web/workspace/workspace_paths.h"

namespace uniem::web {

class DataService {
 public:
  // Registers the routes for `workspace`; added folders are read from its .uniem/folders.json.
  DataService(HttpServer& http, std::filesystem::path workspace);
  ~DataService();
  DataService(const DataService&) = delete;
  DataService& operator=(const DataService&) = delete;
  const WorkspacePaths& paths() const;  // what the other services of the workbench may read

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace uniem::web
