// A fresh folder under the system temp dir for one test, removed when it goes out of scope; the
// one copy for the test suites (test_report, test_leaderboard_check, test_scan_report and
// test_experiment still hold their own and can include this instead).
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

namespace repbench::tests {

class TempDir {
 public:
  // `suite` names the folder (repbench_<suite>_<pid>_<n>), so leftovers say whose they are.
  explicit TempDir(const std::string& suite) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("repbench_" + suite + "_" + std::to_string(::getpid()) + "_" +
             std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace repbench::tests
