// The pixel-level built-in extractors (builtin:tiny, colorhist, dct, patches) against an
// independent numpy/PIL computation of what each is documented to compute
// (tests/reference/builtin_features.py): values, not only dimensions and norms. The same for the
// LibTorch builtin:randcnn on real photographs (tests/reference/randcnn_features.py), and the
// fixture rule (support/required_fixture.h) shown on that test.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "models/pipeline.h"
#include "models/registry.h"
#include "support/python_stack.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace repbench::models {
namespace {

TEST(BuiltinReference, DescriptorsMatchNumpyAndPil) {
  REQUIRE_PYTHON("numpy, PIL");
  const fs::path dir =
      fs::temp_directory_path() / fmt::format("repbench_builtin_reference_{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string cmd =
      fmt::format("{} {}/tests/reference/builtin_features.py {} 2>&1", test_support::kSystemPython,
                  REPBENCH_SOURCE_DIR, dir.string());
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(dir / "cases.json");
  const json cases = json::parse(in);
  ASSERT_EQ(cases.size(), 7u);
  PipelineOptions quiet;
  quiet.progress = ProgressMode::kOff;
  for (const json& c : cases) {
    const std::string spec = c["spec"];
    SCOPED_TRACE(spec);
    std::vector<ImageItem> items;
    for (const json& p : c["images"]) items.push_back({p.get<std::string>(), std::nullopt});
    auto ex = create_extractor(spec);
    const Extraction x = extract_features(*ex, items, quiet);
    const FloatArray expected = read_npy_float(c["expected"].get<std::string>());
    ASSERT_EQ(x.features.shape, expected.shape);
    // Unit vectors computed in float32 (C++) and float64 (numpy) from the same 8-bit pixels: a
    // wrong coefficient, order or normalisation moves entries by far more than 1e-5.
    for (size_t i = 0; i < expected.data.size(); ++i)
      ASSERT_NEAR(x.features.data[i], expected.data[i], 1e-5) << "entry " << i;
  }
  fs::remove_all(dir);
}

// builtin:randcnn against numpy: its SplitMix64 weights, four stride-2 convolutions with ReLU, GeM
// (p = 3) and L2, on 96x128 pieces of opencv-doc photographs handed over unresized (resize
// "none"), so only the network is compared. Average pooling in place of GeM, a transposed
// weight layout or another seed's stream each move entries by far more than 1e-5.
TEST(BuiltinReference, RandCnnMatchesNumpyOnPhotographs) {
  SKIP_OR_FAIL_WITHOUT_FIXTURE(test_support::photographs_missing(
      {"baboon.jpg", "fruits.jpg", "home.jpg", "aloeL.jpg", "building.jpg"}));
  REQUIRE_PYTHON("numpy, PIL");
  const fs::path dir =
      fs::temp_directory_path() / fmt::format("repbench_randcnn_reference_{}", ::getpid());
  fs::remove_all(dir);
  const std::string cmd = fmt::format("{} {}/tests/reference/randcnn_features.py {} {} 11 48 2>&1",
                                      test_support::kSystemPython, REPBENCH_SOURCE_DIR,
                                      test_support::photos_dir(), dir.string());
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::vector<ImageItem> items;
  for (int i = 0; i < 5; ++i)
    items.push_back({(dir / "images" / fmt::format("{}.png", i)).string(), std::nullopt});
  ExtractorOptions opt;
  opt.threads = 2;
  opt.preprocess = {{"resize", "none"}, {"crop", 0}};
  auto ex = create_extractor("builtin:randcnn?seed=11&dim=48", opt);
  PipelineOptions quiet;
  quiet.progress = ProgressMode::kOff;
  const Extraction x = extract_features(*ex, items, quiet);
  const FloatArray expected = read_npy_float((dir / "expected.npy").string());
  ASSERT_EQ(expected.shape, (std::vector<int64_t>{5, 48}));
  ASSERT_EQ(x.features.shape, expected.shape);
  for (size_t i = 0; i < expected.data.size(); ++i)
    ASSERT_NEAR(x.features.data[i], expected.data[i], 1e-5) << "entry " << i;
  fs::remove_all(dir);
}

// The fixture rule, shown on the test above with its photographs pointed at a missing folder
// (REPBENCH_TEST_PHOTOS): it skips, naming opencv-doc, and fails where REPBENCH_REQUIRE_FIXTURES=1
// (as .ci/run sets it).
TEST(FixtureRule, AMissingFixtureSkipsLocallyAndFailsWhereRequired) {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const fs::path log =
      fs::temp_directory_path() / fmt::format("repbench_fixture_rule_{}.log", ::getpid());
  auto run = [&](const std::string& required) {
    const std::string cmd = fmt::format(
        "env -u REPBENCH_REQUIRE_FIXTURES -u REPBENCH_REQUIRE_PYTHON_STACK {} "
        "REPBENCH_TEST_PHOTOS=/nonexistent/repbench-photos {} "
        "--gtest_filter=BuiltinReference.RandCnnMatchesNumpyOnPhotographs >{} 2>&1",
        required, self, log.string());
    const int rc = std::system(cmd.c_str());
    std::ifstream in(log);
    std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The child's "[  SKIPPED ]" would make ctest report this test as skipped when it prints the
    // output on failure: the marker is spelled without its brackets.
    for (size_t at; (at = out.find("[  SKIPPED ]")) != std::string::npos;)
      out.replace(at, 12, "(  SKIPPED )");
    return std::make_pair(WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out);
  };
  const auto [local_rc, local] = run("");
  EXPECT_EQ(local_rc, 0) << local;
  EXPECT_NE(local.find("(  SKIPPED ) BuiltinReference.RandCnnMatchesNumpyOnPhotographs"),
            std::string::npos)
      << local;
  const auto [ci_rc, ci] = run("REPBENCH_REQUIRE_FIXTURES=1");
  EXPECT_NE(ci_rc, 0) << ci;
  EXPECT_NE(ci.find("[  FAILED  ] BuiltinReference.RandCnnMatchesNumpyOnPhotographs"),
            std::string::npos)
      << ci;
  EXPECT_NE(ci.find("/nonexistent/repbench-photos/baboon.jpg is missing: install Debian's "
                    "opencv-doc"),
            std::string::npos)
      << ci;
  fs::remove(log);
}

}  // namespace
}  // namespace repbench::models
