// bench/image: connected components, exact EDT and segmentation metrics, uniem against SciPy on
// the data of ../shared/bench-peers, in one run (the peer script writes the inputs uniem reads).
//
// Goals (classic image processing issue): 3D connected components (6 and 26) at least 4x faster
// than scipy.ndimage.label; exact 3D EDT at least 5x faster than distance_transform_edt; metrics
// on two label volumes at least 3x faster than the SciPy sparse contingency approach.
//   usage: bench_image [--cc N] [--edt N] [--metrics N] [--reps R]   (defaults 512 256 512 3)
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/image/distance.h"
#include "core/image/label.h"
#include "core/image/metrics.h"
#include "core/progress.h"
#include "core/threads.h"
#include "bench/bench_support.h"
#include "io/stack.h"

namespace fs = std::filesystem;
using namespace uniem;
using uniem::bench::median_seconds;

int main(int argc, char** argv) {
  int cc_n = 512, edt_n = 256, metrics_n = 512, reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::stoi(argv[i + 1]);
    if (a == "--cc") cc_n = v;
    else if (a == "--edt") edt_n = v;
    else if (a == "--metrics") metrics_n = v;
    else if (a == "--reps") reps = v;
  }
  set_progress_enabled(false);
  const fs::path dir = fs::temp_directory_path() / ("uniem-bench-image-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::printf("bench/image: CC on %d^3, EDT on %d^3, metrics on %d^3; running the SciPy peer first (it also makes the data)\n",
              cc_n, edt_n, metrics_n);
  std::fflush(stdout);
  const auto peer = bench::run_peer("/usr/bin/python3 '" + std::string(UNIEM_BENCH_DIR) + "/image/peer_image.py' '" + dir.string() +
                                    "' " + std::to_string(cc_n) + " " + std::to_string(edt_n) + " " + std::to_string(metrics_n));
  if (peer.is_null()) {
    fs::remove_all(dir);
    std::fprintf(stderr, "bench_image: the peer script failed (needs python3-scipy and ../shared/bench-peers)\n");
    return 1;
  }

  struct Row {
    std::string name, peer_key;
    double voxels;
    std::function<void()> fn;
    std::string check;
    double one = 0, all = 0;
  };
  std::vector<Row> rows;
  std::vector<Volume> keep;
  keep.reserve(8);  // the rows hold pointers into it
  for (int frac : {30, 10}) {
    keep.push_back(read_volume(dir / ("mask_" + std::to_string(frac) + ".tif")));
    const Volume* mask = &keep.back();
    for (int c : {6, 26}) {
      const std::string key = "cc" + std::to_string(c) + "_" + std::to_string(frac);
      const int64_t count = label_components(*mask, *connectivity_from(c), false).count;
      const int64_t expected = peer[key]["count"].get<int64_t>();
      rows.push_back({"CC3D " + std::to_string(c) + "-conn, " + std::to_string(frac) + "% fg", key,
                      static_cast<double>(mask->voxels()),
                      [mask, c] { label_components(*mask, *connectivity_from(c), false); },
                      count == expected ? "same count" : "COUNT DIFFERS: " + std::to_string(count) + " vs " + std::to_string(expected)});
    }
  }
  keep.push_back(read_volume(dir / "edt_mask.tif"));
  const Volume* edt_mask = &keep.back();
  {
    const Volume d = distance_transform(*edt_mask, {1, 1, 1, true});
    double sum = 0;
    for (int64_t i = 0; i < d.elements(); ++i) sum += d.data<float>()[i];
    const double expected = peer["edt"]["checksum"].get<double>();
    char note[96];
    std::snprintf(note, sizeof note, "sum of distances differs by %.1e (relative)", std::abs(sum - expected) / expected);
    rows.push_back({"EDT 3D exact", "edt", static_cast<double>(edt_mask->voxels()),
                    [edt_mask] { distance_transform(*edt_mask, {1, 1, 1, true}); }, note});
  }
  keep.push_back(read_volume(dir / "gt.tif"));
  keep.push_back(read_volume(dir / "seg.tif"));
  const Volume* gt = &keep[keep.size() - 2];
  const Volume* seg = &keep.back();
  {
    const auto s = instance_scores(contingency_table(*seg, *gt, true));
    char note[128];
    std::snprintf(note, sizeof note, "V_rand %.6f (peer %.6f), VI %.6f bits (peer %.6f)", s.v_rand,
                  peer["metrics"]["v_rand"].get<double>(), s.vi, peer["metrics"]["vi_bits"].get<double>());
    rows.push_back({"metrics (V_rand, V_info, VI)", "metrics", static_cast<double>(gt->voxels()),
                    [gt, seg] { instance_scores(contingency_table(*seg, *gt, true)); }, note});
  }
  const int threads = thread_count();
  for (auto& r : rows) {
    set_thread_count(1);
    r.one = median_seconds(reps, r.fn);
    set_thread_count(threads);
    r.all = median_seconds(reps, r.fn);
  }
  fs::remove_all(dir);

  std::printf("\n| operation | uniem 1 thread Mvox/s | uniem %d threads Mvox/s | SciPy Mvox/s | ratio 1 thread | ratio %d threads | check |\n",
              threads, threads);
  std::printf("|---|---:|---:|---:|---:|---:|---|\n");
  for (const auto& r : rows) {
    const double p = peer[r.peer_key]["seconds"].get<double>();
    std::printf("| %s | %.0f | %.0f | %.1f | %.1f | %.1f | %s |\n", r.name.c_str(), r.voxels / r.one / 1e6, r.voxels / r.all / 1e6,
                r.voxels / p / 1e6, p / r.one, p / r.all, r.check.c_str());
  }
  std::printf("\nratio = SciPy time / uniem time. Goals: CC >= 4, EDT >= 5, metrics >= 3.\n");
  return 0;
}
