// Tests backed by the system Python (/usr/bin/python3 with numpy, PIL, torch, torchvision:
// references and fixtures). Without it such a test skips and says why in its output; where fixtures are
// required (support/required_fixture.h) a missing module fails the test instead.
#pragma once

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

#include <gtest/gtest.h>

#include "required_fixture.h"

namespace repbench::test_support {

inline const char* kSystemPython = "/usr/bin/python3";

inline bool python_stack_required() { return fixtures_required(); }

// The Debian packages of the modules in "numpy, PIL, torch" (python3-<name> but for the few
// named otherwise).
inline std::string debian_packages_of(const std::string& modules) {
  static const std::map<std::string, std::string> kOther = {{"PIL", "python3-pil"},
                                                            {"yaml", "python3-yaml"},
                                                            {"cv2", "python3-opencv"},
                                                            {"sklearn", "python3-sklearn"},
                                                            {"json", "python3"}};
  std::string out;
  size_t start = 0;
  while (start < modules.size()) {
    size_t end = modules.find(',', start);
    if (end == std::string::npos) end = modules.size();
    std::string m = modules.substr(start, end - start);
    m.erase(0, m.find_first_not_of(' '));
    m.erase(m.find_last_not_of(' ') + 1);
    m = m.substr(0, m.find('.'));  // torch.nn -> torch
    if (!m.empty()) {
      const auto it = kOther.find(m);
      out += (out.empty() ? "" : " ") + (it != kOther.end() ? it->second : "python3-" + m);
    }
    start = end + 1;
  }
  return out;
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
                                : std::string(kSystemPython) + " cannot import " + modules +
                                      ": install " + debian_packages_of(modules) +
                                      " (scripts/setup.sh)";
    it = answers.emplace(modules, why).first;
  }
  return it->second;
}

}  // namespace repbench::test_support

// Kept for the tests that name the Python stack; the rule is SKIP_OR_FAIL_WITHOUT_FIXTURE's.
#define SKIP_OR_FAIL_WITHOUT_PYTHON(why) SKIP_OR_FAIL_WITHOUT_FIXTURE(why)

// REQUIRE_PYTHON("numpy, PIL"): the test needs these modules of the system Python.
#define REQUIRE_PYTHON(modules) \
  SKIP_OR_FAIL_WITHOUT_PYTHON(::repbench::test_support::python_missing(modules))
