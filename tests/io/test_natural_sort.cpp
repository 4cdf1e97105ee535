#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "io/natural_sort.h"

using uniem::natural_less;

TEST_CASE("natural order: numbers by value, text case-insensitively, a total order") {
  std::vector<std::string> names = {"10.png", "2.png", "1.png", "im10.png", "im9.png", "Im8.png", "002.png", "b", "a", "A"};
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) { return natural_less(a, b); });
  const std::vector<std::string> expected = {"1.png", "002.png", "2.png", "10.png", "A", "a", "b", "Im8.png", "im9.png", "im10.png"};
  CHECK(names == expected);
  CHECK(natural_less("labels00000009.png", "labels00000010.png"));
  CHECK(natural_less("iso.2600.png", "iso.2601.png"));
  CHECK_FALSE(natural_less("x", "x"));
}
