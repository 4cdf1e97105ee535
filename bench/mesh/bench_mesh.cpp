// bench/mesh: surfaces of all objects (core/image/mesh_surfaces.h) against scikit-image's
// marching cubes and VTK's flying edges, on the 256^3 volumes of ../shared/bench-peers, in one run
// (the peer script writes the inputs uniem reads).
//
//   bench_mesh [--reps N]          run the peer (about 1.5 minutes), then uniem, print the table
//   bench_mesh --data DIR          uniem only, on inputs a previous peer run left in DIR
//              [--case NAME]       only blobs, sphere, ellipsoids or voronoi
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "core/image/mesh_surfaces.h"
#include "core/progress.h"
#include "core/threads.h"
#include "io/stack.h"

namespace fs = std::filesystem;
using namespace uniem;
using uniem::bench::median_seconds;

int main(int argc, char** argv) {
  int reps = 5;
  std::string data, only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--reps") reps = std::stoi(argv[i + 1]);
    else if (a == "--data") data = argv[i + 1];
    else if (a == "--case") only = argv[i + 1];
  }
  set_progress_enabled(false);
  fs::path dir = data;
  nlohmann::json peer;
  if (data.empty()) {
    dir = fs::temp_directory_path() / ("uniem-bench-mesh-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::printf("bench/mesh: 256^3 volumes; running the scikit-image and VTK peers first (they also make the data)\n");
    std::fflush(stdout);
    peer = bench::run_peer("/usr/bin/python3 '" + std::string(UNIEM_BENCH_DIR) + "/mesh/peer_mesh.py' '" + dir.string() + "'");
    if (peer.is_null()) {
      fs::remove_all(dir);
      std::fprintf(stderr, "bench_mesh: the peer script failed (needs python3-skimage, python3-vtk9 and ../shared/bench-peers)\n");
      return 1;
    }
  }
  struct Case {
    std::string file, title;
    bool single;
  };
  const std::vector<Case> cases = {{"blobs", "single label, blob field 30% fg", true},
                                   {"sphere", "single label, sphere r=100", true},
                                   {"ellipsoids", "all labels, 100 ellipsoids", false},
                                   {"voronoi", "all labels, dense Voronoi 100 cells", false}};
  const int threads = thread_count();
  std::printf("\n| case | uniem triangles | uniem 1 thread Mtri/s | uniem %d threads Mtri/s | scikit-image Mtri/s | VTK 1 / 2 threads Mtri/s | "
              "vs scikit-image | vs VTK (2 threads each) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
              threads);
  for (const auto& c : cases) {
    if (!only.empty() && c.file != only) continue;
    const Volume v = read_volume(dir / (c.file + ".tif"));
    size_t triangles = 0;
    for (const auto& m : label_surfaces(v)) triangles += m.mesh.triangles.size();
    set_thread_count(1);
    const double one = median_seconds(reps, [&] { label_surfaces(v); });
    set_thread_count(threads);
    const double all = median_seconds(reps, [&] { label_surfaces(v); });
    const double t = static_cast<double>(triangles) / 1e6;
    if (peer.is_null()) {
      std::printf("| %s | %zu | %.1f (%.0f ms) | %.1f (%.0f ms) | | | | |\n", c.title.c_str(), triangles, t / one, one * 1e3, t / all,
                  all * 1e3);
      continue;
    }
    const auto rate = [&](const std::string& key) {
      return peer[c.file + "/" + key]["triangles"].get<double>() / 1e6 / peer[c.file + "/" + key]["seconds"].get<double>();
    };
    const double sk = peer[c.file + "/skimage"]["seconds"].get<double>(), vtk2 = peer[c.file + "/vtk2"]["seconds"].get<double>();
    std::printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f / %.1f | %.1fx | %.2fx |\n", c.title.c_str(), triangles, t / one, t / all,
                rate("skimage"), rate("vtk1"), rate("vtk2"), sk / all, vtk2 / all);
  }
  if (!peer.is_null()) {
    fs::remove_all(dir);
    std::printf("\nratios = peer time / uniem time on the same volume (scikit-image is single-threaded; for all labels it is a\n"
                "find_objects + per-label marching_cubes loop). Goals: single label >= 5x scikit-image and >= 1x VTK\n"
                "vtkFlyingEdges3D; all labels >= 5x the scikit-image loop and >= 2x VTK vtkDiscreteFlyingEdges3D.\n");
  }
  return 0;
}
