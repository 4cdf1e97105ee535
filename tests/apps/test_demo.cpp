// uniem demo, the default job of `make run`: the workspace it makes, its steps as jobs of that
// workspace's queue with their logs and records, and running it again in the same folder.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::test;  // TempDir, run_uniem, quote, ...
namespace fs = std::filesystem;

TEST_CASE("demo makes its files, reports them, and can run again") {
  TempDir dir;
  for (int run = 0; run < 2; ++run) {
    const auto r = run_uniem("demo --no-serve --shape 8,64,64 --output " + quote(dir / "demo"));
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("neurons") != std::string::npos);
    CHECK(r.output.find("8 x 64 x 64 (z, y, x)") != std::string::npos);
  }
  for (const char* f : {"volume/png/image/0007.png", "volume/png/neurons/0000.png", "volume/tiff/image.tif", "volume/tiff/neurons.tif",
                        "volume/tiff/mitochondria.tif", "uniem-demo.json", "classic/meshes/measurements.csv",
                        "classic/meshes/label_1.ply", "cnn/model/model.json", "cnn/model/best.checkpoint", "cnn/unseen/image/0000.png",
                        "cnn/predicted/mask/0000.png", "proofreading/neurons/project.json", "proofreading/neurons/state.json"})
    CHECK(fs::exists(dir / "demo" / f));
  // Each step ran as a job of the workspace's queue, with its log and its run record.
  for (const char* job : {"volume", "classic", "cnn", "proofreading"}) {
    CHECK(fs::exists(dir / "demo" / job / "log.txt"));
    CHECK(nlohmann::json::parse(std::ifstream(dir / "demo" / job / "run.json"))["exit_status"] == 0);
  }
  // The proofreading project holds the demo's segmentation, and `uniem export` gives it back.
  const auto e = run_uniem("export " + quote(dir / "demo" / "proofreading" / "neurons") + " " + quote(dir / "exported.tif"));
  CHECK_MESSAGE(e.exit_code == 0, e.output);
  CHECK(test::same_voxels(read_volume(dir / "exported.tif"), read_volume(dir / "demo" / "classic" / "segmentation.tif")));
  const auto record = nlohmann::json::parse(std::ifstream(dir / "demo" / "uniem-demo.json"));
  CHECK(record["complete"] == true);
  CHECK(record["cnn"]["steps"].get<int64_t>() == 150);
  const double jaccard = record["cnn"]["unseen_jaccard"].get<double>();
  CHECK((jaccard >= 0 && jaccard <= 1));
  CHECK(record["segmentation"]["segments"].get<int64_t>() > 0);
  CHECK(record["meshes"]["objects"].get<int64_t>() == record["segmentation"]["segments"].get<int64_t>());
  CHECK(test::same_voxels(read_volume(dir / "demo" / "volume" / "png" / "image"), read_volume(dir / "demo" / "volume" / "tiff" / "image.tif")));
}
