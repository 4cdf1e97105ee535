// The main() of the test programs on ../shared/data: skipped (exit code 77, which ctest reports
// as skipped) when the shared data folder is absent, as on a user's fresh clone. Included once,
// by the program's first source file, after doctest with DOCTEST_CONFIG_IMPLEMENT.
#pragma once

#include <cstdio>
#include <filesystem>

namespace uniem::test {
inline const std::filesystem::path shared_data = UNIEM_SHARED_DATA;
}

int main(int argc, char** argv) {
  if (!std::filesystem::is_directory(uniem::test::shared_data)) {
    std::printf("skipped: no ../shared/data (looked in %s)\n", uniem::test::shared_data.c_str());
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
