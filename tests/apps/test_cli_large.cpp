// uniem watershed on a volume larger than --memory: flooded in overlapping slabs with the regions
// of a run in memory; what needs the whole volume is refused with the reason, and nothing is written.
#include <doctest/doctest.h>

#include <filesystem>

#include "core/image/metrics.h"
#include "io/stack.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::test;
namespace fs = std::filesystem;

TEST_CASE("uniem watershed works in overlapping slabs beyond --memory, and refuses what needs the whole volume") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 96,192,192 --seed 9 --quiet").exit_code == 0);
  REQUIRE(run_uniem("filter " + quote(dir / "s" / "image") + " " + quote(dir / "b.tif") + " --gaussian 1.5 --invert --quiet").exit_code == 0);
  REQUIRE(run_uniem("watershed " + quote(dir / "b.tif") + " " + quote(dir / "one.tif") + " --seeds-below otsu --quiet").exit_code == 0);
  const auto r = run_uniem("watershed " + quote(dir / "b.tif") + " " + quote(dir / "slabs.tif") + " --seeds-below otsu --memory 64 --quiet");
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("slabs of") != std::string::npos);
  CHECK(r.output.find("each flooded with 8 more sections on each side") != std::string::npos);
  const Volume one = read_volume(dir / "one.tif"), slabs = read_volume(dir / "slabs.tif");
  CHECK(instance_scores(contingency_table(slabs, one, false)).v_rand >= 0.999);

  for (const std::string args : {"--split --memory 64", "--seeds-below otsu --merge-smaller 50 --memory 64"}) {
    CAPTURE(args);
    const auto refused = run_uniem("watershed " + quote(dir / "b.tif") + " " + quote(dir / "no.tif") + " " + args);
    CHECK(refused.exit_code == 1);
    CHECK(refused.output.find("b.tif: too large to hold in memory") != std::string::npos);
    CHECK(refused.output.find("the whole volume; give more --memory") != std::string::npos);
    CHECK(!fs::exists(dir / "no.tif"));
  }
}
