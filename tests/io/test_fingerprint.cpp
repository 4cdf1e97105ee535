// SHA-256 against the test vectors of FIPS 180-4, and fingerprints of files and folders: what
// changes them, what does not (timings in JSON), and sampling of large inputs.
#include <doctest/doctest.h>

#include <string>

#include "io/fingerprint.h"
#include "io/sha256.h"
#include "tests/test_support.h"

using namespace uniem;
using namespace uniem::test;  // TempDir, run_uniem, quote, ...
namespace fs = std::filesystem;

namespace {
std::string sha(const std::string& s, size_t piece = 0) {
  Sha256 h;
  if (piece == 0) {
    h.update(s);
  } else {
    for (size_t i = 0; i < s.size(); i += piece) h.update(s.substr(i, piece));
  }
  return h.hex();
}
}  // namespace

TEST_CASE("SHA-256: the standard's test vectors, however the bytes are fed") {
  CHECK(sha("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK(sha(two_blocks) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  for (size_t piece : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{4096}})
    CHECK(sha(million, piece) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("fingerprints: content, not circumstances") {
  TempDir dir;
  fs::create_directories(dir / "a" / "sub");
  write_text(dir / "a" / "one.txt", "one");
  write_text(dir / "a" / "sub" / "two.txt", "two");
  const Fingerprint a = fingerprint(dir / "a");
  CHECK(a.kind == "folder");
  CHECK(a.files == 2);
  CHECK(a.bytes == 6);
  CHECK(a.sha256.size() == 64);
  CHECK(a.listed.size() == 2);
  CHECK(a.modified.size() == 20);  // 2026-12-07T12:00:00Z

  // A copy elsewhere is the same; a renamed file or a changed byte is not, and says which.
  fs::copy(dir / "a", dir / "b", fs::copy_options::recursive);
  CHECK(fingerprint(dir / "b").same_content(a));
  write_text(dir / "b" / "sub" / "two.txt", "twO");
  const Fingerprint b = fingerprint(dir / "b");
  CHECK_FALSE(b.same_content(a));
  CHECK(differing_files(a, b) == std::vector<std::string>{"sub/two.txt"});
  fs::rename(dir / "b" / "sub" / "two.txt", dir / "b" / "sub" / "three.txt");
  CHECK(differing_files(a, fingerprint(dir / "b")).size() == 2);

  // JSON is compared without its timings.
  write_text(dir / "x.json", R"({"loss": 0.5, "seconds": 12, "phase": {"predict_seconds": 3, "voxels_per_second": 9}})");
  write_text(dir / "y.json", R"({"phase": {"predict_seconds": 4}, "loss": 0.5,  "seconds": 13})");
  CHECK(fingerprint(dir / "x.json").same_content(fingerprint(dir / "y.json")));
  write_text(dir / "z.json", R"({"loss": 0.25, "seconds": 12})");
  CHECK_FALSE(fingerprint(dir / "x.json").same_content(fingerprint(dir / "z.json")));
  write_text(dir / "x.jsonl", "{\"step\": 1, \"elapsed_seconds\": 1}\n{\"step\": 2, \"elapsed_seconds\": 2}\n");
  write_text(dir / "y.jsonl", "{\"step\": 1, \"elapsed_seconds\": 5}\n{\"step\": 2, \"elapsed_seconds\": 9}\n");
  CHECK(fingerprint(dir / "x.jsonl").same_content(fingerprint(dir / "y.jsonl")));

  CHECK(fingerprint(dir / "missing").kind == "missing");
  const Fingerprint back = Fingerprint::from_json(a.to_json());
  CHECK(back.same_content(a));
  CHECK(back.listed == a.listed);
}

TEST_CASE("fingerprints above the size limit sample blocks, and still see a change in a sampled block") {
  TempDir dir;
  std::string big(8 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 2654435761u >> 24);
  write_text(dir / "big.raw", big);
  const Fingerprint full = fingerprint(dir / "big.raw"), sampled = fingerprint(dir / "big.raw", 1 << 20);
  CHECK(full.method == "full");
  CHECK(sampled.method == "sampled");
  CHECK(full.sha256 != sampled.sha256);
  big[0] ^= 1;  // in the first MiB, always read
  write_text(dir / "big.raw", big);
  CHECK(fingerprint(dir / "big.raw", 1 << 20).sha256 != sampled.sha256);
}
