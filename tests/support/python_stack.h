// Tests backed by the system Python (/usr/bin/python3 with numpy, PIL, torch, torchvision:
// references and fixtures). Without it such a test skips and says why in its output; where the
// stack is expected (REPBENCH_REQUIRE_PYTHON_STACK=1, set by .ci/run and the README's test
// command after scripts/setup.sh installed it) a missing module fails the test instead, so the
// suite cannot go green with these tests gone.
#pragma once

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

#include <gtest/gtest.h>

namespace repbench::test_support {

inline const char* kSystemPython = "/usr/bin/python3";

inline bool python_stack_required() {
  const char* v = std::getenv("REPBENCH_REQUIRE_PYTHON_STACK");
  return v != nullptr && std::string(v) == "1";
}

// "" when `kSystemPython -c 'import MODULES'` succeeds, else why not (asked once per list).
inline std::string python_missing(const std::string& modules) {
  static std::mutex mu;
  static std::map<std::string, std::string> answers;
  const std::lock_guard<std::mutex> lock(mu);
  auto it = answers.find(modules);
  if (it == answers.end()) {
    const std::string cmd =
        std::string(kSystemPython) + " -c 'import " + modules + "' >/dev/null 2>&1";
    const std::string why = std::system(cmd.c_str()) == 0
                                ? ""
                                : std::string(kSystemPython) + " cannot import " + modules;
    it = answers.emplace(modules, why).first;
  }
  return it->second;
}

}  // namespace repbench::test_support

// Ends the test when `why` (a reason, "" for none) is not empty: a failure where the Python stack
// is required, a skip that prints the reason otherwise.
#define SKIP_OR_FAIL_WITHOUT_PYTHON(why)                                                  \
  do {                                                                                    \
    const std::string why_ = (why);                                                       \
    if (!why_.empty()) {                                                                  \
      if (::repbench::test_support::python_stack_required())                              \
        FAIL() << why_ << ", and REPBENCH_REQUIRE_PYTHON_STACK=1 says it must be there";  \
      GTEST_SKIP() << why_ << " (set REPBENCH_REQUIRE_PYTHON_STACK=1 to make this fail)"; \
    }                                                                                     \
  } while (0)

// REQUIRE_PYTHON("numpy, PIL"): the test needs these modules of the system Python.
#define REQUIRE_PYTHON(modules) \
  SKIP_OR_FAIL_WITHOUT_PYTHON(::repbench::test_support::python_missing(modules))
