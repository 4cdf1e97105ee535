// The real uniem binary on real files: exit codes, messages, and that refused or failed commands
// leave nothing behind.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/image/statistics.h"
#include "io/checkpoint.h"
#include "io/png.h"
#include "io/stack.h"
#include "tests/io/file_bombs.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::test;  // TempDir, run_uniem, quote, ...
namespace fs = std::filesystem;

namespace {
// Entries of a folder, to check that a failed command added nothing.
std::vector<std::string> listing(const fs::path& p) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(p)) names.push_back(e.path().string());
  std::sort(names.begin(), names.end());
  return names;
}
bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

// A command that must be refused: exit code 1, one line of output containing `expected`.
struct Refusal {
  std::string arguments, expected;
};
void check_refusals(const std::vector<Refusal>& cases) {
  for (const auto& c : cases) {
    CAPTURE(c.arguments);
    const auto r = run_uniem(c.arguments);
    CHECK(r.exit_code == 1);
    CHECK(one_line(r.output));
    CHECK(r.output.find(c.expected) != std::string::npos);
  }
}
}  // namespace

TEST_CASE("--version, --help and unknown commands") {
  auto r = run_uniem("--version");
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("uniem 0.") == 0);
  CHECK(r.output.find("commit") != std::string::npos);
  CHECK(r.output.find("CUDA:") != std::string::npos);
  r = run_uniem("--help");
  CHECK(r.exit_code == 0);
  for (const char* c : {"demo", "info", "convert", "synth"}) CHECK(r.output.find(c) != std::string::npos);
  for (const char* c : {"demo", "info", "convert", "synth", "devices"}) {
    r = run_uniem(std::string(c) + " --help");
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("Example") != std::string::npos);
  }
  CHECK(run_uniem("frobnicate").exit_code == 2);
  CHECK(run_uniem("info").exit_code == 2);
  CHECK(run_uniem("info a b").exit_code == 2);
  r = run_uniem("info x --no-such-option");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("unknown option --no-such-option") != std::string::npos);
  CHECK(run_uniem("synth /tmp/x --shape 1,2").exit_code == 2);
  CHECK(run_uniem("info x --threads 0").exit_code == 2);
}

TEST_CASE("synth, info and convert work together on a path with spaces and non-ASCII characters") {
  TempDir dir;
  const fs::path out = dir / "synth output – Ü";
  auto r = run_uniem("synth " + quote(out) + " --shape 6,64,80 --seed 3 --quiet");
  REQUIRE(r.exit_code == 0);
  for (const char* part : {"image", "neurons", "membranes", "mitochondria"}) CHECK(fs::exists(out / part / "0005.png"));

  r = run_uniem("info " + quote(out / "image") + " --json");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.output);
  CHECK(j["shape"] == nlohmann::json({6, 64, 80}));
  CHECK(j["dtype"] == "uint8");
  CHECK(j["voxel_size_nm"][2].get<double>() == doctest::Approx(6).epsilon(1e-3));

  // PNG folder -> multi-page TIFF with an explicit voxel size -> back, exactly.
  r = run_uniem("convert " + quote(out / "neurons") + " " + quote(dir / "n.tif") + " --voxel-size 30,6,6");
  REQUIRE(r.exit_code == 0);
  r = run_uniem("convert " + quote(dir / "n.tif") + " " + quote(dir / "n again"));
  REQUIRE(r.exit_code == 0);
  CHECK(test::same_voxels(read_volume(out / "neurons"), read_volume(dir / "n again")));
  const auto info = nlohmann::json::parse(run_uniem("info " + quote(dir / "n.tif") + " --json").output);
  CHECK(info["voxel_size_nm"] == nlohmann::json({30.0, 6.0, 6.0}));
  CHECK(info["kind"] == "multi-page TIFF (6 pages)");
}

TEST_CASE("depth reduction: refused without a policy, with --scale, --clip and --relabel") {
  TempDir dir;
  Volume labels(DType::u32, 2, 4, 4);
  for (int64_t i = 0; i < labels.elements(); ++i) labels.data<uint32_t>()[i] = static_cast<uint32_t>(i % 3 == 0 ? 0 : 70000 + i);
  WriteOptions w;
  w.format = StackFormat::multipage_tiff;
  write_volume(dir / "labels.tif", labels, w);

  auto r = run_uniem("convert " + quote(dir / "labels.tif") + " " + quote(dir / "png"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("--bits 16") != std::string::npos);
  r = run_uniem("convert " + quote(dir / "labels.tif") + " " + quote(dir / "png") + " --bits 16");
  CHECK(r.exit_code == 1);
  CHECK(one_line(r.output));
  CHECK(r.output.find("labels.tif") != std::string::npos);
  CHECK(r.output.find("--relabel") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "png"));

  r = run_uniem("convert " + quote(dir / "labels.tif") + " " + quote(dir / "png") + " --relabel");
  REQUIRE(r.exit_code == 0);
  const Volume relabelled = read_volume(dir / "png");
  CHECK(relabelled.dtype() == DType::u8);
  CHECK(relabelled.at<uint8_t>(1, 3, 3) == 21);  // the 21st nonzero id of 32 voxels

  r = run_uniem("convert " + quote(dir / "labels.tif") + " " + quote(dir / "scaled.tif") + " --bits 8 --scale");
  REQUIRE(r.exit_code == 0);
  const Volume scaled = read_volume(dir / "scaled.tif");
  CHECK(scaled.at<uint8_t>(0, 0, 0) == 0);
  CHECK(scaled.at<uint8_t>(1, 3, 3) == 255);  // the largest id, 70031
  CHECK(run_uniem("convert " + quote(dir / "labels.tif") + " " + quote(dir / "x.tif") + " --scale --clip").exit_code == 2);

  // --crop keeps a box; one that does not fit is refused, naming the stack, with nothing written.
  r = run_uniem("convert " + quote(dir / "labels.tif") + " " + quote(dir / "box.tif") + " --crop 1,2,1,1,2,3");
  REQUIRE(r.exit_code == 0);
  const Volume box = read_volume(dir / "box.tif");
  CHECK(box.shape() == std::array<int64_t, 3>{1, 2, 3});
  CHECK(box.at<uint32_t>(0, 1, 2) == labels.at<uint32_t>(1, 3, 3));
  r = run_uniem("convert " + quote(dir / "labels.tif") + " " + quote(dir / "no.tif") + " --crop 0,0,0,3,4,4");
  CHECK(r.exit_code == 1);
  CHECK(one_line(r.output));
  CHECK(r.output.find("labels.tif: the crop of 3 x 4 x 4 voxels") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "no.tif"));
}

TEST_CASE("bad input: one line naming the file, exit code 1, no output left behind") {
  TempDir dir;
  fs::create_directory(dir / "empty");
  fs::create_directory(dir / "mixed");
  write_png(dir / "mixed" / "a1.png", Volume(DType::u8, 1, 16, 16), 0);
  write_png(dir / "mixed" / "a2.png", Volume(DType::u8, 1, 16, 20), 0);
  fs::create_directory(dir / "truncated");
  write_png(dir / "truncated" / "0.png", test::pattern_volume(DType::u8, 1, 64, 64), 0);
  {
    std::ifstream in(dir / "truncated" / "0.png", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    test::write_text(dir / "truncated" / "1.png", bytes.substr(0, bytes.size() - 40));
  }
  test::write_text(dir / "corrupt.tif", std::string("II*\0\x08\0\0\0", 8) + std::string(64, '\x7f'));
  fs::create_directory(dir / "occupied");
  test::write_text(dir / "occupied" / "keep.txt", "precious");
  write_png(dir / "good.png", test::pattern_volume(DType::u8, 1, 8, 8), 0);

  const std::vector<Refusal> cases = {
      {"info " + quote(dir / "missing"), "missing: no such file or folder"},
      {"info " + quote(dir / "empty"), "empty: holds no PNG or TIFF images"},
      {"convert " + quote(dir / "mixed") + " " + quote(dir / "out1"), "a2.png: is 20 x 16"},
      {"convert " + quote(dir / "truncated") + " " + quote(dir / "out2"), "1.png: not a readable PNG"},
      {"convert " + quote(dir / "corrupt.tif") + " " + quote(dir / "out3"), "corrupt.tif:"},
      {"convert " + quote(dir / "good.png") + " " + quote(dir / "occupied"), "occupied: already exists"},
      {"synth " + quote(dir / "occupied"), "occupied: already exists"},
  };
  const auto before = listing(dir.path());
  check_refusals(cases);
  CHECK(listing(dir.path()) == before);
  CHECK(fs::exists(dir / "occupied" / "keep.txt"));

  // An unsupported bit depth: a 64-bit float TIFF.
  {
    Volume v(DType::f32, 1, 4, 4);
    WriteOptions w;
    w.format = StackFormat::multipage_tiff;
    write_volume(dir / "f.tif", v, w);
    std::fstream f(dir / "f.tif", std::ios::in | std::ios::out | std::ios::binary);
    // Rewrite BitsPerSample (tag 258, SHORT) from 32 to 64 in the first directory.
    std::string bytes((std::istreambuf_iterator<char>(f)), {});
    const std::string tag("\x02\x01\x03\x00\x01\x00\x00\x00\x20\x00", 10);
    const auto at = bytes.find(tag);
    REQUIRE(at != std::string::npos);
    bytes[at + 8] = 64;
    f.seekp(0);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  const auto r = run_uniem("info " + quote(dir / "f.tif"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("f.tif: page 1: 64-bit floating point is not supported") != std::string::npos);

  // --overwrite replaces, and a demo folder is reused only if it is a demo's.
  CHECK(run_uniem("convert " + quote(dir / "good.png") + " " + quote(dir / "occupied") + " --overwrite").exit_code == 0);
  CHECK_FALSE(fs::exists(dir / "occupied" / "keep.txt"));
  fs::create_directory(dir / "not a demo");
  test::write_text(dir / "not a demo" / "thesis.tex", "x");
  CHECK(run_uniem("demo --no-serve --shape 4,32,32 --output " + quote(dir / "not a demo")).exit_code == 1);
  CHECK(fs::exists(dir / "not a demo" / "thesis.tex"));
}

TEST_CASE("devices: cuDNN and cuBLAS are loaded when needed; a missing one is named, and the CPU still works") {
  auto r = run_uniem("devices");
#ifdef UNIEM_WITH_CUDA
  CHECK(r.output.find("CUDA runtime") == 0);
  CHECK((r.output.find("\ncuDNN 9.") != std::string::npos || r.output.find("\ncuDNN: not usable") != std::string::npos));
  CHECK((r.output.find("\ncuBLAS ") != std::string::npos));
  const std::string missing = "UNIEM_CUDNN=/nonexistent/libcudnn.so.9";
  r = run_uniem("devices", missing);
  CHECK(r.output.find("cuDNN: not usable: UNIEM_CUDNN names a library that does not load: /nonexistent/libcudnn.so.9") !=
        std::string::npos);
  TempDir dir;
  r = run_uniem("demo --no-serve --shape 4,32,32 --device cuda --output " + quote(dir / "gpu"), missing);
  CHECK(r.exit_code == 1);
  CHECK(one_line(r.output));
  CHECK(r.output.find("--device cuda: no usable GPU") != std::string::npos);
  CHECK(r.output.find("cuDNN: UNIEM_CUDNN names a library that does not load") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "gpu"));
  r = run_uniem("demo --no-serve --shape 4,32,32 --output " + quote(dir / "cpu"), missing);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("computing on the CPU (no usable GPU: ") != std::string::npos);
#else
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("built without CUDA") != std::string::npos);
#endif
}

TEST_CASE("label and eval on a synthetic volume: counts, statistics CSV, scores") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 8,96,96 --quiet").exit_code == 0);
  const auto synth = nlohmann::json::parse(std::ifstream(dir / "s" / "synth.json"));

  // The neuron ids with 0 on membranes: labelling them label-preserving gives back every neuron
  // (each is connected), and scoring them against themselves is perfect.
  auto r = run_uniem("label " + quote(dir / "s" / "neurons") + " " + quote(dir / "cells.tif") + " --connectivity 6 --stats " +
                     quote(dir / "cells.csv") + " --intensity " + quote(dir / "s" / "image"));
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("label-preserving") != std::string::npos);
  std::ifstream csv(dir / "cells.csv");
  std::string header, line;
  std::getline(csv, header);
  CHECK(header.find("id,voxels,volume_nm3") == 0);
  CHECK(header.find("mean_intensity") != std::string::npos);
  int rows = 0;
  int64_t voxels = 0;
  while (std::getline(csv, line)) {
    ++rows;
    voxels += std::stoll(line.substr(line.find(',') + 1));
  }
  const Volume neurons = read_volume(dir / "s" / "neurons");
  int64_t nonzero = 0;
  for (int64_t i = 0; i < neurons.elements(); ++i) nonzero += neurons.value(i) != 0;
  CHECK(voxels == nonzero);
  CHECK(rows >= synth["neurons"].get<int>());  // a neuron cut by the volume border may come in pieces

  r = run_uniem("eval " + quote(dir / "cells.tif") + " " + quote(dir / "s" / "neurons"));
  REQUIRE(r.exit_code == 0);
  auto scores = nlohmann::json::parse(r.output);
  CHECK(scores["v_rand_merge"].get<double>() == doctest::Approx(1));
  CHECK(scores["vi_merge_bits"].get<double>() == doctest::Approx(0));
  r = run_uniem("eval " + quote(dir / "s" / "neurons") + " " + quote(dir / "s" / "neurons") + " --format table");
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("V_rand (Rand F-score, 1 best)        1.0000") != std::string::npos);
  r = run_uniem("eval " + quote(dir / "s" / "mitochondria") + " " + quote(dir / "s" / "mitochondria") + " --mode semantic");
  CHECK(nlohmann::json::parse(r.output)["classes"][0]["jaccard"].get<double>() == doctest::Approx(1));

  // Bad input: one line, exit 1, nothing written.
  REQUIRE(run_uniem("synth " + quote(dir / "other") + " --shape 4,32,32 --quiet").exit_code == 0);
  r = run_uniem("eval " + quote(dir / "other" / "neurons") + " " + quote(dir / "s" / "neurons"));
  CHECK(r.exit_code == 1);
  CHECK(one_line(r.output));
  CHECK(r.output.find("must match voxel for voxel") != std::string::npos);
  Volume f(DType::f32, 2, 4, 4);
  WriteOptions w;
  w.format = StackFormat::multipage_tiff;
  write_volume(dir / "float.tif", f, w);
  r = run_uniem("label " + quote(dir / "float.tif") + " " + quote(dir / "never.tif") + " --mode labels");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("float.tif: label-preserving labeling needs integer labels") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "never.tif"));
  CHECK(run_uniem("label " + quote(dir / "float.tif") + " " + quote(dir / "never.tif") + " --connectivity 5").exit_code == 2);
  CHECK(run_uniem("eval a b --mode fuzzy").exit_code == 2);
}

TEST_CASE("filter: command-line and JSON pipelines give the same result; bad steps are refused") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 6,64,64 --quiet").exit_code == 0);
  auto r = run_uniem("filter " + quote(dir / "s" / "image") + " " + quote(dir / "a.tif") +
                     " --gaussian 1 --threshold otsu --invert --remove-small 30 --quiet");
  REQUIRE(r.exit_code == 0);
  test::write_text(dir / "steps.json", R"([{"gaussian": 1}, {"threshold": "otsu"}, {"invert": true}, {"remove-small": 30}])");
  r = run_uniem("filter " + quote(dir / "s" / "image") + " " + quote(dir / "b.tif") + " --pipeline " + quote(dir / "steps.json"));
  REQUIRE(r.exit_code == 0);
  const Volume a = read_volume(dir / "a.tif"), b = read_volume(dir / "b.tif");
  CHECK(test::same_voxels(a, b));
  CHECK(a.dtype() == DType::u8);
  // The membranes the pipeline finds overlap the true membranes far better than chance.
  const Volume truth = read_volume(dir / "s" / "membranes");
  int64_t both = 0, either = 0;
  for (int64_t i = 0; i < a.elements(); ++i) {
    both += a.value(i) && truth.value(i);
    either += a.value(i) || truth.value(i);
  }
  CHECK(static_cast<double>(both) / static_cast<double>(either) > 0.5);

  struct Case {
    std::string arguments, expected;
    int code;  // 2: a mistake in the arguments, found before the stack is read; 1: in the data
  };
  const Case cases[] = {
      {"--gaussian -1", "--gaussian must not be negative", 2},
      {"--dilate 2", "threshold it first", 1},
      {"--median x", "is not a number", 2},
      {"--clahe 127,256", "BLOCK,BINS,SLOPE", 2},
      {"--bilateral 2", "SPACE,RANGE", 2},
      {"--bilateral 0,30", "positive spatial and range sigmas", 1},
      {"--clahe 127,256,1.5 --3d", "CLAHE works on each section", 2},
      {"--canny 50,150 --3d", "Canny finds edges in each section", 2},
      {"--canny 50", "LOW,HIGH", 2},
      {"--canny 50,150,1,l2", "LOW,HIGH", 2},
      {"--canny 150,50", "low threshold must not be above", 1},
      {"--gaussian 1e9", "--gaussian 1e9 is too large", 2},
      {"--median nan", "is not a number", 2},
      {"--gaussian inf", "is not a number", 2},
      {"", "no filter steps given", 2},
      {"--pipeline " + quote(dir / "missing.json"), "no such pipeline file", 1},
  };
  for (const auto& c : cases) {
    CAPTURE(c.arguments);
    r = run_uniem("filter " + quote(dir / "s" / "image") + " " + quote(dir / "never.tif") + " " + c.arguments);
    CHECK(r.exit_code == c.code);
    CHECK(r.output.find(c.expected) != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "never.tif"));
  }
  r = run_uniem("filter " + quote(dir / "s" / "image") + " " + quote(dir / "bilateral.tif") + " --bilateral 12nm,20");
  CHECK(r.exit_code == 0);
  r = run_uniem("filter " + quote(dir / "s" / "image") + " " + quote(dir / "clahe.tif") + " --clahe 127,256,1.5");
  CHECK(r.exit_code == 0);
  CHECK(read_volume(dir / "clahe.tif").dtype() == DType::u8);
  r = run_uniem("filter " + quote(dir / "s" / "image") + " " + quote(dir / "edges.tif") + " --canny 20,60,1.5");
  CHECK(r.exit_code == 0);
  {  // edges are thin: a small part of the image, on the membranes more than off them
    const Volume edges = read_volume(dir / "edges.tif");
    CHECK(edges.dtype() == DType::u8);
    int64_t on = 0;
    for (int64_t i = 0; i < edges.elements(); ++i) on += edges.value(i) != 0;
    CHECK(on > edges.elements() / 100);
    CHECK(on < edges.elements() / 3);
  }
  test::write_text(dir / "bad.json", R"([{"sharpen": 3}])");
  r = run_uniem("filter " + quote(dir / "s" / "image") + " " + quote(dir / "never.tif") + " --pipeline " + quote(dir / "bad.json"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("unknown step 'sharpen'") != std::string::npos);
}

TEST_CASE("watershed: seeds below Otsu on the inverted image recover the synthetic neurons; --split; refusals") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 6,96,96 --quiet").exit_code == 0);
  REQUIRE(run_uniem("filter " + quote(dir / "s" / "image") + " " + quote(dir / "boundary.tif") + " --gaussian 1.5 --invert --quiet").exit_code == 0);
  auto r = run_uniem("watershed " + quote(dir / "boundary.tif") + " " + quote(dir / "cells.tif") + " --seeds-below otsu");
  REQUIRE(r.exit_code == 0);
  {  // a dense flood has no 0: the count it prints is every distinct id
    const Volume cells = read_volume(dir / "cells.tif");
    const auto s = compute_statistics(cells);
    CHECK(s.zeros == 0);
    CHECK(r.output.find(std::to_string(s.distinct) + " regions") == 0);
  }
  r = run_uniem("eval " + quote(dir / "cells.tif") + " " + quote(dir / "s" / "neurons"));
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.output)["v_rand"].get<double>() > 0.95);

  // Markers given explicitly: the same as seeds-below with the markers it would make.
  r = run_uniem("watershed " + quote(dir / "s" / "mitochondria") + " " + quote(dir / "mito.tif") + " --split --connectivity 8");
  REQUIRE(r.exit_code == 0);
  const Volume mito = read_volume(dir / "mito.tif"), truth = read_volume(dir / "s" / "mitochondria");
  for (int64_t i = 0; i < mito.elements(); ++i) REQUIRE((mito.value(i) != 0) == (truth.value(i) != 0));

  // UNI-EM's 2D preset: objects where the image is <= 8 (here the inverted mitochondria mask),
  // split from distance maxima 10 pixels apart, 4-connected: the same as the options it stands for.
  REQUIRE(run_uniem("filter " + quote(dir / "s" / "mitochondria") + " " + quote(dir / "inverted.tif") + " --invert --quiet").exit_code == 0);
  r = run_uniem("watershed " + quote(dir / "inverted.tif") + " " + quote(dir / "preset.tif") + " --preset uniem-2d");
  REQUIRE(r.exit_code == 0);
  r = run_uniem("watershed " + quote(dir / "inverted.tif") + " " + quote(dir / "spelled.tif") +
                " --split --objects-at-most 8 --min-distance 10 --connectivity 4");
  REQUIRE(r.exit_code == 0);
  CHECK(test::same_voxels(read_volume(dir / "preset.tif"), read_volume(dir / "spelled.tif")));
  {
    const Volume preset = read_volume(dir / "preset.tif");
    for (int64_t i = 0; i < preset.elements(); ++i) REQUIRE((preset.value(i) != 0) == (truth.value(i) != 0));
  }
  // h-maxima markers keep the objects whole; merging everything under a huge size leaves one region.
  r = run_uniem("watershed " + quote(dir / "s" / "mitochondria") + " " + quote(dir / "h.tif") + " --split --h-maxima 20");
  REQUIRE(r.exit_code == 0);
  {
    const Volume h = read_volume(dir / "h.tif");
    for (int64_t i = 0; i < h.elements(); ++i) REQUIRE((h.value(i) != 0) == (truth.value(i) != 0));
  }
  r = run_uniem("watershed " + quote(dir / "boundary.tif") + " " + quote(dir / "merged.tif") + " --seeds-below otsu --merge-smaller 100000000");
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("1 regions") == 0);
  r = run_uniem("watershed " + quote(dir / "boundary.tif") + " " + quote(dir / "x.tif") + " --preset uniem-4d");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("uniem-2d or uniem-3d") != std::string::npos);
  r = run_uniem("watershed " + quote(dir / "boundary.tif") + " " + quote(dir / "x.tif") + " --split --h-maxima 2 --min-distance 3");
  CHECK(r.exit_code == 2);
  CHECK(run_uniem("watershed " + quote(dir / "boundary.tif") + " " + quote(dir / "x.tif")).exit_code == 2);
  r = run_uniem("watershed " + quote(dir / "boundary.tif") + " " + quote(dir / "x.tif") + " --split");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("--split needs a mask") != std::string::npos);
  r = run_uniem("watershed " + quote(dir / "boundary.tif") + " " + quote(dir / "x.tif") + " --markers " + quote(dir / "s" / "image") +
                " --mask " + quote(dir / "cells.tif"));
  CHECK(r.exit_code == 0);  // an image as markers is allowed: every nonzero value is a seed
  REQUIRE(run_uniem("synth " + quote(dir / "small") + " --shape 2,32,32 --quiet").exit_code == 0);
  r = run_uniem("watershed " + quote(dir / "boundary.tif") + " " + quote(dir / "y.tif") + " --markers " + quote(dir / "small" / "neurons"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("same shape") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "y.tif"));
}

TEST_CASE("mesh: one closed surface per object, measurements, formats, and bad input refused whole") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 12,64,64 --seed 2 --quiet").exit_code == 0);
  REQUIRE(run_uniem("convert " + quote(dir / "s" / "neurons") + " " + quote(dir / "objects.tif")).exit_code == 0);
  const Volume objects = read_volume(dir / "objects.tif");
  const auto stats = compute_statistics(objects);
  REQUIRE(stats.distinct > 2);

  auto r = run_uniem("mesh " + quote(dir / "objects.tif") + " " + quote(dir / "m") + " --voxel-size 30,6,6");
  REQUIRE(r.exit_code == 0);
  const auto count = stats.distinct - 1;  // not the background
  CHECK(r.output.find(std::to_string(count) + " objects") == 0);
  std::ifstream csv(dir / "m" / "measurements.csv");
  std::string line;
  std::getline(csv, line);
  CHECK(line.rfind("label,voxels,voxel_volume_nm3,mesh_volume_nm3,surface_area_nm2", 0) == 0);
  int64_t rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    // The mesh encloses about the voxels' volume (the surface through edge midpoints cuts corners).
    std::vector<double> f;
    std::stringstream in(line);
    for (std::string cell; std::getline(in, cell, ',');) f.push_back(std::stod(cell));
    CHECK(f[2] == doctest::Approx(f[1] * 30 * 6 * 6));
    CHECK(f[3] > 0);
    CHECK(f[3] < f[2] * 1.05);
    CHECK(f[4] > 0);
    CHECK(fs::exists(dir / "m" / ("label_" + std::to_string(static_cast<int64_t>(f[0])) + ".ply")));
  }
  CHECK(rows == count);

  r = run_uniem("mesh " + quote(dir / "objects.tif") + " " + quote(dir / "ng") + " --format precomputed --decimate 0.5 --labels 1,2");
  REQUIRE(r.exit_code == 0);
  CHECK(fs::exists(dir / "ng" / "info"));
  CHECK(fs::exists(dir / "ng" / "1:0"));
  CHECK(fs::exists(dir / "ng" / "2.frag"));
  CHECK_FALSE(fs::exists(dir / "ng" / "3.frag"));
  r = run_uniem("mesh " + quote(dir / "objects.tif") + " " + quote(dir / "one") + " --single-file --format stl --no-smooth");
  REQUIRE(r.exit_code == 0);
  CHECK(fs::exists(dir / "one" / "meshes.stl"));

  // An empty volume: a note, an empty table, exit 0.
  WriteOptions tiff_output;
  tiff_output.format = StackFormat::multipage_tiff;
  write_volume(dir / "empty.tif", Volume(DType::u8, 3, 8, 8), tiff_output);
  r = run_uniem("mesh " + quote(dir / "empty.tif") + " " + quote(dir / "e"));
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("no labelled voxels") != std::string::npos);

  write_volume(dir / "float.tif", Volume(DType::f32, 3, 8, 8), tiff_output);
  fs::create_directory(dir / "taken");
  test::write_text(dir / "taken" / "keep.txt", "precious");
  const auto before = listing(dir.path());
  const std::vector<Refusal> cases = {
      {"mesh " + quote(dir / "float.tif") + " " + quote(dir / "x1"), "float.tif: meshes need a label volume"},
      {"mesh " + quote(dir / "objects.tif") + " " + quote(dir / "x2") + " --labels 9999", "label 9999 does not occur"},
      {"mesh " + quote(dir / "s" / "image") + " " + quote(dir / "x4"), "image: looks like an image, not labels"},
      {"mesh " + quote(dir / "objects.tif") + " " + quote(dir / "taken"), "taken: already exists"},
  };
  check_refusals(cases);
  CHECK(listing(dir.path()) == before);
  CHECK(run_uniem("mesh " + quote(dir / "objects.tif") + " " + quote(dir / "x3") + " --format vtk").exit_code == 2);
  CHECK(run_uniem("mesh " + quote(dir / "objects.tif") + " " + quote(dir / "x3") + " --decimate 0").exit_code == 2);
  CHECK(run_uniem("mesh " + quote(dir / "objects.tif") + " " + quote(dir / "x3") + " --labels a,b").exit_code == 2);
}

TEST_CASE("train2d and infer2d: a model folder that is all inference needs; bad input refused whole") {
  TempDir dir;
  const fs::path a = dir / "a", b = dir / "b";
  REQUIRE(run_uniem("synth " + quote(a) + " --shape 6,96,96 --quiet").exit_code == 0);
  REQUIRE(run_uniem("synth " + quote(b) + " --shape 3,96,96 --seed 2 --quiet").exit_code == 0);
  const std::string data = " --images " + quote(a / "image") + " --labels " + quote(a / "membranes");
  const std::string small = " --filters 8 --depth 3 --patch 64 --batch 4 --learning-rate 2e-3 --validate-every 20 --log-every 10";
  auto r = run_uniem("train2d" + data + small + " --steps 40 --model " + quote(dir / "m"));
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("5 sections for training, the last 1 held out") != std::string::npos);
  CHECK(r.output.find("step 40/40  loss") != std::string::npos);
  CHECK(r.output.find("validation at step 40: Jaccard") != std::string::npos);
  for (const char* f : {"model.json", "last.checkpoint", "best.checkpoint", "training-log.jsonl"}) CHECK(fs::exists(dir / "m" / f));
  const auto model = nlohmann::json::parse(std::ifstream(dir / "m" / "model.json"));
  CHECK(model["network"]["family"] == "unet");
  CHECK(model["training"]["steps"] == 40);
  CHECK(model["training"]["beta1"] == 0.5);

  r = run_uniem("infer2d --model " + quote(dir / "m") + " --images " + quote(b / "image") + " --out " + quote(dir / "out") +
                " --threshold 0.5 --labels 2d --tile 64 --overlap 16");
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("memory:") != std::string::npos);
  for (const char* f : {"probabilities/0002.png", "mask/0002.png", "labels.tif", "inference.json"}) CHECK(fs::exists(dir / "out" / f));
  const auto info = nlohmann::json::parse(std::ifstream(dir / "out" / "inference.json"));
  CHECK(info["sections"] == 3);
  CHECK(info["objects"].get<int64_t>() > 0);
  // Grown objects cover the whole volume.
  r = run_uniem("infer2d --model " + quote(dir / "m") + " --images " + quote(b / "image") + " --out " + quote(dir / "grown") +
                " --threshold 0.5 --labels 2d --grow");
  REQUIRE(r.exit_code == 0);
  const Volume grown = read_volume(dir / "grown" / "labels.tif");
  for (int64_t i = 0; i < grown.elements(); i += 7) REQUIRE(grown.value(i) > 0);
  r = run_uniem("eval " + quote(dir / "out" / "mask") + " " + quote(b / "membranes") + " --mode semantic");
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.output)["mean_jaccard"].get<double>() > 0.5);  // membranes of an unseen volume

  // Resume continues to a higher step count; an option that contradicts the model is refused.
  r = run_uniem("train2d" + data + " --model " + quote(dir / "m") + " --resume --steps 50");
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("resuming from step 40") != std::string::npos);
  CHECK(r.output.find("step 50/50") != std::string::npos);

  // Bad input: exit 1, one line naming what is wrong, nothing written.
  const fs::path other = dir / "other";
  REQUIRE(run_uniem("synth " + quote(other) + " --shape 4,96,96 --quiet").exit_code == 0);
  REQUIRE(run_uniem("synth " + quote(dir / "wide") + " --shape 6,96,128 --quiet").exit_code == 0);
  fs::create_directory(dir / "occupied");
  test::write_text(dir / "occupied" / "keep.txt", "precious");
  fs::copy(dir / "m", dir / "old", fs::copy_options::recursive);
  auto j = nlohmann::json::parse(std::ifstream(dir / "old" / "model.json"));
  j["version"] = 7;
  std::ofstream(dir / "old" / "model.json") << j.dump();
  fs::copy(dir / "m", dir / "swapped", fs::copy_options::recursive);
  j = nlohmann::json::parse(std::ifstream(dir / "swapped" / "model.json"));
  j["network"]["family"] = "resnet";
  std::ofstream(dir / "swapped" / "model.json") << j.dump();
  // --resume without last.checkpoint, or with a damaged best.checkpoint, is refused before any work.
  fs::copy(dir / "m", dir / "no-last", fs::copy_options::recursive);
  fs::remove(dir / "no-last" / "last.checkpoint");
  fs::copy(dir / "m", dir / "bad-best", fs::copy_options::recursive);
  fs::resize_file(dir / "bad-best" / "best.checkpoint", 1000);
  const std::string infer = "infer2d --images " + quote(b / "image") + " --out " + quote(dir / "out2") + " --model ";
  const std::vector<Refusal> cases = {
      {"train2d" + data + " --model " + quote(dir / "no-last") + " --resume --steps 60",
       (dir / "no-last" / "last.checkpoint").string() + ": missing, so there is no training to resume"},
      {"train2d" + data + " --model " + quote(dir / "bad-best") + " --resume --steps 60",
       (dir / "bad-best" / "best.checkpoint").string() + ": checkpoint is truncated"},
      {"train2d --images " + quote(a / "image") + " --labels " + quote(other / "membranes") + small + " --model " + quote(dir / "n1"),
       "4 label sections for 6 image sections"},
      {"train2d --images " + quote(a / "image") + " --labels " + quote(dir / "wide" / "membranes") + small + " --model " + quote(dir / "n2"),
       "labels are 128 x 96 pixels but the images"},
      {"train2d --images " + quote(a / "image") + " --labels " + quote(a / "image") + small + " --model " + quote(dir / "n3"),
       "different values"},
      {"train2d" + data + " --patch 128 --model " + quote(dir / "n4"), "smaller than the 128-pixel training patch"},
      {"train2d" + data + small + " --model " + quote(dir / "occupied"), "occupied: exists and is not empty"},
      {"train2d" + data + " --model " + quote(dir / "m") + " --resume --net resnet", "--net resnet contradicts the model"},
      {infer + quote(dir / "old"), "model format version 7"},
      {infer + quote(dir / "swapped"), "2d-resnet"},
      {infer + quote(a), "not a uniem 2D model folder"},
      {"infer2d --images " + quote(b / "image") + " --out " + quote(dir / "occupied") + " --model " + quote(dir / "m"),
       "occupied: already exists"},
  };
  const auto before = listing(dir.path());
  check_refusals(cases);
  CHECK(listing(dir.path()) == before);
  CHECK(run_uniem("train2d" + data + " --net vgg --model " + quote(dir / "n5")).exit_code == 2);
  CHECK(run_uniem("train2d" + data + " --loss hinge --model " + quote(dir / "n6")).exit_code == 2);
  for (const auto& [arguments, expected] : std::vector<Refusal>{
           {" --model " + quote(dir / "m") + " --resume --average 0.99", "--average cannot be turned on when resuming"},
           {" --average 1 --model " + quote(dir / "n7"), "--average takes a decay in [0, 1)"},
           {" --validation 20%:middle --model " + quote(dir / "n8"), "20%:left"}}) {
    const auto r = run_uniem("train2d" + data + arguments);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(expected) != std::string::npos);
  }
  CHECK(listing(dir.path()) == before);
  CHECK_FALSE(fs::exists(dir / "n5"));
  CHECK_FALSE(fs::exists(dir / "n6"));
}

TEST_CASE("--memory: an input announcing more is refused at once, naming the file") {
  TempDir dir;
  test::write_tiff_bomb(dir / "bomb.tif", 50000, 50000);
  test::write_png_bomb(dir / "bomb.png", 50000, 50000);
  auto r = run_uniem("info " + quote(dir / "bomb.tif") + " --memory 64");
  CHECK(r.exit_code == 1);
  CHECK(one_line(r.output));
  CHECK(r.output.find((dir / "bomb.tif").string() + ": announces 50000 x 50000 pixels (2.3 GiB as 8-bit grey), more than the "
                      "memory limit of 64 MiB; give more with --memory MB") != std::string::npos);
  r = run_uniem("convert " + quote(dir / "bomb.png") + " " + quote(dir / "out") + " --memory=1000");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("bomb.png: announces 50000 x 50000 pixels") != std::string::npos);
  CHECK(r.output.find("memory limit of 1000 MiB") != std::string::npos);
  r = run_uniem("info " + quote(dir / "bomb.png"), "UNIEM_MEMORY=100");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("memory limit of 100 MiB") != std::string::npos);
  CHECK(run_uniem("info " + quote(dir / "bomb.png") + " --memory 0").exit_code == 2);
  CHECK(run_uniem("info " + quote(dir / "bomb.png") + " --memory 63").exit_code == 2);
  CHECK_FALSE(fs::exists(dir / "out"));
  // Every command has it, with the default said (serve keeps half of it for label chunks).
  CHECK(run_uniem("info --help").output.find("--memory MB") != std::string::npos);
  CHECK(run_uniem("serve --help").output.find("larger inputs are refused") != std::string::npos);
}

TEST_CASE("ffn: prep, train, resume, segment in parts, export; bad input refused whole") {
  TempDir dir;
  const fs::path a = dir / "a";
  REQUIRE(run_uniem("synth " + quote(a) + " --shape 20,48,48 --voxel-size 12,6,6 --quiet").exit_code == 0);
  const std::string net = " --fov 5,9,9 --deltas 1,2,2 --depth 2 --filters 4";
  auto r = run_uniem("ffn prep --images " + quote(a / "image") + " --labels " + quote(a / "neurons") + " --out " +
                     quote(dir / "prep") + net + " --min-size 100");
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("training coordinates over 14 classes") != std::string::npos);
  const auto prep = nlohmann::json::parse(std::ifstream(dir / "prep" / "prep.json"));
  CHECK(prep["margin_zyx"] == nlohmann::json({3, 6, 6}));  // fov / 2 + deltas
  CHECK(prep["image_stddev"].get<double>() > 10);
  CHECK(fs::exists(dir / "prep" / "classes-0" / "0010.png"));

  const std::string train = "ffn train --prep " + quote(dir / "prep") + net + " --optimizer adam --learning-rate 1e-3 --log-every 10 --checkpoint-every 10";
  r = run_uniem(train + " --steps 20 --model " + quote(dir / "m"));
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("step 20/20  loss") != std::string::npos);
  for (const char* f : {"model.json", "model.checkpoint", "training-log.jsonl"}) CHECK(fs::exists(dir / "m" / f));
  // A sample picture at each checkpoint: input, output and target, 4 times larger, 4 pixels apart.
  for (const char* step : {"10", "20"}) {
    const fs::path sample = dir / "m" / "samples" / (std::string("step-") + step + ".png");
    REQUIRE_MESSAGE(fs::exists(sample), sample.string());
    const Volume picture = read_volume(sample);
    CHECK(picture.nx() == 3 * picture.ny() + 8);
  }
  r = run_uniem(train + " --steps 30 --resume --model " + quote(dir / "m"));
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("resuming from step 20") != std::string::npos);
  // Resumed training ends with the same weights as one uninterrupted run.
  REQUIRE(run_uniem(train + " --steps 30 --model " + quote(dir / "straight")).exit_code == 0);
  const Checkpoint resumed = load_checkpoint(dir / "m" / "model.checkpoint"), straight = load_checkpoint(dir / "straight" / "model.checkpoint");
  REQUIRE(resumed.parameters.size() == straight.parameters.size());
  for (size_t i = 0; i < resumed.parameters.size(); ++i)
    CHECK(resumed.parameters[i].tensor.to_vector() == straight.parameters[i].tensor.to_vector());
  std::ifstream log(dir / "m" / "training-log.jsonl");
  int lines = 0;
  for (std::string line; std::getline(log, line); ++lines) {
    const auto j = nlohmann::json::parse(line);
    CHECK(j.contains("f1"));
    CHECK(j["voxels_per_second"].get<double>() > 0);
  }
  CHECK(lines == 3);

  // Segmenting in two parts (stopped by --max-seeds, resumed from the state file) gives what one
  // run gives; export writes the objects of a stopped run.
  const std::string segment = "ffn segment --model " + quote(dir / "m") + " --images " + quote(a / "image") + " --min-size 20 --out ";
  r = run_uniem(segment + quote(dir / "whole"));
  REQUIRE(r.exit_code == 0);
  for (const char* f : {"labels/0000.png", "colour/0019.png", "probabilities/0005.png", "segmentation.json"})
    CHECK(fs::exists(dir / "whole" / f));
  const auto record = nlohmann::json::parse(std::ifstream(dir / "whole" / "segmentation.json"));
  CHECK(record["counters"]["seeds_tried"].get<double>() == record["seed_count"].get<double>());
  CHECK(record["counters"]["predictions"].get<double>() > 0);
  r = run_uniem(segment + quote(dir / "parts") + " --max-seeds 5");
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("stopped after seed 5") != std::string::npos);
  REQUIRE(fs::exists(dir / "parts.ffn-state"));
  CHECK_FALSE(fs::exists(dir / "parts"));
  REQUIRE(run_uniem("ffn export " + quote(dir / "parts.ffn-state") + " " + quote(dir / "partial")).exit_code == 0);
  CHECK(fs::exists(dir / "partial" / "labels" / "0000.png"));
  r = run_uniem(segment + quote(dir / "parts"));
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("resuming from") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "parts.ffn-state"));
  CHECK(test::same_voxels(read_volume(dir / "parts" / "labels"), read_volume(dir / "whole" / "labels")));

  // Bad input: exit 1, one line naming what is wrong, nothing written.
  REQUIRE(run_uniem("synth " + quote(dir / "b") + " --shape 20,48,40 --quiet").exit_code == 0);
  REQUIRE(run_uniem("synth " + quote(dir / "thin") + " --shape 3,48,48 --quiet").exit_code == 0);
  REQUIRE(run_uniem("ffn prep --images " + quote(a / "image") + " --labels " + quote(a / "neurons") + " --out " +
                    quote(dir / "prep-narrow") + net + " --margin 1,1,1 --min-size 100").exit_code == 0);
  test::write_text(dir / "garbage.index", "not a checkpoint at all, but longer than forty-eight bytes of footer......");
  fs::copy(dir / "m", dir / "no-checkpoint", fs::copy_options::recursive);
  fs::remove(dir / "no-checkpoint" / "model.checkpoint");
  const std::string prep_a = "ffn prep --images " + quote(a / "image") + net + " --out " + quote(dir / "p2") + " --labels ";
  const std::vector<Refusal> cases = {
      {prep_a + quote(dir / "b" / "neurons"), "differs from the images'"},
      {prep_a + quote(a / "neurons") + " --min-size 100000000", "no object has at least 100000000 voxels"},
      {"ffn train --prep " + quote(dir / "prep-narrow") + net + " --model " + quote(dir / "n1"), "prepared margin 1,1,1 is smaller"},
      {"ffn train --prep " + quote(a) + net + " --model " + quote(dir / "n2"), "prep.json: missing"},
      {segment + quote(dir / "s1") + " --images " + quote(dir / "thin" / "image"), "smaller than the network's field of view"},
      {"ffn segment --model " + quote(a) + " --images " + quote(a / "image") + " --out " + quote(dir / "s2"), "model.json: missing"},
      {"ffn import-tf " + quote(dir / "garbage.index") + " " + quote(dir / "t1"), "not a TensorFlow checkpoint index"},
      {"ffn import-tf " + quote(dir / "nothing") + " " + quote(dir / "t2"), "no TensorFlow checkpoint here"},
      {"ffn export " + quote(dir / "m" / "model.checkpoint") + " " + quote(dir / "e1"), "ffn-segmentation-state"},
      {train + " --steps 40 --resume --model " + quote(dir / "no-checkpoint"),
       (dir / "no-checkpoint" / "model.checkpoint").string() + ": missing, so there is no training to resume"},
  };
  const auto before = listing(dir.path());
  check_refusals(cases);
  CHECK(listing(dir.path()) == before);
  CHECK(run_uniem(train + " --steps 40 --resume --depth 3 --model " + quote(dir / "m")).exit_code == 2);
  CHECK(run_uniem("ffn segment --model " + quote(dir / "m") + " --images " + quote(a / "image") + " --out " + quote(dir / "s3") +
                  " --move-threshold 1.5").exit_code == 2);
  CHECK(run_uniem("ffn frobnicate").exit_code == 2);
}

TEST_CASE("serve and export: bad input gets a clear message, exit 1, and leaves nothing") {
  TempDir dir;
  CHECK(run_uniem("serve").exit_code == 2);
  auto r = run_uniem("serve --project " + quote(dir / "nothing"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("is not a uniem project") != std::string::npos);
  r = run_uniem("serve --images " + quote(dir / "missing") + " --project " + quote(dir / "p"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("missing") != std::string::npos);
  CHECK(!fs::exists(dir / "p"));
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 3,40,40").exit_code == 0);
  r = run_uniem("serve --images " + quote(dir / "s" / "image") + " --labels " + quote(dir / "s" / "membranes") + " --project " +
                quote(dir / "p") + " --port 99999");
  CHECK(r.exit_code == 2);
  r = run_uniem("serve --project " + quote(dir / "p") + " --memory 2");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--memory") != std::string::npos);
  CHECK(!fs::exists(dir / "p"));
  r = run_uniem("export " + quote(dir / "s") + " " + quote(dir / "out.tif"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("is not a uniem project") != std::string::npos);
  CHECK(!fs::exists(dir / "out.tif"));
}

TEST_CASE("--progress json: one JSON object a line, for programs; the same progress as the bar") {
  TempDir dir;
  REQUIRE(run_uniem("synth " + quote(dir / "s") + " --shape 6,96,96 --quiet").exit_code == 0);
  auto events = [](const std::string& output) {
    std::vector<nlohmann::json> list;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && line[0] == '{') list.push_back(nlohmann::json::parse(line));  // every such line is JSON
    return list;
  };
  auto r = run_uniem("filter " + quote(dir / "s" / "image") + " " + quote(dir / "f.tif") + " --gaussian 1 --progress json");
  REQUIRE(r.exit_code == 0);
  const auto filter = events(r.output);
  int ended = 0;
  for (const auto& e : filter) {
    CHECK(e["event"] == "progress");
    CHECK(e["done"].get<int64_t>() <= e["total"].get<int64_t>());
    if (e.value("end", false)) {
      ++ended;
      CHECK(e["done"] == e["total"]);
    }
  }
  CHECK(ended >= 2);  // reading and writing at least
  r = run_uniem("train2d --images " + quote(dir / "s" / "image") + " --labels " + quote(dir / "s" / "membranes") +
                " --filters 8 --depth 3 --patch 64 --batch 2 --steps 20 --log-every 10 --model " + quote(dir / "m") +
                " --progress json");
  REQUIRE(r.exit_code == 0);
  int metrics = 0;
  for (const auto& e : events(r.output))
    if (e["event"] == "metrics" && e.contains("loss")) {
      ++metrics;
      CHECK(e["phase"] == "train2d");
      CHECK(e["loss"].get<double>() > 0);
    }
  CHECK(metrics == 2);
  r = run_uniem("info " + quote(dir / "s" / "image") + " --progress xml");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--progress takes bar, json or off") != std::string::npos);
}
