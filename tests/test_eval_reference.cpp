// The evaluator's reference (tests/reference/revisitop_map.py) on the paths the real-ground-truth
// tests do not take: a gnd.json set with self matches (the query is a database image and its own
// positive, as in GPR1200), Recall@K, and the non-interpolated AP of GPR1200. The reference is
// checked against values worked by hand from the definitions, then `repbench eval` against the
// reference on a larger leave-in set.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/subprocess.h"
#include "support/python_stack.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace repbench {
namespace {

class EvalReference : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("repbench_eval_reference_{}_{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Runs a Python snippet (numpy imported as np) and fails the test when it fails.
  void python(const std::string& code) const {
    std::ofstream(path("fixture.py")) << "import json\nimport numpy as np\n" << code << "\n";
    const ProcessResult r = run_process({test_support::kSystemPython, path("fixture.py")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  json reference(const std::string& ap) const {
    const ProcessResult r = run_process(
        {test_support::kSystemPython,
         std::string(REPBENCH_SOURCE_DIR) + "/tests/reference/revisitop_map.py", "--gnd-json",
         path("gnd.json"), "--q", path("q.npy"), "--db", path("db.npy"), "--ap", ap});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json::object();
  }
  json repbench_eval(const std::string& ap) const {
    const std::string out = path("rec-" + ap + ".json");
    const ProcessResult r =
        run_process({REPBENCH_BINARY, "eval", "--set", path("gnd.json"), "-q", path("q.npy"), "-d",
                     path("db.npy"), "--ap", ap, "--bootstrap", "0", "--out", out});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.exit_code != 0) return json::object();
    std::ifstream in(out);
    return json::parse(in)["metrics"];
  }

  fs::path dir_;
};

// Five unit vectors in the plane; three queries, two of them database images that are their own
// positives (GPR1200's leave-in rule), the third a database image whose only positive is another.
//   x0 = (1, 0), x1 = (0.8, 0.6), x2 = (0.6, 0.8), x3 = (0, 1), x4 = (0.95, -0.3122499)
//   q0 = x0, ok {0, 2}: ranking 0 4 1 2 3 -> positives at ranks 1 and 4
//   q1 = x3, ok {3, 1}: ranking 3 2 1 0 4 -> positives at ranks 1 and 3
//   q2 = x2, ok {0}:    ranking 2 1 3 0 4 -> the positive at rank 4
// GPR1200's AP (sum over the positives of hits / rank, divided by the number of positives):
//   q0 (1/1 + 2/4) / 2 = 0.75, q1 (1/1 + 2/3) / 2 = 5/6, q2 (1/4) / 1 = 0.25; mAP = 11/18.
// revisitop's trapezoid AP (mean of the precisions just before and at each hit, over n):
//   q0 (1 + 1) / 4 + (1/3 + 2/4) / 4 = 17/24, q1 (1 + 1) / 4 + (1/2 + 2/3) / 4 = 19/24,
//   q2 (0/3 + 1/4) / 2 = 1/8; mAP = 13/24.
// Recall@K (a positive within the first K): q0 and q1 at K = 1 (themselves), q2 from K = 4:
//   R@1 = R@2 = 2/3, R@4 = 1.
TEST_F(EvalReference, ReferenceMatchesHandWorkedSelfMatchSet) {
  REQUIRE_PYTHON("numpy");
  python("PATH = '" + path("") +
         "'\n"
         "x = np.array([[1, 0], [0.8, 0.6], [0.6, 0.8], [0, 1], [0.95, -0.3122499]], np.float32)\n"
         "np.save(PATH + 'db.npy', x); np.save(PATH + 'q.npy', x[[0, 3, 2]])\n"
         "json.dump({'schema': 'repbench.gnd/1', 'name': 'hand', 'recall_ks': [1, 2, 4],\n"
         "  'db': ['x0.jpg', 'x1.jpg', 'x2.jpg', 'x3.jpg', 'x4.jpg'],\n"
         "  'queries': [{'image': 'x0.jpg', 'ok': [0, 2], 'junk': []},\n"
         "              {'image': 'x3.jpg', 'ok': [3, 1], 'junk': []},\n"
         "              {'image': 'x2.jpg', 'ok': [0], 'junk': []}]}, open(PATH + 'gnd.json', "
         "'w'))\n");
  const json ni = reference("non-interpolated");
  EXPECT_NEAR(ni["map"].get<double>(), 11.0 / 18, 1e-12);
  EXPECT_NEAR(ni["recall@1"].get<double>(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(ni["recall@2"].get<double>(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(ni["recall@4"].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(ni["queries_scored"], 3);
  const json tr = reference("trapezoid");
  EXPECT_NEAR(tr["map"].get<double>(), 13.0 / 24, 1e-12);
  EXPECT_NEAR(tr["recall@1"].get<double>(), 2.0 / 3, 1e-12);
  // repbench on the same set: the same hand values.
  const json m = repbench_eval("non-interpolated");
  EXPECT_NEAR(m["map"].get<double>(), 11.0 / 18, 1e-6);
  EXPECT_NEAR(m["recall@1"].get<double>(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(m["recall@4"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(repbench_eval("trapezoid")["map"].get<double>(), 13.0 / 24, 1e-6);
}

TEST_F(EvalReference, RepbenchMatchesReferenceOnALeaveInSet) {
  REQUIRE_PYTHON("numpy");
  // GPR1200's shape at small scale: 30 classes of 8 images, every image a query and its own
  // positive; class members drawn towards their class centre so that AP and Recall@K are far
  // from 0 and 1.
  python("PATH = '" + path("") +
         "'\n"
         "rng = np.random.default_rng(7)\n"
         "centres = rng.standard_normal((30, 16))\n"
         "x = np.repeat(centres, 8, axis=0) * 0.6 + rng.standard_normal((240, 16))\n"
         "x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)\n"
         "np.save(PATH + 'db.npy', x); np.save(PATH + 'q.npy', x)\n"
         "json.dump({'schema': 'repbench.gnd/1', 'name': 'leave-in', 'recall_ks': [1, 2, 4, 8],\n"
         "  'db': [f'{i}.jpg' for i in range(240)],\n"
         "  'queries': [{'image': f'{i}.jpg', 'ok': list(range(i // 8 * 8, i // 8 * 8 + 8)),\n"
         "               'junk': []} for i in range(240)]}, open(PATH + 'gnd.json', 'w'))\n");
  for (const std::string ap : {"non-interpolated", "trapezoid"}) {
    SCOPED_TRACE(ap);
    const json ref = reference(ap);
    const json m = repbench_eval(ap);
    ASSERT_TRUE(m.contains("map"));
    EXPECT_NEAR(m["map"].get<double>(), ref["map"].get<double>(), 1e-6);
    EXPECT_GT(ref["map"].get<double>(), 0.1);
    EXPECT_LT(ref["map"].get<double>(), 0.9);
    for (const char* k : {"recall@1", "recall@2", "recall@4", "recall@8"})
      EXPECT_NEAR(m[k].get<double>(), ref[k].get<double>(), 1e-12) << k;
    EXPECT_DOUBLE_EQ(ref["recall@1"].get<double>(), 1.0);  // every query finds itself first
    EXPECT_EQ(m["queries_scored"], 240);
  }
  // The two APs differ on this set, so each comparison above tests its own definition.
  EXPECT_GT(std::abs(reference("non-interpolated")["map"].get<double>() -
                     reference("trapezoid")["map"].get<double>()),
            1e-3);
}

}  // namespace
}  // namespace repbench
