// Meshes: marching cubes over all labels, Taubin smoothing, quadric decimation, measurements and
// the mesh files, on shapes whose area, volume and topology are known.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "core/image/mesh.h"
#include "core/image/mesh_decimate.h"
#include "core/image/mesh_smooth.h"
#include "core/image/mesh_surfaces.h"
#include "core/random.h"
#include "core/threads.h"
#include "io/mesh_files.h"
#include "tests/test_support.h"

using namespace uniem;

namespace {

constexpr double kPi = 3.14159265358979323846;

// A ball of radius r (in nm) centred in the volume, voxel size (sz, s, s).
Volume ball(double r, double sz, double s = 1.0) {
  const auto nxy = static_cast<int64_t>(std::ceil(2 * r / s)) + 6, nz = static_cast<int64_t>(std::ceil(2 * r / sz)) + 6;
  Volume v(DType::u8, nz, nxy, nxy);
  v.voxel_size = {sz, s, s, true};
  for (int64_t z = 0; z < nz; ++z)
    for (int64_t y = 0; y < nxy; ++y)
      for (int64_t x = 0; x < nxy; ++x) {
        const double dz = (z - (nz - 1) / 2.0) * sz, dy = (y - (nxy - 1) / 2.0) * s, dx = (x - (nxy - 1) / 2.0) * s;
        v.at<uint8_t>(z, y, x) = dz * dz + dy * dy + dx * dx <= r * r;
      }
  return v;
}

// Random blobs of labels 0..labels: a coarse random grid upsampled, so objects touch each other
// and the border, with some single-voxel noise for hard cases.
Volume random_labels(int64_t n, int labels, uint64_t seed) {
  Volume v(DType::u16, n, n, n);
  for (int64_t z = 0; z < n; ++z)
    for (int64_t y = 0; y < n; ++y)
      for (int64_t x = 0; x < n; ++x) {
        const uint64_t cell = ((z / 4) * 64 + y / 4) * 64 + x / 4;
        uint64_t h = splitmix64(seed * 1000003 + cell);
        if (splitmix64(seed + 7 * (z * n * n + y * n + x)) % 9 == 0) h = splitmix64(h);
        v.at<uint16_t>(z, y, x) = static_cast<uint16_t>(h % static_cast<uint64_t>(labels + 1));
      }
  return v;
}

void check_closed_and_outward(const std::vector<LabelMesh>& meshes) {
  for (const auto& m : meshes) {
    CAPTURE(m.label);
    const MeshTopology t = topology(m.mesh);
    CHECK(t.boundary_edges == 0);
    CHECK(t.nonmanifold_edges == 0);
    CHECK(t.misoriented_edges == 0);
    CHECK(t.degenerate_triangles == 0);
    CHECK(t.unused_vertices == 0);
    CHECK(measure(m.mesh).volume > 0);
  }
}

}  // namespace

TEST_CASE("a voxelised ball: closed sphere, area and volume within 2% with and without smoothing") {
  const double r = 40;
  const double area = 4 * kPi * r * r, volume = 4.0 / 3.0 * kPi * r * r * r;
  for (double sz : {1.0, 2.0}) {
    CAPTURE(sz);
    const auto meshes = label_surfaces(ball(r, sz));
    REQUIRE(meshes.size() == 1);
    CHECK(meshes[0].label == 1);
    Mesh mesh = meshes[0].mesh;
    check_closed_and_outward(meshes);
    CHECK(topology(mesh).euler_characteristic() == 2);
    MeshMeasures raw = measure(mesh);
    CHECK(std::abs(raw.volume / volume - 1) < 0.02);
    CHECK(raw.area / area > 1.05);  // the voxel staircase
    for (int a = 0; a < 3; ++a) CHECK(std::abs(raw.centroid[a] - (raw.min[a] + raw.max[a]) / 2) < 0.05);

    smooth(mesh);
    const MeshMeasures smoothed = measure(mesh);
    CHECK(std::abs(smoothed.volume / volume - 1) < 0.02);
    CHECK(std::abs(smoothed.area / area - 1) < 0.02);
    CHECK(topology(mesh).closed());
    CHECK(topology(mesh).euler_characteristic() == 2);
  }
}

TEST_CASE("a torus has Euler characteristic 0, a ball with a cavity 4") {
  Volume torus(DType::u8, 24, 64, 64);
  Volume hollow(DType::u8, 30, 30, 30);
  for (int64_t z = 0; z < 24; ++z)
    for (int64_t y = 0; y < 64; ++y)
      for (int64_t x = 0; x < 64; ++x) {
        const double q = std::hypot(y - 31.5, x - 31.5) - 20;
        torus.at<uint8_t>(z, y, x) = q * q + (z - 11.5) * (z - 11.5) <= 64;
      }
  for (int64_t z = 0; z < 30; ++z)
    for (int64_t y = 0; y < 30; ++y)
      for (int64_t x = 0; x < 30; ++x) {
        const double d = std::sqrt((z - 14.5) * (z - 14.5) + (y - 14.5) * (y - 14.5) + (x - 14.5) * (x - 14.5));
        hollow.at<uint8_t>(z, y, x) = d <= 13 && d > 6;
      }
  auto t = label_surfaces(torus);
  REQUIRE(t.size() == 1);
  check_closed_and_outward(t);
  CHECK(topology(t[0].mesh).euler_characteristic() == 0);
  smooth(t[0].mesh);
  CHECK(topology(t[0].mesh).euler_characteristic() == 0);
  auto h = label_surfaces(hollow);
  REQUIRE(h.size() == 1);
  check_closed_and_outward(h);
  CHECK(topology(h[0].mesh).euler_characteristic() == 4);  // two spheres
}

TEST_CASE("every object of a random label volume is closed and outward, also after smoothing and decimation") {
  const Volume v = random_labels(40, 6, 3);
  auto meshes = label_surfaces(v);
  CHECK(meshes.size() == 6);
  check_closed_and_outward(meshes);
  for (auto& m : meshes) {
    smooth(m.mesh);
    const auto before = static_cast<int64_t>(m.mesh.triangles.size());
    const int64_t chi = topology(m.mesh).euler_characteristic();
    const int64_t left = decimate(m.mesh, {0.3, 0});
    CHECK(left < before * 0.6);
    CHECK(left == static_cast<int64_t>(m.mesh.triangles.size()));
    CHECK(topology(m.mesh).euler_characteristic() == chi);
  }
  check_closed_and_outward(meshes);
}

// The same labels as uint32, far apart (2^22 and up take the label index's hash map), so that the
// meshes are looked up by label, not by first appearance.
Volume spread_labels(const Volume& v) {
  Volume out(DType::u32, v.nz(), v.ny(), v.nx());
  for (int64_t i = 0; i < v.voxels(); ++i) {
    const uint16_t l = v.data<uint16_t>()[i];
    out.data<uint32_t>()[i] = l == 0 ? 0 : (l % 2 ? l : (uint32_t{1} << 22) + 977u * l);
  }
  return out;
}

TEST_CASE("the mesh does not depend on the thread count, and runs of layers join without seams") {
  // 39 and 4 padded layers: with 2 and 3 threads, 8 and 12 runs of a few layers, and runs of one
  // layer each, whose bottom plane comes from the run below walked again.
  SurfaceOptions some;
  some.labels = {1, 3, 4};
  for (const Volume& v : {random_labels(37, 4, 11), spread_labels(random_labels(37, 4, 12)), random_labels(2, 3, 5)})
    for (const SurfaceOptions& options : {SurfaceOptions{}, some}) {
      set_thread_count(1);
      const auto one = label_surfaces(v, options);
      check_closed_and_outward(one);
      for (int threads : {2, 3}) {
        CAPTURE(threads);
        set_thread_count(threads);
        const auto more = label_surfaces(v, options);
        REQUIRE(one.size() == more.size());
        for (size_t i = 0; i < one.size(); ++i) {
          CHECK(one[i].label == more[i].label);
          CHECK(one[i].mesh.vertices == more[i].mesh.vertices);
          CHECK(one[i].mesh.triangles == more[i].mesh.triangles);
        }
      }
      set_thread_count(0);
    }
}

TEST_CASE("two touching objects get two closed surfaces that meet but share no triangle") {
  Volume v(DType::u32, 6, 6, 8);
  for (int64_t z = 1; z < 5; ++z)
    for (int64_t y = 1; y < 5; ++y)
      for (int64_t x = 1; x < 7; ++x) v.at<uint32_t>(z, y, x) = x < 4 ? 7 : 9;
  const auto meshes = label_surfaces(v);
  REQUIRE(meshes.size() == 2);
  CHECK(meshes[0].label == 7);
  CHECK(meshes[1].label == 9);
  check_closed_and_outward(meshes);
  // Each is a 3 x 4 x 4 box of voxels: the surface through the edge midpoints encloses 48 voxels
  // minus the corner and edge bevels; both equal by symmetry.
  CHECK(measure(meshes[0].mesh).volume == doctest::Approx(measure(meshes[1].mesh).volume));
  // They meet on the plane x = 3.5.
  int on_plane = 0;
  for (const auto& p : meshes[0].mesh.vertices) on_plane += p[0] == 3.5f;
  CHECK(on_plane > 0);
}

TEST_CASE("label subsets, downsampling, physical coordinates and bad volumes") {
  const Volume v = random_labels(24, 5, 5);
  SurfaceOptions only;
  only.labels = {2, 4, 99};
  const auto some = label_surfaces(v, only);
  REQUIRE(some.size() == 2);
  CHECK(some[0].label == 2);
  CHECK(some[1].label == 4);
  check_closed_and_outward(some);

  Volume b = ball(12, 1);
  b.voxel_size = {30, 6, 6, true};
  const auto m = label_surfaces(b);
  const MeshMeasures mm = measure(m[0].mesh);
  CHECK(mm.max[0] - mm.min[0] == doctest::Approx(6.0 * 25).epsilon(0.05));   // x: ~25 voxels of 6 nm
  CHECK(mm.max[2] - mm.min[2] == doctest::Approx(30.0 * 25).epsilon(0.05));  // z: ~25 sections of 30 nm
  SurfaceOptions half;
  half.downsample = 2;
  const auto coarse = label_surfaces(b, half);
  REQUIRE(coarse.size() == 1);
  check_closed_and_outward(coarse);
  CHECK(measure(coarse[0].mesh).volume == doctest::Approx(mm.volume).epsilon(0.1));
  CHECK(coarse[0].mesh.triangles.size() < m[0].mesh.triangles.size() / 2);
  const Volume small = downsample_labels(b, 2);
  CHECK(small.nz() == (b.nz() + 1) / 2);
  CHECK(small.voxel_size.z == 60);

  CHECK(label_surfaces(Volume(DType::u8, 4, 4, 4)).empty());
  CHECK_THROWS_AS(label_surfaces(Volume(DType::f32, 4, 4, 4)), InputError);
  CHECK_THROWS_AS(label_surfaces(Volume(DType::u8, 4, 4, 4, 3)), InputError);
  CHECK_THROWS_AS(downsample_labels(b, 0), InputError);
}

TEST_CASE("decimation keeps a sphere a closed sphere of nearly the same volume") {
  auto meshes = label_surfaces(ball(20, 1));
  Mesh& mesh = meshes[0].mesh;
  smooth(mesh);
  const MeshMeasures before = measure(mesh);
  const int64_t left = decimate(mesh, {1.0, 1000});
  CHECK(left <= 1002);
  CHECK(left >= 900);
  CHECK(topology(mesh).closed());
  CHECK(topology(mesh).euler_characteristic() == 2);
  CHECK(topology(mesh).unused_vertices == 0);
  CHECK(measure(mesh).volume == doctest::Approx(before.volume).epsilon(0.02));
  CHECK(measure(mesh).area == doctest::Approx(before.area).epsilon(0.03));
  CHECK_THROWS_AS(decimate(mesh, {0.0, 0}), InputError);
  CHECK_THROWS_AS(decimate(mesh, {1.5, 0}), InputError);
}

TEST_CASE("mesh files: binary round trip, PLY, OBJ and STL layouts, Neuroglancer precomputed folder") {
  const auto meshes = label_surfaces(random_labels(12, 3, 2));
  REQUIRE(meshes.size() == 3);
  const Mesh& m = meshes[0].mesh;
  const std::string bin = encode_mesh_binary(m);
  CHECK(bin.size() == 4 + 12 * m.vertices.size() + 12 * m.triangles.size());
  const Mesh back = decode_mesh_binary(bin, "x.frag");
  CHECK(back.vertices == m.vertices);
  CHECK(back.triangles == m.triangles);
  CHECK_THROWS_AS(decode_mesh_binary(bin.substr(0, bin.size() - 5), "x.frag"), InputError);
  CHECK_THROWS_AS(decode_mesh_binary("ab", "x.frag"), InputError);

  const std::string ply = encode_mesh(m, MeshFormat::ply);
  const std::string header = "element vertex " + std::to_string(m.vertices.size());
  CHECK(ply.find(header) != std::string::npos);
  const size_t body = ply.find("end_header\n") + 11;
  CHECK(ply.size() - body == m.vertices.size() * 24 + m.triangles.size() * 13);
  const std::string all = encode_meshes(meshes, MeshFormat::ply);
  CHECK(all.find("property uint label") != std::string::npos);
  const std::string stl = encode_mesh(m, MeshFormat::stl);
  CHECK(stl.size() == 84 + 50 * m.triangles.size());
  const std::string obj = encode_meshes(meshes, MeshFormat::obj);
  CHECK(obj.find("g label_1\n") != std::string::npos);
  CHECK(obj.find("g label_3\n") != std::string::npos);

  test::TempDir dir;
  write_precomputed(dir.path(), meshes, {{"voxels", {1, 2, 3}}});
  std::ifstream info(dir / "info");
  std::string text((std::istreambuf_iterator<char>(info)), std::istreambuf_iterator<char>());
  CHECK(text.find("neuroglancer_legacy_mesh") != std::string::npos);
  std::ifstream manifest(dir / "2:0");
  std::string mtext((std::istreambuf_iterator<char>(manifest)), std::istreambuf_iterator<char>());
  CHECK(mtext == R"({"fragments":["2.frag"]})");
  std::ifstream frag(dir / "2.frag", std::ios::binary);
  std::string ftext((std::istreambuf_iterator<char>(frag)), std::istreambuf_iterator<char>());
  CHECK(ftext == encode_mesh_binary(meshes[1].mesh));
  CHECK(std::filesystem::exists(dir / "segment_properties" / "info"));
}
