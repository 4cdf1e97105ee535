// Every stack in ../shared/data loads with the shape, type and values that Pillow/tifffile give
// (tests/data/fixtures.json, made by tests/data/make_fixtures.py). Skipped (exit code 77) when
// the shared data folder is absent, as on a user's fresh clone.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "tests/data/data_test_main.h"
#include <nlohmann/json.hpp>

#include "core/image/label.h"
#include "core/image/mesh_decimate.h"
#include "core/image/mesh_smooth.h"
#include "core/image/mesh_surfaces.h"
#include "core/threads.h"
#include "io/stack.h"

using namespace uniem;
namespace fs = std::filesystem;

namespace {
const fs::path& data = test::shared_data;
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

TEST_CASE("meshes of every SNEMI3D neuron: closed, outward, enclosing the voxels' volume") {
  Volume snemi = read_volume(data / "snemi3d-crop" / "label");
  snemi.voxel_size = {30, 6, 6, true};
  auto meshes = label_surfaces(snemi);
  CHECK(meshes.size() > 50);
  std::vector<char> closed(meshes.size());
  parallel_for(0, static_cast<int64_t>(meshes.size()), 1, [&](int64_t begin, int64_t end) {
    for (auto i = static_cast<size_t>(begin); i < static_cast<size_t>(end); ++i) {
      smooth(meshes[i].mesh);
      decimate(meshes[i].mesh, {0.5, 0});
      const MeshTopology t = topology(meshes[i].mesh);
      closed[i] = t.closed() && t.unused_vertices == 0;
    }
  });
  CHECK(std::count(closed.begin(), closed.end(), 0) == 0);
  double mesh_volume = 0;
  for (const auto& m : meshes) mesh_volume += measure(m.mesh).volume;
  int64_t labelled = 0;
  for (int64_t i = 0; i < snemi.elements(); ++i) labelled += snemi.value(i) != 0;
  // The surface through the edge midpoints gives up a quarter voxel along every face of the thin
  // neurites, so it encloses somewhat less than the voxels do.
  const double voxel_volume = static_cast<double>(labelled) * 30 * 6 * 6;
  CHECK(mesh_volume < voxel_volume);
  CHECK(mesh_volume > 0.7 * voxel_volume);
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

TEST_CASE("the fibsem-mini HDF5 files (gzip-less and LZF) hold what its PNG folders hold") {
  const fs::path hdf5 = data / "fibsem-mini" / "hdf5";
  const Volume image = read_volume(hdf5 / "train-image.h5");
  const Volume png = read_volume(data / "fibsem-mini" / "train" / "image");
  REQUIRE(image.shape() == png.shape());
  CHECK(std::equal(image.raw(), image.raw() + image.bytes(), png.raw()));
  // train-gt.lzf.h5:stack is int32 in LZF chunks (h5py's filter, decoded by uniem).
  const Volume gt = read_volume(fs::path(hdf5.string() + "/train-gt.lzf.h5:stack"));
  const Volume labels = read_volume(data / "fibsem-mini" / "train" / "label");
  REQUIRE(gt.shape() == labels.shape());
  CHECK(gt.dtype() == DType::u32);
  int64_t differ = 0;
  for (int64_t i = 0; i < gt.elements(); ++i) differ += gt.value(i) != labels.value(i);
  CHECK(differ == 0);
}
