// Every stack in ../shared/data loads with the shape, type and values that Pillow/tifffile give
// (tests/data/fixtures.json, made by tests/data/make_fixtures.py). Skipped (exit code 77) when
// the shared data folder is absent, as on a user's fresh clone.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "core/image/label.h"
#include "io/stack.h"

using namespace uniem;
namespace fs = std::filesystem;

namespace {
const fs::path data = UNIEM_SHARED_DATA;
}

TEST_CASE("every shared dataset loads with the right shape, type and values") {
  std::ifstream in(fs::path(UNIEM_TEST_FIXTURES) / "data" / "fixtures.json");
  REQUIRE(in);
  const auto fixtures = nlohmann::json::parse(in);
  CHECK(fixtures.size() >= 20);
  for (auto item = fixtures.begin(); item != fixtures.end(); ++item) {
    if (item.key() == "components") continue;
    const std::string stack = item.key();  // not a structured binding: clang 14 cannot capture those
    const auto& expected = item.value();
    CAPTURE(stack);
    const Volume v = read_volume(data / stack);
    CHECK(nlohmann::json({v.nz(), v.ny(), v.nx()}) == expected["shape"]);
    CHECK(dtype_name(v.dtype()) == expected["dtype"].get<std::string>());
    uint64_t sum = 0, weighted = 0;
    for (int64_t z = 0; z < v.nz(); ++z) {
      uint64_t section = 0;
      for (int64_t i = 0; i < v.slice_elements(); ++i) section += static_cast<uint64_t>(v.value(z * v.slice_elements() + i));
      sum += section;
      weighted += static_cast<uint64_t>(z + 1) * section;
    }
    CHECK(sum == expected["sum"].get<uint64_t>());
    CHECK(weighted == expected["weighted_sum"].get<uint64_t>());
  }
}

TEST_CASE("connected components of real labels: the counts SciPy and scikit-image give") {
  std::ifstream in(fs::path(UNIEM_TEST_FIXTURES) / "data" / "fixtures.json");
  const auto expected = nlohmann::json::parse(in)["components"];
  const Volume isbi = read_volume(data / "isbi2012" / "train" / "label");
  for (int c : {4, 8, 6, 26}) {
    CAPTURE(c);
    CHECK(label_components(isbi, *connectivity_from(c), false).count ==
          expected["isbi2012/train/label " + std::to_string(c)].get<int64_t>());
  }
  const Volume snemi = read_volume(data / "snemi3d-crop" / "label");
  CHECK(label_components(snemi, Connectivity::c6, true).count == expected["snemi3d-crop/label 6 labels"].get<int64_t>());
}

TEST_CASE("the SNEMI3D labels are 16-bit ids and the VNC membranes are 1-bit masks") {
  const Volume labels = read_volume(data / "snemi3d-crop" / "label");
  CHECK(labels.dtype() == DType::u16);
  const Volume membranes = read_volume(data / "vnc-l3" / "stack1" / "membranes");
  for (int64_t i = 0; i < membranes.elements(); i += 97) {
    const double v = membranes.value(i);
    REQUIRE((v == 0 || v == 255));
  }
}

int main(int argc, char** argv) {
  if (!fs::is_directory(data)) {
    std::printf("skipped: no ../shared/data (looked in %s)\n", data.c_str());
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
