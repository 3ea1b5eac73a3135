// The suite runner: records and leaderboards from a suite file, skipped rows for failing models
// and sets, cache reuse on a rerun, and suite-file errors that name the line.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/npy.h"
#include "datasets/gnd_json.h"
#include "demo/demo_pool.h"
#include "records/record.h"
#include "suite/runner.h"
#include "suite/suite_file.h"
#include "support/bad_input.h"

namespace fs = std::filesystem;
using namespace repbench;

namespace {

class SuiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("repbench_suite_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "set");
    // Four colour-coded images: queries 0 and 1 match db images of the same colour.
    const cv::Scalar colours[] = {{0, 0, 255}, {0, 255, 0}, {255, 0, 0}, {0, 255, 255}};
    for (int i = 0; i < 4; ++i) {
      cv::Mat m(48, 64, CV_8UC3, colours[i]);
      cv::circle(m, {20 + 5 * i, 24}, 8, {255, 255, 255}, -1);
      cv::imwrite((dir_ / "set" / ("db" + std::to_string(i) + ".png")).string(), m);
      if (i < 2) {
        cv::Mat q = m.clone();
        cv::circle(q, {40, 10}, 4, {0, 0, 0}, -1);
        cv::imwrite((dir_ / "set" / ("q" + std::to_string(i) + ".png")).string(), q);
      }
    }
    std::ofstream(dir_ / "set" / "gnd.json") << R"({"schema": "repbench.gnd/1", "name": "colours",
      "db": ["db0.png", "db1.png", "db2.png", "db3.png"],
      "queries": [{"image": "q0.png", "ok": [0], "junk": []},
                  {"image": "q1.png", "ok": [1], "junk": []}]})";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write_suite(const std::string& text) {
    const std::string p = (dir_ / "suite.yaml").string();
    std::ofstream(p) << text;
    return p;
  }
  fs::path dir_;
};

TEST_F(SuiteTest, RunsModelsAndMarksFailuresSkipped) {
  const std::string path = write_suite(
      "output: out\n"
      "models:\n"
      "  - spec: builtin:colorhist\n"
      "    category: baseline\n"
      "  - builtin:tiny\n"
      "  - spec: torchscript:missing_model.pt\n"
      "    name: Missing\n"
      "sets:\n"
      "  - set: set/gnd.json\n"
      "  - set: roxford5k\n"
      "    root: nowhere\n"
      "bootstrap: 100\n"
      "formats: [md, csv]\n");
  suite::Suite s = suite::read_suite(path);
  EXPECT_EQ(s.output, (dir_ / "out").string());
  suite::SuiteRunResult r = suite::run_suite(s, {true});
  // 3 models x 2 sets; every roxford5k row and every row of the missing model is skipped.
  ASSERT_EQ(r.records.size(), 6u);
  EXPECT_EQ(r.records_skipped, 4);
  int ok = 0;
  for (const auto& p : r.records) {
    nlohmann::json rec = records::read_record(p);
    if (rec["status"] == "ok") {
      ++ok;
      EXPECT_EQ(rec["set"], "colours");
      EXPECT_DOUBLE_EQ(rec["metrics"]["map"].get<double>(), 1.0) << p;  // colours match exactly
      EXPECT_EQ(rec["metrics"]["images_failed"], 0);
    } else {
      EXPECT_FALSE(rec["skipped_reason"].get<std::string>().empty());
    }
  }
  EXPECT_EQ(ok, 2);
  const std::string csv = read_file((dir_ / "out" / "leaderboard.csv").string());
  EXPECT_NE(csv.find("baseline,RGB colour histogram"), std::string::npos) << csv;
  EXPECT_NE(r.markdown.find("skipped"), std::string::npos) << r.markdown;
  EXPECT_TRUE(fs::exists(dir_ / "out" / "leaderboard.md"));
  EXPECT_FALSE(fs::exists(dir_ / "out" / "leaderboard.html"));

  // A rerun takes the descriptors from the cache and gives the same numbers.
  suite::SuiteRunResult again = suite::run_suite(s, {true});
  for (const auto& p : again.records) {
    nlohmann::json rec = records::read_record(p);
    if (rec["status"] == "ok") {
      EXPECT_TRUE(rec["timings"]["descriptors_from_cache"].get<bool>());
    }
  }
  EXPECT_EQ(again.markdown, r.markdown);
}

TEST_F(SuiteTest, UndecodableImageIsNamedAndCounted) {
  std::ofstream(dir_ / "set" / "db3.png") << "not a png";
  suite::Suite s = suite::read_suite(write_suite(
      "output: out\nmodels: [builtin:colorhist]\nsets: [{set: set/gnd.json}]\nbootstrap: 0\n"));
  suite::SuiteRunResult r = suite::run_suite(s, {true});
  ASSERT_EQ(r.records.size(), 1u);
  nlohmann::json rec = records::read_record(r.records[0]);
  EXPECT_EQ(rec["status"], "ok");
  EXPECT_EQ(rec["metrics"]["images_failed"], 1);
  EXPECT_NE(rec["metrics"]["images_failed_first"][0].get<std::string>().find("db3.png"),
            std::string::npos);
}

TEST_F(SuiteTest, FastDecodeIsRecordedCachedApartAndNamedUnderTheTable) {
  const std::string base =
      "output: out\nmodels: [builtin:colorhist]\nsets: [{set: set/gnd.json}]\nbootstrap: 0\n";
  suite::Suite full = suite::read_suite(write_suite(base));
  EXPECT_FALSE(full.fast_decode);  // full decoding unless asked
  suite::SuiteRunResult a = suite::run_suite(full, {true});
  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_EQ(records::read_record(a.records[0])["options"]["decoding"], "full");
  EXPECT_EQ(a.markdown.find("--fast-decode"), std::string::npos) << a.markdown;

  suite::Suite fast = suite::read_suite(write_suite(base + "fast_decode: true\n"));
  EXPECT_TRUE(fast.fast_decode);
  suite::SuiteRunResult b = suite::run_suite(fast, {true});
  ASSERT_EQ(b.records.size(), 1u);
  const nlohmann::json rec = records::read_record(b.records[0]);
  EXPECT_EQ(rec["options"]["decoding"], "reduced-jpeg");
  EXPECT_FALSE(rec["timings"]["descriptors_from_cache"].get<bool>());  // not the full entry
  EXPECT_NE(b.markdown.find("Scores of RGB colour histogram (8x8x8) come from descriptors "
                            "computed with --fast-decode"),
            std::string::npos)
      << b.markdown;
  // Both entries stay cached side by side: each mode's rerun is a hit.
  for (const suite::Suite* s : {&full, &fast}) {
    const suite::SuiteRunResult again = suite::run_suite(*s, {true});
    EXPECT_TRUE(
        records::read_record(again.records[0])["timings"]["descriptors_from_cache"].get<bool>())
        << s->fast_decode;
  }
}

TEST_F(SuiteTest, FileErrorsNameTheLine) {
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    const std::string p = write_suite(text);
    EXPECT_TRUE(test_support::is_one_line_error(
        test_support::error_of([&] { suite::read_suite(p); }), needle))
        << text;
  };
  expect_error("output: o\nmodels: [builtin:tiny]\nsets: [{set: x.json}]\nmodles: 3\n",
               "suite.yaml:4: unknown key 'modles' in the suite");
  expect_error("output: o\nmodels:\n  - spec: builtin:tiny\n    nmae: x\nsets: [{set: x.json}]\n",
               "suite.yaml:4: unknown key 'nmae' in models[0]");
  expect_error("output: o\nmodels: [builtin:tiny]\nsets: [{set: x.json}]\nbatch_size: many\n",
               "suite.yaml:4: batch_size has the wrong type");
  expect_error("output: o\nmodels: [builtin:tiny]\nsets: [{set: x.json}]\nfast_decode: maybe\n",
               "suite.yaml:4: fast_decode has the wrong type");
  expect_error("models: [builtin:tiny]\nsets: [{set: x.json}]\n", "'output' is required");
  expect_error("output: [unclosed\n", "not valid YAML");
  // Complex keys (a list as a key) threw yaml-cpp's bad conversion, an internal error; found by
  // the suite_yaml fuzz target (tests/fuzz/).
  expect_error("output: o\n? [models]\n: [builtin:tiny]\nsets: [{set: x.json}]\n",
               "suite.yaml:2: a key in the suite has the wrong type");
  expect_error(
      "output: o\nmodels:\n  - spec: builtin:tiny\n    preprocess:\n      ? [size]\n      : 3\n"
      "sets: [{set: x.json}]\n",
      "suite.yaml:5: models[0].preprocess has a key that is not a string");
}

// Per-model post-processing and the suite's re-ranking: trained once (then read from
// OUTPUT/cache/postprocess), recorded, named under the table; a training file of another
// dimension skips the model's rows with a reason naming it.
TEST_F(SuiteTest, PostprocessAndRerankAreAppliedAndRecorded) {
  const std::string plain = write_suite(
      "output: out\nmodels: [builtin:colorhist]\nsets: [{set: set/gnd.json}]\nbootstrap: 0\n");
  suite::run_suite(suite::read_suite(plain), {true});
  // Training rows: the cached database descriptors, repeated with small perturbations.
  FloatArray db;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "out" / "cache"))
    if (e.path().filename().string().rfind("colours.db.", 0) == 0 && e.path().extension() == ".npy")
      db = read_npy_float(e.path().string());
  ASSERT_EQ(db.rows(), 4);
  const int64_t d = db.row_size();
  std::vector<float> train;
  for (int r = 0; r < 40; ++r)
    for (int64_t c = 0; c < d; ++c)
      train.push_back(db.data[(r % 4) * d + c] + 0.001f * static_cast<float>((r * 7 + c) % 11));
  write_npy((dir_ / "train.npy").string(), train.data(), {40, d});
  std::vector<float> other(40 * (d + 1), 0.5f);
  write_npy((dir_ / "other.npy").string(), other.data(), {40, d + 1});

  const std::string path = write_suite(
      "output: out2\n"
      "models:\n"
      "  - {spec: builtin:colorhist, postprocess: 'PCA3,L2norm', postprocess_train: train.npy}\n"
      "  - {spec: builtin:colorhist, name: Wrong, postprocess: PCA3, postprocess_train: other.npy}\n"
      "sets: [{set: set/gnd.json}]\n"
      "rerank: aqe:k=1,alpha=3;dba:k=2,alpha=3\n"
      "bootstrap: 0\n");
  const suite::Suite s = suite::read_suite(path);
  EXPECT_EQ(s.rerank.to_string(), "dba:k=2,alpha=3;aqe:k=1,alpha=3");  // parsed when read
  EXPECT_EQ(s.models[0].postprocess_train, (dir_ / "train.npy").string());
  const suite::SuiteRunResult r = suite::run_suite(s, {true});
  ASSERT_EQ(r.records.size(), 2u);
  const nlohmann::json ok = records::read_record(r.records[0]);
  ASSERT_EQ(ok["status"], "ok") << ok.dump();
  EXPECT_EQ(ok["options"]["postprocess"]["chain"], "PCA3,L2norm");
  EXPECT_EQ(ok["options"]["postprocess"]["d_out"], 3);
  EXPECT_EQ(ok["options"]["rerank"], "dba:k=2,alpha=3;aqe:k=1,alpha=3");
  EXPECT_FALSE(ok["timings"]["postprocess_from_cache"].get<bool>());
  EXPECT_DOUBLE_EQ(ok["metrics"]["map"].get<double>(), 1.0);  // the colours still match
  const nlohmann::json bad = records::read_record(r.records[1]);
  EXPECT_EQ(bad["status"], "skipped");
  EXPECT_NE(bad["skipped_reason"].get<std::string>().find("other.npy"), std::string::npos)
      << bad.dump();
  EXPECT_NE(r.markdown.find("post-processing PCA3,L2norm, re-ranking dba:k=2,alpha=3"),
            std::string::npos)
      << r.markdown;
  const suite::SuiteRunResult again = suite::run_suite(s, {true});
  EXPECT_TRUE(
      records::read_record(again.records[0])["timings"]["postprocess_from_cache"].get<bool>());
  EXPECT_EQ(records::read_record(again.records[0])["options"], ok["options"]);

  // A malformed rerank string or a chain without its training file is the suite file's error.
  EXPECT_THROW(suite::read_suite(write_suite("output: o\nmodels: [builtin:colorhist]\n"
                                             "sets: [{set: set/gnd.json}]\nrerank: aqe:k=0,alpha=1\n")),
               Error);
  EXPECT_THROW(suite::read_suite(write_suite(
                   "output: o\nmodels: [{spec: builtin:colorhist, postprocess: PCA3}]\n"
                   "sets: [{set: set/gnd.json}]\n")),
               Error);
}

TEST(DemoPool, PairsSetIsWellFormed) {
  EXPECT_EQ(demo::demo_pairs().size(), 13u);
  EXPECT_EQ(demo::demo_pairs()[0], std::make_pair(std::string("aloeL.jpg"), std::string("aloeR.jpg")));
  for (const auto& img : demo::demo_pool()) EXPECT_EQ(std::string(img.sha256).size(), 64u);
}

}  // namespace
