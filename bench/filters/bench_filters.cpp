// bench/filters: 2D and 3D filters and the 3D watershed against OpenCV, SciPy and scikit-image on
// the data of ../shared/bench-peers, in one run (the peer script writes the inputs uniem reads).
//
// Goals (classic image processing issue): 2D Gaussian, median, Sobel, Canny within 2x of OpenCV
// (ratio >= 0.5), the 2D watershed within 2x of cv2.watershed; 3D Gaussian >= 3x SciPy; 3D median 3^3 and 5^3 >= 10x skimage.filters.rank.median;
// 3D seeded watershed >= 5x skimage.segmentation.watershed.
//   usage: bench_filters [--reps R]
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "core/image/canny.h"
#include "core/image/filters.h"
#include "core/image/watershed.h"
#include "core/progress.h"
#include "core/threads.h"
#include "io/stack.h"

namespace fs = std::filesystem;
using namespace uniem;

int main(int argc, char** argv) {
  int reps = 3;
  if (argc == 3 && std::string(argv[1]) == "--reps") reps = std::stoi(argv[2]);
  set_progress_enabled(false);
  const fs::path dir = fs::temp_directory_path() / ("uniem-bench-filters-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::printf("bench/filters: 2D on the 2048^2 EM-like image, 3D on 256^3; running the peers first (they make the data)\n");
  std::fflush(stdout);
  const auto peer = bench::run_peer("/usr/bin/python3 '" + std::string(UNIEM_BENCH_DIR) + "/filters/peer_filters.py' '" +
                                    dir.string() + "'");
  if (peer.is_null()) {
    fs::remove_all(dir);
    std::fprintf(stderr, "bench_filters: the peer script failed (needs python3-opencv, python3-scipy, python3-skimage)\n");
    return 1;
  }
  const Volume image = read_volume(dir / "em2048.tif"), volume = read_volume(dir / "vol256.tif");
  const Volume landscape2d = read_volume(dir / "ws2d_landscape.tif"), seeds2d = read_volume(dir / "ws2d_seeds.tif");
  const Volume mask = read_volume(dir / "ws_mask.tif"), markers = read_volume(dir / "ws_markers.tif"),
               landscape = read_volume(dir / "ws_landscape.tif");
  fs::remove_all(dir);
  Volume volume_f32(DType::f32, volume.nz(), volume.ny(), volume.nx());
  for (int64_t i = 0; i < volume.elements(); ++i) volume_f32.data<float>()[i] = volume.data<uint8_t>()[i];

  struct Row {
    std::string name, peer_name, key;
    double voxels;
    std::function<void()> fn;
    double one = 0, all = 0;
  };
  std::vector<Row> rows = {
      {"Gaussian 2D s=2 (uint8)", "cv2.GaussianBlur", "gaussian2d", double(image.voxels()), [&] { gaussian(image, {0, 2, 2}); }},
      {"median 2D 5x5 (uint8)", "cv2.medianBlur", "median2d", double(image.voxels()), [&] { median(image, {0, 2, 2}); }},
      {"Sobel 2D magnitude", "cv2.Sobel x2 + magnitude", "sobel2d", double(image.voxels()), [&] { sobel(image, false); }},
      {"Canny 2D (L1, 50/150)", "cv2.Canny", "canny2d", double(image.voxels()), [&] { canny(image, {50, 150, 0, true}); }},
      {"Canny 2D, Gaussian s=1 first", "cv2.GaussianBlur + cv2.Canny", "canny2d_blur", double(image.voxels()),
       [&] { canny(image, {50, 150, 1, true}); }},
      {"watershed 2D boundary map (dense, 4-conn)", "cv2.watershed", "watershed2d", double(landscape2d.voxels()),
       [&] { watershed(landscape2d, seeds2d, nullptr, {Connectivity::c4, false}); }},
      {"Gaussian 3D s=2 (float32)", "scipy gaussian_filter", "gaussian3d", double(volume.voxels()),
       [&] { gaussian(volume_f32, {2, 2, 2}); }},
      {"median 3D 3^3 (uint8)", "skimage rank.median", "median3d_3", double(volume.voxels()), [&] { median(volume, {1, 1, 1}); }},
      {"median 3D 5^3 (uint8)", "skimage rank.median", "median3d_5", double(volume.voxels()), [&] { median(volume, {2, 2, 2}); }},
      {"watershed 3D (EDT, mask, 6-conn)", "skimage watershed", "watershed3d", double(mask.voxels()),
       [&] { watershed(landscape, markers, &mask, {Connectivity::c6, false}); }},
  };
  const int threads = thread_count();
  for (auto& r : rows) {
    set_thread_count(1);
    r.one = bench::median_seconds(reps, r.fn);
    set_thread_count(threads);
    r.all = bench::median_seconds(reps, r.fn);
  }
  std::printf("\n| operation | peer | uniem 1 thread Mvox/s | uniem %d threads Mvox/s | peer Mvox/s | ratio 1 thread | ratio %d threads |\n",
              threads, threads);
  std::printf("|---|---|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows) {
    const double p = peer[r.key].get<double>();
    std::printf("| %s | %s | %.1f | %.1f | %.1f | %.2f | %.2f |\n", r.name.c_str(), r.peer_name.c_str(), r.voxels / r.one / 1e6,
                r.voxels / r.all / 1e6, r.voxels / p / 1e6, p / r.one, p / r.all);
  }
  std::printf("\nratio = peer time / uniem time. Goals: 2D >= 0.5 (within 2x of OpenCV), Gaussian 3D >= 3, median 3D >= 10,\n"
              "watershed 3D >= 5. The 2D watershed floods from %d seeds; skimage's 3D watershed found %d regions.\n",
              peer["watershed2d_seeds"].get<int>(), peer["watershed3d_labels"].get<int>());
  return 0;
}
