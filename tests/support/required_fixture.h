// Fixtures some tests need from the machine: the system Python stack, opencv-doc's photographs,
// a SLURM cluster started as root, headless Chromium, pybind11. Without one such a test skips and
// says why; where the fixtures are required (REPBENCH_REQUIRE_FIXTURES=1, set by .ci/run and the
// README's test command, after scripts/setup.sh installed everything) a missing fixture fails the
// test instead, naming what to install, so the suite cannot go green with these tests gone.
// REPBENCH_REQUIRE_PYTHON_STACK=1, the older name, means the same.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <string>

#include <gtest/gtest.h>

namespace repbench::test_support {

inline bool fixtures_required() {
  for (const char* name : {"REPBENCH_REQUIRE_FIXTURES", "REPBENCH_REQUIRE_PYTHON_STACK"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && std::string(v) == "1") return true;
  }
  return false;
}

// The folder of opencv-doc's example photographs. REPBENCH_TEST_PHOTOS (test-only) points the
// tests elsewhere: the fixture rule's own test (test_builtin_reference.cpp) names a missing
// folder with it to show that a missing fixture fails where fixtures are required.
inline std::string photos_dir() {
  const char* v = std::getenv("REPBENCH_TEST_PHOTOS");
  return v != nullptr && *v != '\0' ? v : "/usr/share/doc/opencv-doc/examples/data";
}

// "" when the photographs `names` are in photos_dir(), else the reason, naming the package.
inline std::string photographs_missing(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const std::string p = photos_dir() + "/" + name;
    if (!std::filesystem::exists(p))
      return p + " is missing: install Debian's opencv-doc (scripts/setup.sh)";
  }
  return "";
}

}  // namespace repbench::test_support

// Ends the test when `why` (a reason naming what is missing and what installs it; "" for none) is
// not empty: a failure where fixtures are required, a skip that prints the reason otherwise.
#define SKIP_OR_FAIL_WITHOUT_FIXTURE(why)                                                \
  do {                                                                                   \
    const std::string why_ = (why);                                                      \
    if (!why_.empty()) {                                                                 \
      if (::repbench::test_support::fixtures_required())                                 \
        FAIL() << why_ << ", and REPBENCH_REQUIRE_FIXTURES=1 says it must be there";     \
      GTEST_SKIP() << why_ << " (set REPBENCH_REQUIRE_FIXTURES=1 to make this fail)";    \
    }                                                                                    \
  } while (0)
