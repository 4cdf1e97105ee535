// cuBLAS and cuDNN are loaded when the CUDA backend first needs them, not when uniem starts, so one
// binary runs everywhere: on a PC without NVIDIA's libraries it computes on the CPU and says what
// is missing. The functions keep their names: libraries.cpp defines every one that uniem calls as
// a forwarder into the loaded library, so the rest of cuda/ calls them as usual.
//
// Where each library is looked for, first match wins:
//   1. the file named by $UNIEM_CUDNN or $UNIEM_CUBLAS, when set (and nowhere else then);
//   2. the folder holding the uniem program (a release can ship them side by side);
//   3. the system's search: LD_LIBRARY_PATH, ld.so.cache, /usr/lib...;
//   4. /usr/local/cuda/lib64 and /usr/local/cuda/lib.
// The file names carry the major versions this uniem was compiled against (libcudnn.so.9,
// libcublas.so.13); a cuDNN of another major version is refused by its reported version.
// Nothing here throws except require_libraries().
#pragma once

#include <cstddef>
#include <string>

namespace uniem::cuda {

struct LibraryInfo {
  std::string name;      // "cuDNN", "cuBLAS"
  std::string file;      // the file loaded; the file name looked for when none was
  size_t version = 0;    // major * 10000 + minor * 100 + patch, once loaded
  std::string problem;   // why it is not usable; empty when it is
  bool usable() const { return problem.empty(); }
  std::string version_text() const;  // "9.19.0"
};

const LibraryInfo& cudnn_library();   // loaded on the first call, from any thread
const LibraryInfo& cublas_library();

// Throws CudaError naming each missing library, why, and how to provide it.
void require_libraries();

}  // namespace uniem::cuda
