// Training data: label mapping, validation split, crops and augmentation.
#include <doctest/doctest.h>

#include <numeric>
#include <set>

#include "io/stack.h"
#include "nn/augment.h"
#include "nn/dataset.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::nn;
using uniem::test::TempDir;

namespace {
// A stack of n sections of h x w with the given label values repeating.
void write_pair(const TempDir& dir, int64_t n, int64_t h, int64_t w, const std::vector<int>& values, DType label_type = DType::u8) {
  Volume image(DType::u8, n, h, w), label(label_type, n, h, w);
  for (int64_t i = 0; i < image.elements(); ++i) {
    image.data<uint8_t>()[i] = static_cast<uint8_t>(i % 251);
    const int v = values[static_cast<size_t>(i % static_cast<int64_t>(values.size()))];
    if (label_type == DType::u8) label.data<uint8_t>()[i] = static_cast<uint8_t>(v);
    else label.data<uint16_t>()[i] = static_cast<uint16_t>(v);
  }
  write_volume(dir / "image", image, {});
  write_volume(dir / "label", label, {});
}
}  // namespace

TEST_CASE("label mapping: two values are background and foreground; more need a threshold or classes") {
  TempDir dir;
  write_pair(dir, 2, 8, 8, {0, 255, 255});
  auto s = load_sections(dir / "image", dir / "label", 1, {});
  REQUIRE(s.size() == 2);
  CHECK(s[0].target[0] == 0);
  CHECK(s[0].target[1] == 1);
  CHECK(s[0].image[1] == doctest::Approx(1.0 / 255));

  TempDir grey;
  write_pair(grey, 1, 8, 8, {0, 37, 128, 200});
  CHECK_THROWS_WITH_AS(load_sections(grey / "image", grey / "label", 1, {}),
                       doctest::Contains("4 different values (0, 37, 128, 200)"), InputError);
  TargetMapping m;
  m.threshold = 128;
  s = load_sections(grey / "image", grey / "label", 1, m);
  CHECK(std::vector<uint8_t>(s[0].target.begin(), s[0].target.begin() + 4) == std::vector<uint8_t>{0, 0, 1, 1});
  m = {};
  m.kind = "classes";
  m.classes = 3;
  CHECK_THROWS_WITH_AS(load_sections(grey / "image", grey / "label", 1, m), doctest::Contains("not a class 0..2"), InputError);
  TempDir classes;
  write_pair(classes, 1, 8, 8, {0, 1, 2, 9}, DType::u16);
  m.ignore_value = 9;
  s = load_sections(classes / "image", classes / "label", 1, m);
  CHECK(std::vector<uint8_t>(s[0].target.begin(), s[0].target.begin() + 4) == std::vector<uint8_t>{0, 1, 2, ignored});
  // A colour network reads grey images as three equal channels.
  s = load_sections(classes / "image", classes / "label", 3, m);
  CHECK(s[0].channels == 3);
  CHECK(s[0].image[5] == s[0].image[5 + 64]);
}

TEST_CASE("images and labels must match in count and size") {
  TempDir a, b;
  write_pair(a, 3, 8, 8, {0, 1});
  write_pair(b, 2, 8, 8, {0, 1});
  CHECK_THROWS_WITH_AS(load_sections(a / "image", b / "label", 1, {}), doctest::Contains("2 label sections for 3 image sections"),
                       InputError);
  TempDir c;
  write_pair(c, 3, 8, 10, {0, 1});
  CHECK_THROWS_WITH_AS(load_sections(a / "image", c / "label", 1, {}), doctest::Contains("labels are 10 x 8 pixels"), InputError);
}

TEST_CASE("validation split: sections, rows, sides, auto, none") {
  std::vector<Section> sections(10);
  for (auto& s : sections) {
    s.height = 10;
    s.width = 4;
    s.image.assign(40, 0.5f);
    s.target.assign(40, 1);
  }
  Split split = split_validation(sections, "auto");
  CHECK(split.train.size() == 9);
  CHECK(split.validation.size() == 1);
  split = split_validation(sections, "3");
  CHECK(split.validation.size() == 3);
  split = split_validation(sections, "30%");
  CHECK(split.train.size() == 10);
  CHECK(split.train[0].height == 7);
  CHECK(split.validation[0].height == 3);
  CHECK(split.validation[0].image.size() == 12);
  // A side: the left quarter of each section's columns; pixel values follow the column.
  for (auto& s : sections)
    for (int64_t i = 0; i < 40; ++i) {
      s.image[static_cast<size_t>(i)] = static_cast<float>(i % 4);
      s.target[static_cast<size_t>(i)] = static_cast<uint8_t>(i / 4);
    }
  split = split_validation(sections, "25%:left");
  CHECK(split.train[0].width == 3);
  CHECK(split.train[0].height == 10);
  CHECK(split.validation[0].width == 1);
  CHECK(split.validation[0].image == std::vector<float>(10, 0.0f));
  CHECK(split.train[0].image[4] == 2.0f);   // row 1, column 1 of the kept part = column 2
  CHECK(split.train[0].target[4] == 1);     // row 1
  CHECK(split.validation[0].target[9] == 9);
  CHECK(split.validation[0].name == " (left 1 columns)");
  split = split_validation(sections, "20%:top");
  CHECK(split.validation[0].height == 2);
  CHECK(split.train[0].target[0] == 2);     // the kept rows start at row 2
  split = split_validation(sections, "50%:right");
  CHECK(split.validation[0].image[0] == 2.0f);
  CHECK_THROWS_AS(split_validation(sections, "20%:middle"), UsageError);
  CHECK(split_validation(sections, "none").validation.empty());
  CHECK_THROWS_AS(split_validation(sections, "10"), UsageError);
  CHECK_THROWS_AS(split_validation(sections, "many"), UsageError);
  split = split_validation(std::vector<Section>(sections.begin(), sections.begin() + 2), "auto");
  CHECK(split.train.size() == 2);
  CHECK(split.validation[0].height == 2);
}

TEST_CASE("augmentation moves image and target together and is reproducible") {
  const int64_t size = 48, plane = size * size;
  std::vector<float> image(plane);
  std::vector<uint8_t> target(plane);
  for (int64_t i = 0; i < plane; ++i) {
    const int64_t y = i / size, x = i % size;
    target[static_cast<size_t>(i)] = (x > 10 && x < 30 && y > 5 && y < 20) ? 1 : 0;  // an off-centre block
    image[static_cast<size_t>(i)] = target[static_cast<size_t>(i)];
  }
  AugmentOptions o;
  o.contrast = o.brightness = 0;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    auto im = image;
    auto t = target;
    Random r(seed);
    augment(im.data(), 1, t.data(), 1, size, o, r);
    int64_t agree = 0, fg = 0;
    for (int64_t i = 0; i < plane; ++i) {
      agree += (im[static_cast<size_t>(i)] >= 0.5f) == (t[static_cast<size_t>(i)] == 1);
      fg += t[static_cast<size_t>(i)];
    }
    CHECK(agree >= plane * 97 / 100);                     // bilinear image vs nearest target: edges only
    CHECK(std::abs(fg - 19 * 14) < 19 * 14 / 5);          // the block keeps its area within 20%
    auto im2 = image;
    auto t2 = target;
    Random again(seed);
    augment(im2.data(), 1, t2.data(), 1, size, o, again);
    CHECK(im2 == im);
    CHECK(t2 == t);
  }
  // Pure symmetries keep the values exactly; all 8 appear.
  o.elastic = 0;
  std::set<std::vector<uint8_t>> seen;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    auto t = target;
    auto im = image;
    Random r(seed);
    augment(im.data(), 1, t.data(), 1, size, o, r);
    CHECK(std::accumulate(t.begin(), t.end(), 0) == 19 * 14);
    seen.insert(t);
  }
  CHECK(seen.size() == 8);
  // A missing section is black with a background target; ignored pixels stay ignored.
  o.missing = 1;
  auto t = target;
  t[0] = ignored;
  auto im = image;
  Random r(1);
  augment(im.data(), 1, t.data(), 1, size, o, r);
  CHECK(*std::max_element(im.begin(), im.end()) == 0.0f);
  CHECK(std::count(t.begin(), t.end(), uint8_t{1}) == 0);
  CHECK(std::count(t.begin(), t.end(), ignored) == 1);
}
