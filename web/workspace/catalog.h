// What the workspace holds, by kind, for the workbench's home page: a walk of the workspace and
// its added folders (at most `max_depth` folders deep; hidden folders and partial outputs, named
// *.tmp-*, skipped) that recognises
//   project  a proofreading project (project.json)          model2d   model.json "uniem-model-2d"
//   run      a job's run folder (run.json; its outputs too) ffn_model model.json "uniem-model-ffn"
//   meshes   a mesh folder (measurements.csv)               images / labels   image stacks
// Image stacks are folders of PNG or TIFF files, multi-page TIFF files, Zarr, N5 and Neuroglancer
// precomputed volumes and
// each volume of an HDF5 file ("cremi.h5:volumes/raw"), probed from their headers only (shape,
// type, voxel size), once per change of the folder or file (its modification time).
// "labels" are stacks of 16 bits and more, or 8-bit ones named like a segmentation (label, seg,
// mask, truth, gt); the page can show either kind both ways. A stack that cannot be read is a
// problem {"path", "message"}, with the reader's message. Items as web/workspace/data_service.h
// describes them.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "web/workspace/workspace_paths.h"

namespace uniem::web {

class DataCatalog {
 public:
  explicit DataCatalog(const WorkspacePaths& paths, int max_depth = 5) : paths_(paths), max_depth_(max_depth) {}
  nlohmann::json list();            // {"items": [...], "problems": [...]}
  nlohmann::json training_runs();   // {"runs": [...]}: every folder with a training-log.jsonl

 private:
  struct Walk;
  void visit(Walk& walk, const std::filesystem::path& folder, int depth);
  void add_stack(Walk& walk, const std::filesystem::path& input);  // a folder or one TIFF file
  const WorkspacePaths& paths_;
  int max_depth_;
  struct Probed {
    std::filesystem::file_time_type modified;
    nlohmann::json item;   // null when unreadable
    std::string problem;
  };
  std::mutex mutex_;
  std::map<std::string, Probed> probed_;  // by path
};

// A training log's last step (0 when none), read from its end.
int64_t last_logged_step(const std::filesystem::path& log);

}  // namespace uniem::web
