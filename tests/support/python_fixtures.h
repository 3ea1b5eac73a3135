// Fixtures written by a script of tests/fixtures/ run with the system Python, once per build tree
// and per content of the script and of scripts/export_models.py (a changed script writes a fresh
// folder). Safe when several test processes ask at once: each writes a private folder and renames
// it into place.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/atomic_file.h"
#include "core/sha256.h"
#include "python_stack.h"

namespace repbench::test_support {

// The folder `tests/fixtures/SCRIPT` wrote (run as `python SCRIPT OUT_DIR`, beside the test
// binary, under fixtures/NAME-HASH), or "" when they are unavailable; *why_not then says why.
// `modules`: the Python modules the script needs.
inline std::string python_fixture_dir(const std::string& script, const std::string& name,
                                      const std::string& modules, std::string* why_not) {
  namespace fs = std::filesystem;
  static std::mutex mu;
  static std::map<std::string, std::pair<std::string, std::string>> done;  // dir, problem
  const std::lock_guard<std::mutex> lock(mu);
  auto it = done.find(script);
  if (it == done.end()) {
    std::string dir, problem = python_missing(modules);
    if (problem.empty()) {
      const std::string src = REPBENCH_SOURCE_DIR;
      const std::string path = src + "/tests/fixtures/" + script;
      const std::string hash =
          sha256_hex(read_file(path) + read_file(src + "/scripts/export_models.py")).substr(0, 12);
      const fs::path exe_dir = fs::read_symlink("/proc/self/exe").parent_path();
      const fs::path final_dir = exe_dir / "fixtures" / (name + "-" + hash);
      if (!fs::exists(final_dir / "done")) {
        const fs::path tmp = final_dir.string() + fmt::format(".tmp{}", getpid());
        fs::remove_all(tmp);
        fs::create_directories(tmp);
        const std::string cmd = fmt::format("{} {} {} > {}/log.txt 2>&1", kSystemPython, path,
                                            tmp.string(), tmp.string());
        if (std::system(cmd.c_str()) != 0) {
          ADD_FAILURE() << "fixture script failed: " << read_file(tmp.string() + "/log.txt");
          problem = "fixture script " + script + " failed";
        } else {
          std::error_code ec;
          fs::rename(tmp, final_dir, ec);  // another test process may have won the race
          if (ec) fs::remove_all(tmp);
        }
      }
      if (problem.empty()) dir = final_dir.string();
    }
    it = done.emplace(script, std::make_pair(dir, problem)).first;
  }
  if (why_not) *why_not = it->second.second;
  return it->second.first;
}

}  // namespace repbench::test_support
