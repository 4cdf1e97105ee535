// Loading cuBLAS and cuDNN at run time (libraries.h), and the forwarders that stand in for the
// functions uniem calls. A function added to cuda/ must get its forwarder here, or the link fails
// with an undefined reference naming it: uniem is not linked against either library.
#include "cuda/libraries.h"

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "cuda/check.h"

namespace uniem::cuda {
namespace {

struct Loaded {
  LibraryInfo info;
  void* handle = nullptr;
};

std::string program_folder() {
  std::error_code error;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string() : exe.parent_path().string();
}

// Opens `soname` from the places libraries.h lists; on failure says why in info.problem.
Loaded open_library(const std::string& name, const std::string& soname, const char* variable) {
  Loaded lib;
  lib.info.name = name;
  lib.info.file = soname;
  const auto try_open = [&](const std::string& file) {
    dlerror();
    lib.handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    link_map* where = nullptr;  // the file the loader chose, with its folder
    if (lib.handle) lib.info.file = dlinfo(lib.handle, RTLD_DI_LINKMAP, &where) == 0 && where ? where->l_name : file;
    const char* why = lib.handle ? nullptr : dlerror();
    return std::string(why ? why : "");
  };
  if (const char* chosen = std::getenv(variable); chosen && *chosen) {
    const std::string why = try_open(chosen);
    if (!lib.handle) lib.info.problem = std::string(variable) + " names a library that does not load: " + why;
    return lib;
  }
  std::string first_error;
  const auto try_path = [&](const std::string& folder) {
    const std::string file = folder + "/" + soname;
    if (lib.handle || folder.empty() || access(file.c_str(), F_OK) != 0) return;
    const std::string why = try_open(file);
    if (first_error.empty()) first_error = why;
  };
  try_path(program_folder());
  if (!lib.handle) {
    const std::string why = try_open(soname);  // the system's search
    const bool not_found = why.find("cannot open shared object file") != std::string::npos;
    if (!lib.handle && !not_found && first_error.empty()) first_error = why;
  }
  try_path("/usr/local/cuda/lib64");
  try_path("/usr/local/cuda/lib");
  if (!lib.handle)
    lib.info.problem = first_error.empty()
                           ? soname + " was not found (looked beside uniem, in the system's library path and in "
                                      "/usr/local/cuda)"
                           : first_error;
  return lib;
}

// A function of a library that loaded and has not been refused (a refused one is never called).
void* symbol(const Loaded& lib, const char* name) {
  return lib.handle && lib.info.usable() ? dlsym(lib.handle, name) : nullptr;
}

const Loaded& loaded_cudnn() {
  static const Loaded lib = [] {
    Loaded l = open_library("cuDNN", "libcudnn.so." + std::to_string(CUDNN_MAJOR), "UNIEM_CUDNN");
    if (!l.handle) return l;
    const auto get_version = reinterpret_cast<decltype(&cudnnGetVersion)>(symbol(l, "cudnnGetVersion"));
    if (!get_version) {
      l.info.problem = l.info.file + " is not cuDNN (it has no cudnnGetVersion)";
      return l;
    }
    l.info.version = get_version();
    if (l.info.version / 10000 != CUDNN_MAJOR)
      l.info.problem = l.info.file + " is cuDNN " + l.info.version_text() + "; this uniem needs cuDNN " +
                       std::to_string(CUDNN_MAJOR) + ".x";
    return l;
  }();
  return lib;
}

const Loaded& loaded_cublas() {
  static const Loaded lib = [] {
    Loaded l = open_library("cuBLAS", "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR), "UNIEM_CUBLAS");
    if (!l.handle) return l;
    const auto get_property = reinterpret_cast<decltype(&cublasGetProperty)>(symbol(l, "cublasGetProperty"));
    if (!get_property) {
      l.info.problem = l.info.file + " is not cuBLAS (it has no cublasGetProperty)";
      return l;
    }
    int major = 0, minor = 0, patch = 0;
    get_property(MAJOR_VERSION, &major);
    get_property(MINOR_VERSION, &minor);
    get_property(PATCH_LEVEL, &patch);
    l.info.version = static_cast<size_t>(major) * 10000 + static_cast<size_t>(minor) * 100 + static_cast<size_t>(patch);
    if (major != CUBLAS_VER_MAJOR)
      l.info.problem = l.info.file + " is cuBLAS " + l.info.version_text() + "; this uniem needs cuBLAS " +
                       std::to_string(CUBLAS_VER_MAJOR) + ".x";
    return l;
  }();
  return lib;
}

}  // namespace

std::string LibraryInfo::version_text() const {
  return std::to_string(version / 10000) + "." + std::to_string(version / 100 % 100) + "." + std::to_string(version % 100);
}

const LibraryInfo& cudnn_library() { return loaded_cudnn().info; }
const LibraryInfo& cublas_library() { return loaded_cublas().info; }

void require_libraries() {
  std::string missing;
  for (const LibraryInfo* lib : {&cudnn_library(), &cublas_library()})
    if (!lib->usable()) missing += "; " + lib->name + ": " + lib->problem;
  if (missing.empty()) return;
  throw CudaError("the CUDA backend needs NVIDIA's cuDNN " + std::to_string(CUDNN_MAJOR) + " and cuBLAS " +
                  std::to_string(CUBLAS_VER_MAJOR) + missing +
                  ". Install them (NVIDIA's cudnn9-cuda-13 and libcublas-13-0 packages), copy the files beside "
                  "uniem, or name them in UNIEM_CUDNN and UNIEM_CUBLAS; or compute with --device cpu");
}

}  // namespace uniem::cuda

// ---------------------------------------------------------------- the forwarders
// Each defines the library's function (declared by its header, so a wrong signature does not
// compile) as a call into the loaded library, found once; `fail` is returned while it is not loaded.
#define UNIEM_FORWARD(library, ret, name, params, args, fail)                                                \
  extern "C" ret name params {                                                                               \
    static const auto fn = reinterpret_cast<decltype(&name)>(uniem::cuda::symbol(uniem::cuda::library(), #name)); \
    return fn ? fn args : fail;                                                                              \
  }
#define UNIEM_CUDNN_FORWARD(name, params, args) \
  UNIEM_FORWARD(loaded_cudnn, cudnnStatus_t, name, params, args, CUDNN_STATUS_NOT_INITIALIZED)
#define UNIEM_CUBLAS_FORWARD(name, params, args) \
  UNIEM_FORWARD(loaded_cublas, cublasStatus_t, name, params, args, CUBLAS_STATUS_NOT_INITIALIZED)

UNIEM_FORWARD(loaded_cudnn, size_t, cudnnGetVersion, (void), (), 0)
UNIEM_FORWARD(loaded_cudnn, const char*, cudnnGetErrorString, (cudnnStatus_t s), (s), "cuDNN is not loaded")
UNIEM_CUDNN_FORWARD(cudnnCreate, (cudnnHandle_t* h), (h))
UNIEM_CUDNN_FORWARD(cudnnDestroy, (cudnnHandle_t h), (h))
UNIEM_CUDNN_FORWARD(cudnnSetStream, (cudnnHandle_t h, cudaStream_t s), (h, s))
UNIEM_CUDNN_FORWARD(cudnnCreateTensorDescriptor, (cudnnTensorDescriptor_t* d), (d))
UNIEM_CUDNN_FORWARD(cudnnDestroyTensorDescriptor, (cudnnTensorDescriptor_t d), (d))
UNIEM_CUDNN_FORWARD(cudnnSetTensorNdDescriptor,
                    (cudnnTensorDescriptor_t d, cudnnDataType_t type, int dims, const int size[], const int stride[]),
                    (d, type, dims, size, stride))
UNIEM_CUDNN_FORWARD(cudnnCreateFilterDescriptor, (cudnnFilterDescriptor_t* d), (d))
UNIEM_CUDNN_FORWARD(cudnnDestroyFilterDescriptor, (cudnnFilterDescriptor_t d), (d))
UNIEM_CUDNN_FORWARD(cudnnSetFilterNdDescriptor,
                    (cudnnFilterDescriptor_t d, cudnnDataType_t type, cudnnTensorFormat_t format, int dims,
                     const int size[]),
                    (d, type, format, dims, size))
UNIEM_CUDNN_FORWARD(cudnnCreateConvolutionDescriptor, (cudnnConvolutionDescriptor_t* d), (d))
UNIEM_CUDNN_FORWARD(cudnnDestroyConvolutionDescriptor, (cudnnConvolutionDescriptor_t d), (d))
UNIEM_CUDNN_FORWARD(cudnnSetConvolutionNdDescriptor,
                    (cudnnConvolutionDescriptor_t d, int length, const int pad[], const int stride[],
                     const int dilation[], cudnnConvolutionMode_t mode, cudnnDataType_t compute),
                    (d, length, pad, stride, dilation, mode, compute))
UNIEM_CUDNN_FORWARD(cudnnSetConvolutionMathType, (cudnnConvolutionDescriptor_t d, cudnnMathType_t math), (d, math))
UNIEM_CUDNN_FORWARD(cudnnFindConvolutionForwardAlgorithm,
                    (cudnnHandle_t h, const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
                     const cudnnConvolutionDescriptor_t c, const cudnnTensorDescriptor_t y, const int requested,
                     int* returned, cudnnConvolutionFwdAlgoPerf_t* perf),
                    (h, x, w, c, y, requested, returned, perf))
UNIEM_CUDNN_FORWARD(cudnnFindConvolutionBackwardDataAlgorithm,
                    (cudnnHandle_t h, const cudnnFilterDescriptor_t w, const cudnnTensorDescriptor_t dy,
                     const cudnnConvolutionDescriptor_t c, const cudnnTensorDescriptor_t dx, const int requested,
                     int* returned, cudnnConvolutionBwdDataAlgoPerf_t* perf),
                    (h, w, dy, c, dx, requested, returned, perf))
UNIEM_CUDNN_FORWARD(cudnnFindConvolutionBackwardFilterAlgorithm,
                    (cudnnHandle_t h, const cudnnTensorDescriptor_t x, const cudnnTensorDescriptor_t dy,
                     const cudnnConvolutionDescriptor_t c, const cudnnFilterDescriptor_t dw, const int requested,
                     int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* perf),
                    (h, x, dy, c, dw, requested, returned, perf))
UNIEM_CUDNN_FORWARD(cudnnConvolutionForward,
                    (cudnnHandle_t h, const void* alpha, const cudnnTensorDescriptor_t xd, const void* x,
                     const cudnnFilterDescriptor_t wd, const void* w, const cudnnConvolutionDescriptor_t c,
                     cudnnConvolutionFwdAlgo_t algo, void* work, size_t work_bytes, const void* beta,
                     const cudnnTensorDescriptor_t yd, void* y),
                    (h, alpha, xd, x, wd, w, c, algo, work, work_bytes, beta, yd, y))
UNIEM_CUDNN_FORWARD(cudnnConvolutionBackwardData,
                    (cudnnHandle_t h, const void* alpha, const cudnnFilterDescriptor_t wd, const void* w,
                     const cudnnTensorDescriptor_t dyd, const void* dy, const cudnnConvolutionDescriptor_t c,
                     cudnnConvolutionBwdDataAlgo_t algo, void* work, size_t work_bytes, const void* beta,
                     const cudnnTensorDescriptor_t dxd, void* dx),
                    (h, alpha, wd, w, dyd, dy, c, algo, work, work_bytes, beta, dxd, dx))
UNIEM_CUDNN_FORWARD(cudnnConvolutionBackwardFilter,
                    (cudnnHandle_t h, const void* alpha, const cudnnTensorDescriptor_t xd, const void* x,
                     const cudnnTensorDescriptor_t dyd, const void* dy, const cudnnConvolutionDescriptor_t c,
                     cudnnConvolutionBwdFilterAlgo_t algo, void* work, size_t work_bytes, const void* beta,
                     const cudnnFilterDescriptor_t dwd, void* dw),
                    (h, alpha, xd, x, dyd, dy, c, algo, work, work_bytes, beta, dwd, dw))
UNIEM_CUDNN_FORWARD(cudnnAddTensor,
                    (cudnnHandle_t h, const void* alpha, const cudnnTensorDescriptor_t ad, const void* a,
                     const void* beta, const cudnnTensorDescriptor_t cd, void* c),
                    (h, alpha, ad, a, beta, cd, c))
// The graph (backend) API, for conv_graph.cpp.
UNIEM_CUDNN_FORWARD(cudnnBackendCreateDescriptor, (cudnnBackendDescriptorType_t type, cudnnBackendDescriptor_t* d),
                    (type, d))
UNIEM_CUDNN_FORWARD(cudnnBackendDestroyDescriptor, (cudnnBackendDescriptor_t d), (d))
UNIEM_CUDNN_FORWARD(cudnnBackendFinalize, (cudnnBackendDescriptor_t d), (d))
UNIEM_CUDNN_FORWARD(cudnnBackendSetAttribute,
                    (cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type,
                     int64_t count, const void* values),
                    (d, name, type, count, values))
UNIEM_CUDNN_FORWARD(cudnnBackendGetAttribute,
                    (cudnnBackendDescriptor_t const d, cudnnBackendAttributeName_t name,
                     cudnnBackendAttributeType_t type, int64_t requested, int64_t* count, void* values),
                    (d, name, type, requested, count, values))
UNIEM_CUDNN_FORWARD(cudnnBackendExecute, (cudnnHandle_t h, cudnnBackendDescriptor_t plan, cudnnBackendDescriptor_t pack),
                    (h, plan, pack))

UNIEM_FORWARD(loaded_cublas, const char*, cublasGetStatusString, (cublasStatus_t s), (s), "cuBLAS is not loaded")
UNIEM_CUBLAS_FORWARD(cublasGetProperty, (libraryPropertyType type, int* value), (type, value))
UNIEM_CUBLAS_FORWARD(cublasCreate_v2, (cublasHandle_t* h), (h))
UNIEM_CUBLAS_FORWARD(cublasDestroy_v2, (cublasHandle_t h), (h))
