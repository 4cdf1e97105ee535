#include <doctest/doctest.h>

#include <cstring>
#include <set>

#include "core/image/statistics.h"
#include "core/image/synth.h"
#include "core/threads.h"

using namespace uniem;

namespace {
SynthOptions small() {
  SynthOptions o;
  o.nz = 12;
  o.ny = 96;
  o.nx = 128;
  return o;
}
bool same(const Volume& a, const Volume& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.bytes()) == 0;
}
}  // namespace

TEST_CASE("synth is deterministic: same seed, same volume, whatever the thread count") {
  set_thread_count(1);
  const SynthVolume a = synthesize(small());
  set_thread_count(3);
  const SynthVolume b = synthesize(small());
  set_thread_count(0);
  CHECK(same(a.image, b.image));
  CHECK(same(a.neurons, b.neurons));
  CHECK(same(a.mitochondria, b.mitochondria));
  SynthOptions other = small();
  other.seed = 2;
  CHECK_FALSE(same(synthesize(other).image, a.image));
}

TEST_CASE("synth ground truth is consistent with its image") {
  const SynthVolume s = synthesize(small());
  CHECK(s.image.dtype() == DType::u8);
  CHECK(s.neurons.dtype() == DType::u16);
  CHECK(s.image.voxel_size.known);
  CHECK(s.image.voxel_size.z == 30);
  CHECK(s.neuron_count > 5);

  // Ids are consecutive 1..N, 0 exactly on membranes.
  std::set<uint16_t> ids;
  double membrane_grey = 0, cell_grey = 0;
  int64_t membrane_voxels = 0, mito_voxels = 0;
  for (int64_t i = 0; i < s.neurons.voxels(); ++i) {
    const uint16_t id = s.neurons.data<uint16_t>()[i];
    const bool membrane = s.membranes.data<uint8_t>()[i] == 255;
    REQUIRE((id == 0) == membrane);
    if (id) ids.insert(id);
    (membrane ? membrane_grey : cell_grey) += s.image.data<uint8_t>()[i];
    membrane_voxels += membrane;
    mito_voxels += s.mitochondria.data<uint8_t>()[i] == 255;
    if (s.mitochondria.data<uint8_t>()[i]) REQUIRE(id != 0);
  }
  CHECK(static_cast<int64_t>(ids.size()) == s.neuron_count);
  CHECK(*ids.rbegin() == s.neuron_count);
  const double membrane_fraction = static_cast<double>(membrane_voxels) / static_cast<double>(s.neurons.voxels());
  CHECK(membrane_fraction > 0.05);
  CHECK(membrane_fraction < 0.4);
  // Membranes are dark, cytoplasm light: what a membrane classifier has to learn.
  CHECK(membrane_grey / membrane_voxels < 0.6 * cell_grey / (s.neurons.voxels() - membrane_voxels));
  CHECK(mito_voxels > 0);
  CHECK(s.mitochondria_count > 0);
}

TEST_CASE("impossible synth options are refused") {
  SynthOptions o = small();
  o.nx = 2;
  CHECK_THROWS_AS(synthesize(o), UsageError);
  o = small();
  o.radius_min_nm = 500;
  o.radius_max_nm = 100;
  CHECK_THROWS_AS(synthesize(o), UsageError);
}

TEST_CASE("deep volumes, where neurites drift far, still give every voxel a neurite") {
  SynthOptions o;
  o.nz = 300;
  o.ny = 16;
  o.nx = 24;
  o.voxel_size = {200, 6, 6, true};  // 60 um deep: lateral drift far beyond the neighbour search
  const SynthVolume s = synthesize(o);
  CHECK(s.neuron_count >= 1);
  int64_t labelled = 0;
  for (int64_t i = 0; i < s.neurons.voxels(); ++i) labelled += s.neurons.data<uint16_t>()[i] != 0;
  CHECK(labelled > s.neurons.voxels() / 2);
}
