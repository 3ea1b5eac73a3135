// A fresh folder under the system temp dir for one test, removed when it goes out of scope; the
// one copy for the test suites (each names its folders through a small subclass or directly).
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
  std::string operator/(const std::string& name) const { return file(name); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace repbench::tests
