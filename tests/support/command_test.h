// A test fixture for tests that run `repbench` as a user would: a temporary folder of its own per
// test (named after the test; kept when the test failed, for a look), and commands run with their
// stdout and stderr captured. REPBENCH_BINARY is the built executable (tests/CMakeLists.txt).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

namespace repbench::test_support {

// The whole file, "" when it cannot be read.
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class CommandTest : public ::testing::Test {
 protected:
  explicit CommandTest(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name)
      if (c == '/') c = '_';
    dir_ = std::filesystem::temp_directory_path() /
           ("repbench_" + prefix_ + "_" + std::to_string(::getpid()) + "_" + name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  struct Run {
    int status = -1;
    std::string out, err;
  };
  // `repbench ARGS` (a shell command line after the executable's name).
  Run repbench(const std::string& args) const {
    Run r;
    const std::string out = path("stdout.txt"), err = path("stderr.txt");
    const int rc = std::system((std::string(REPBENCH_BINARY) + " " + args + " >" + out + " 2>" +
                                err)
                                   .c_str());
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  std::filesystem::path dir_;

 private:
  std::string prefix_;
};

}  // namespace repbench::test_support
