// bench/io: reading and writing a 100 x 1024 x 1024 uint8 EM-like stack as a PNG folder and as a
// multi-page TIFF, uniem against Pillow (PNG) and tifffile (TIFF), in one run on the same files.
//
// Prints MB/s (MiB of voxels per second) for uniem on one thread and on all threads, for the peer,
// and the speed ratio uniem / peer (above 1: uniem is faster). Goals (issue: foundation): TIFF at
// least as fast as tifffile, PNG within 1.5x of Pillow.
//   usage: bench_io [--shape Z,Y,X] [--reps N] [--dir DIR] [--areas png,tiff]
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/image/synth.h"
#include "core/progress.h"
#include "core/threads.h"
#include "bench/bench_support.h"
#include "io/stack.h"

namespace fs = std::filesystem;
using namespace uniem;
using uniem::bench::median_seconds;

namespace {

nlohmann::json run_peer(const fs::path& dir, int reps, const std::string& areas) {
  return bench::run_peer("/usr/bin/python3 '" + std::string(UNIEM_BENCH_DIR) + "/io/peer_io.py' '" + dir.string() + "' " +
                         std::to_string(reps) + " " + areas);
}

}  // namespace

int main(int argc, char** argv) {
  SynthOptions synth;
  synth.nz = 100;
  synth.ny = synth.nx = 1024;
  int reps = 3;
  std::string areas = "png,tiff,zarr";
  fs::path dir = fs::temp_directory_path() / ("uniem-bench-io-" + std::to_string(getpid()));
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--reps") reps = std::stoi(v);
    else if (a == "--areas") areas = v;
    else if (a == "--dir") dir = v;
    else if (a == "--shape") std::sscanf(v.c_str(), "%lld,%lld,%lld", reinterpret_cast<long long*>(&synth.nz),
                                          reinterpret_cast<long long*>(&synth.ny), reinterpret_cast<long long*>(&synth.nx));
  }
  set_progress_enabled(false);
  fs::create_directories(dir);
  std::printf("bench/io: %lld x %lld x %lld uint8 EM-like stack (uniem synth), median of %d runs after a warm-up\n",
              static_cast<long long>(synth.nz), static_cast<long long>(synth.ny), static_cast<long long>(synth.nx), reps);
  const Volume v = synthesize(synth).image;
  const double mib = static_cast<double>(v.bytes()) / (1024.0 * 1024.0);
  WriteOptions png, tiff, zarr;
  png.overwrite = tiff.overwrite = zarr.overwrite = true;
  tiff.format = StackFormat::multipage_tiff;
  zarr.format = StackFormat::ome_zarr;
  write_volume(dir / "png", v, png);
  write_volume(dir / "stack.tif", v, tiff);
  write_volume(dir / "stack.zarr", v, zarr);

  struct Row {
    const char* name;
    const char* peer_key;
    std::function<void()> fn;
    double one = 0, all = 0;
  };
  std::vector<Row> rows = {
      {"read PNG folder", "read_png", [&] { read_volume(dir / "png"); }},
      {"write PNG folder", "write_png", [&] { write_volume(dir / "out-png", v, png); }},
      {"read multi-page TIFF", "read_tiff", [&] { read_volume(dir / "stack.tif"); }},
      {"write multi-page TIFF", "write_tiff", [&] { write_volume(dir / "out.tif", v, tiff); }},
      // The same chunks (32 x 256 x 256, zlib level 1); uniem also writes the pyramid's coarser levels.
      {"read OME-Zarr (level 0)", "read_zarr", [&] { read_volume(dir / "stack.zarr"); }},
      {"write OME-Zarr (with its pyramid)", "write_zarr", [&] { write_volume(dir / "out.zarr", v, zarr); }},
  };
  const int threads = thread_count();
  std::erase_if(rows, [&](const Row& r) {
    return areas.find(std::string(r.peer_key).substr(std::string(r.peer_key).find('_') + 1)) == std::string::npos;
  });
  for (auto& r : rows) {
    set_thread_count(1);
    r.one = median_seconds(reps, r.fn);
    set_thread_count(threads);
    r.all = median_seconds(reps, r.fn);
  }
  const auto peer = run_peer(dir, reps, areas);
  fs::remove_all(dir);
  if (peer.is_null()) {
    std::fprintf(stderr, "bench_io: the peer script failed; install python3-pil python3-tifffile (make bench does)\n");
    return 1;
  }
  std::printf("peer: Pillow %s, tifffile %s, numpy %s%s (/usr/bin/python3, one thread)\n\n",
              peer["versions"]["Pillow"].get<std::string>().c_str(), peer["versions"]["tifffile"].get<std::string>().c_str(),
              peer["versions"]["numpy"].get<std::string>().c_str(),
              peer["versions"].contains("zarr") ? (", zarr " + peer["versions"]["zarr"].get<std::string>()).c_str() : "");
  std::printf("| operation | uniem 1 thread MB/s | uniem %d threads MB/s | peer MB/s | ratio 1 thread | ratio %d threads |\n",
              threads, threads);
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows) {
    if (!peer.contains(r.peer_key)) continue;
    const double p = peer[r.peer_key].get<double>();
    std::printf("| %s | %.0f | %.0f | %.0f | %.2f | %.2f |\n", r.name, mib / r.one, mib / r.all, mib / p, p / r.one, p / r.all);
  }
  std::printf("\nratio = peer time / uniem time (above 1: uniem faster). Goals: TIFF >= 1.0, PNG >= 0.67.\n");
  return 0;
}
