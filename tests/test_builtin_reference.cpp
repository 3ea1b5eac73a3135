// The pixel-level built-in extractors (builtin:tiny, colorhist, dct, patches) against an
// independent numpy/PIL computation of what each is documented to compute
// (tests/reference/builtin_features.py): values, not only dimensions and norms.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
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

}  // namespace
}  // namespace repbench::models
