// What a file or folder held, for run records (apps/jobs/runner.h): its size, newest
// modification time and a SHA-256 of its content, so that a rerun can tell whether an input
// changed and whether an output came out the same.
//
// The digest covers every regular file below the path, in sorted order of their relative paths,
// each as its relative path and the digest of its bytes; a single file is the digest of its bytes. Two rules make
// it describe results rather than circumstances:
//   - JSON and JSON-lines files (.json, .jsonl) are hashed as parsed JSON without the fields that
//     time the run (names that are "seconds" or end in "_seconds" or "_per_second"), measure its
//     memory (names ending in "memory_bytes") and those whose
//     value is an absolute path (where the run's inputs and outputs happened to be);
//   - above `full_limit` bytes in all, each file contributes its first and last MiB
//     and 64 blocks of 64 KiB spread evenly through it ("method": "sampled"), so that recording
//     a terabyte input does not read it all.
// Folders with at most `listed_files` files also list each file's digest, to say which ones differ.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace uniem {

struct Fingerprint {
  std::string path;                           // absolute
  std::string kind;                           // "file", "folder" or "missing"
  uint64_t bytes = 0;
  int64_t files = 0;
  std::string modified;                       // newest modification time, UTC, ISO 8601
  std::string sha256;
  std::string method = "full";                // or "sampled"
  std::map<std::string, std::string> listed;  // relative path -> digest, for small folders

  nlohmann::json to_json() const;
  static Fingerprint from_json(const nlohmann::json& j);
  bool same_content(const Fingerprint& other) const { return kind == other.kind && sha256 == other.sha256; }
};

constexpr uint64_t default_full_limit = uint64_t{8} << 30;

// `path` may name a dataset in an HDF5 file ("cremi.h5:volumes/raw"): the whole file is summed.
Fingerprint fingerprint(const std::filesystem::path& path, uint64_t full_limit = default_full_limit,
                        size_t listed_files = 200);

// The relative paths whose digests differ between two listed fingerprints (or are in one only).
std::vector<std::string> differing_files(const Fingerprint& a, const Fingerprint& b);

}  // namespace uniem
