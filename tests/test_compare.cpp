// Per-query results in records (eval), `repbench compare`, and `leaderboard --check` with its
// rules, end to end through the binary: per-query APs and top ids against the independent
// reference on the real revisitop ground truth, the paired comparison, and one-line errors.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/npy.h"
#include "metrics/paired_test.h"
#include "support/bad_input.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

const std::string kBinary = REPBENCH_BINARY;
const std::string kShared = REPBENCH_SHARED_DIR;
const std::string kSource = REPBENCH_SOURCE_DIR;
const std::string kPython = "/usr/bin/python3";

struct RunResult {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class PerQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name)
      if (c == '/') c = '_';
    dir_ = fs::temp_directory_path() / ("repbench_pq_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  RunResult run(const std::string& args) const {
    RunResult r;
    const std::string out = path("stdout.txt"), err = path("stderr.txt");
    int rc = std::system((args + " >" + out + " 2>" + err).c_str());
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }
  RunResult repbench(const std::string& args) const { return run(kBinary + " " + args); }

  void python(const std::string& code) const {
    const std::string script = path("fixture.py");
    std::ofstream(script) << "import numpy as np, pickle, json, sys\n" << code << "\n";
    RunResult r = run(kPython + " " + script);
    ASSERT_EQ(r.status, 0) << r.err;
  }

  // Descriptors in the set's order, positives drawn towards their query (as test_cli does).
  void write_features(const std::string& gnd_pkl, const std::string& q, const std::string& db,
                      int seed) const {
    python("cfg = pickle.load(open('" + gnd_pkl + "', 'rb'))\n" +
           "rng = np.random.default_rng(" + std::to_string(seed) + ")\n" +
           "nb, nq, d = len(cfg['imlist']), len(cfg['qimlist']), 32\n"
           "q = rng.standard_normal((nq, d)).astype(np.float32)\n"
           "x = rng.standard_normal((nb, d)).astype(np.float32)\n"
           "for i, g in enumerate(cfg['gnd']):\n"
           "    for j in g['easy'] + g['hard'] + g['junk']:\n"
           "        x[j] += rng.uniform(0, 1.5) * q[i]\n"
           "np.save('" + q + "', q)\nnp.save('" + db + "', x)\n");
  }

  // `eval --protocol all` of one feature seed into DIR/rec.{easy,medium,hard}.json.
  void eval_all(const std::string& set, const std::string& dir, int seed) const {
    const std::string gnd = kShared + "/data/gnd/gnd_" + set + ".pkl";
    fs::create_directories(path(dir));
    write_features(gnd, path(dir + "/q.npy"), path(dir + "/db.npy"), seed);
    RunResult r = repbench("eval --set " + set + " --gnd " + gnd + " --protocol all -q " +
                           path(dir + "/q.npy") + " -d " + path(dir + "/db.npy") + " --model m" +
                           std::to_string(seed) + " --out " + path(dir + "/rec.json"));
    ASSERT_EQ(r.status, 0) << r.err;
    fs::remove(path(dir + "/q.npy"));
    fs::remove(path(dir + "/db.npy"));
  }

  fs::path dir_;
};

// The bad-input contract (support/bad_input.h) for a command given no output path: `input`
// named, `problem` said, and each of `also` in the same line.
void expect_bad_input(const RunResult& r, const std::string& input, const std::string& problem,
                      const std::vector<std::string>& also = {}) {
  EXPECT_BAD_INPUT(r, input, problem, repbench::test_support::kNoOutput);
  for (const auto& s : also)
    EXPECT_NE(r.err.find(s), std::string::npos) << "expected '" << s << "' in: " << r.err;
}

// ---- per-query APs and top ids against the independent reference (real ground truth) ----

class PerQueryExactness : public PerQueryTest,
                          public ::testing::WithParamInterface<std::string> {};

TEST_P(PerQueryExactness, ApsTopIdsAndHashMatchTheReference) {
  const std::string set = GetParam();
  const std::string gnd = kShared + "/data/gnd/gnd_" + set + ".pkl";
  write_features(gnd, path("q.npy"), path("db.npy"), set == "roxford5k" ? 1 : 2);
  RunResult r = repbench("eval --set " + set + " --gnd " + gnd + " --protocol all -q " +
                         path("q.npy") + " -d " + path("db.npy") + " --out " + path("rec.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  for (const std::string protocol : {"easy", "medium", "hard"}) {
    RunResult ref = run(kPython + " " + kSource + "/tests/reference/revisitop_map.py --gnd " + gnd +
                        " --protocol " + protocol + " --per-query --q " + path("q.npy") +
                        " --db " + path("db.npy"));
    ASSERT_EQ(ref.status, 0) << ref.err;
    const json expected = json::parse(ref.out);
    const std::string rec_path = path("rec." + protocol + ".json");
    const json record = json::parse(slurp(rec_path));
    EXPECT_EQ(record["schema"], "repbench.record/2");
    const json& pq = record["per_query"];
    const size_t nq = expected["ap"].size();
    ASSERT_EQ(pq["ap"].size(), nq) << protocol;
    ASSERT_EQ(pq["images"].size(), nq);
    ASSERT_EQ(pq["p@1"].size(), nq);
    ASSERT_EQ(pq["p@10"].size(), nq);
    EXPECT_FALSE(pq.contains("recall@1"));  // revisitop sets report no Recall@K
    double sum = 0;
    int scored = 0;
    for (size_t i = 0; i < nq; ++i) {
      ASSERT_EQ(pq["ap"][i].is_null(), expected["ap"][i].is_null()) << protocol << " query " << i;
      EXPECT_EQ(pq["p@5"][i].is_null(), expected["ap"][i].is_null());
      if (expected["ap"][i].is_null()) continue;
      EXPECT_NEAR(pq["ap"][i].get<double>(), expected["ap"][i].get<double>(), 1e-6)
          << protocol << " query " << i;
      sum += pq["ap"][i].get<double>();
      ++scored;
    }
    // The mean of the written APs, summed in query order, is the record's mAP exactly.
    EXPECT_EQ(sum / scored, record["metrics"]["map"].get<double>()) << protocol;
    EXPECT_EQ(scored, record["metrics"]["queries_scored"].get<int>());
    if (set == "roxford5k" && protocol == "easy") {
      EXPECT_EQ(scored, 68);
    }

    // Top ids: int32 [nq, 100] beside the record, equal to the reference ranking's head except
    // where two scores agree to float rounding (numpy and OpenBLAS sum in different orders).
    EXPECT_EQ(pq["top_ids"]["file"], "rec." + protocol + ".top100.npy");
    EXPECT_EQ(pq["top_ids"]["k"], 100);
    const std::string top = path("rec." + protocol + ".top100.npy");
    EXPECT_EQ(repbench::read_npy_header(top).dtype, repbench::NpyDType::kInt32);
    std::vector<int64_t> shape;
    const std::vector<int64_t> ids = repbench::read_npy_int64(top, &shape);
    ASSERT_EQ(shape, (std::vector<int64_t>{static_cast<int64_t>(nq), 100}));
    std::ofstream(path("ids.json")) << json(ids).dump();
    std::ofstream(path("ref_top.json")) << expected["top100"].dump();
    python("q = np.load('" + path("q.npy") + "').astype(np.float64)\n"
           "x = np.load('" + path("db.npy") + "').astype(np.float64)\n"
           "s = q @ x.T\n"
           "ids = np.array(json.load(open('" + path("ids.json") + "'))).reshape(len(q), 100)\n"
           "ref = np.array(json.load(open('" + path("ref_top.json") + "')))\n"
           "assert ref.shape == ids.shape, (ref.shape, ids.shape)\n"
           "rows = np.arange(len(q))[:, None]\n"
           "diff = ids != ref\n"
           "gap = np.abs(s[rows, ids] - s[rows, ref])\n"
           "assert np.all(gap[diff] < 1e-4), gap[diff].max()\n"
           "assert diff.mean() < 0.01, diff.mean()\n");

    // queries_sha256 recomputed from the pickle: 'jpg/NAME.jpg\tok\tjunk\n' per query.
    python("cfg = pickle.load(open('" + gnd + "', 'rb'))\nimport hashlib\n"
           "p = '" + protocol + "'\nh = hashlib.sha256()\n"
           "for name, g in zip(cfg['qimlist'], cfg['gnd']):\n"
           "    e, hd, j = g['easy'], g['hard'], g['junk']\n"
           "    ok, junk = {'easy': (e, j + hd), 'medium': (e + hd, j), 'hard': (hd, j + e)}[p]\n"
           "    f = lambda v: ','.join(str(i) for i in sorted(v))\n"
           "    h.update(f'jpg/{name}.jpg\\t{f(ok)}\\t{f(junk)}\\n'.encode())\n"
           "rec = json.load(open('" + rec_path + "'))\n"
           "assert rec['per_query']['queries_sha256'] == h.hexdigest()\n"
           "assert rec['per_query']['images'][0] == 'jpg/' + cfg['qimlist'][0] + '.jpg'\n");
  }
  // 70 queries add a few kB, on one line per array.
  EXPECT_LT(fs::file_size(path("rec.medium.json")), 20000u);
}

INSTANTIATE_TEST_SUITE_P(Real, PerQueryExactness, ::testing::Values("roxford5k", "rparis6k"));

// ---- compare ----

TEST_F(PerQueryTest, CompareTwoRecordsAndTwoFolders) {
  eval_all("roxford5k", "a", 1);
  eval_all("roxford5k", "b", 3);
  // One record against itself: no difference, p = 1.
  RunResult self = repbench("compare " + path("a/rec.medium.json") + " " +
                            path("a/rec.medium.json") + " --format json");
  ASSERT_EQ(self.status, 0) << self.err;
  const json s = json::parse(self.out);
  ASSERT_EQ(s["sets"].size(), 1u);
  EXPECT_EQ(s["sets"][0]["difference"], 0.0);
  EXPECT_EQ(s["sets"][0]["p_value"], 1.0);
  EXPECT_EQ(s["sets"][0]["ci95"], json::array({0.0, 0.0}));

  RunResult two = repbench("compare " + path("a/rec.medium.json") + " " +
                           path("b/rec.medium.json") + " --format json --resamples 2000");
  ASSERT_EQ(two.status, 0) << two.err;
  const json c = json::parse(two.out);
  const json ra = json::parse(slurp(path("a/rec.medium.json")));
  const json rb = json::parse(slurp(path("b/rec.medium.json")));
  const json& set = c["sets"][0];
  EXPECT_EQ(set["dataset"], "rOxford5k (M)");
  EXPECT_EQ(set["queries"], 70);
  EXPECT_EQ(set["map_a"].get<double>(), ra["metrics"]["map"].get<double>());
  EXPECT_EQ(set["map_b"].get<double>(), rb["metrics"]["map"].get<double>());
  EXPECT_DOUBLE_EQ(set["difference"].get<double>(),
                   ra["metrics"]["map"].get<double>() - rb["metrics"]["map"].get<double>());
  EXPECT_LE(set["ci95"][0].get<double>(), set["difference"].get<double>());
  EXPECT_GE(set["ci95"][1].get<double>(), set["difference"].get<double>());
  EXPECT_FALSE(set["exact"].get<bool>());
  EXPECT_EQ(set["permutations"], 100000);
  EXPECT_EQ(c["options"]["resamples"], 2000);
  // The p-value is the library's sign-flip test of the per-query differences.
  std::vector<double> d;
  for (size_t i = 0; i < ra["per_query"]["ap"].size(); ++i)
    d.push_back(ra["per_query"]["ap"][i].get<double>() - rb["per_query"]["ap"][i].get<double>());
  EXPECT_DOUBLE_EQ(set["p_value"].get<double>(), repbench::metrics::sign_flip_p_value(d));
  EXPECT_EQ(set["p_holm"], set["p_value"]);  // one set: Holm changes nothing

  // Two folders: easy, medium and hard are shared; Holm across the three.
  RunResult folders = repbench("compare " + path("a") + " " + path("b") + " --format json");
  ASSERT_EQ(folders.status, 0) << folders.err;
  const json f = json::parse(folders.out);
  ASSERT_EQ(f["sets"].size(), 3u);
  std::vector<double> p;
  for (const auto& x : f["sets"]) p.push_back(x["p_value"].get<double>());
  const std::vector<double> holm = repbench::metrics::holm_adjust(p);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(f["sets"][i]["p_holm"].get<double>(), holm[i]);
    EXPECT_GE(holm[i], p[i]);
  }
  for (const char* fmt : {"text", "md"}) {
    RunResult t = repbench("compare " + path("a") + " " + path("b") + " --format " + fmt);
    ASSERT_EQ(t.status, 0) << t.err;
    EXPECT_THAT(t.out, HasSubstr("rOxford5k (H)"));
    EXPECT_THAT(t.out, HasSubstr("m1"));
    EXPECT_THAT(t.out, HasSubstr("Holm"));
  }
}

TEST_F(PerQueryTest, CompareRefusesWithOneLine) {
  eval_all("roxford5k", "a", 1);
  const std::string easy = path("a/rec.easy.json"), medium = path("a/rec.medium.json");
  // Different protocols.
  expect_bad_input(repbench("compare " + easy + " " + medium), easy, "different", {medium});
  // No per-query data (a repbench.record/1 record).
  json old = json::parse(slurp(medium));
  old.erase("per_query");
  old["schema"] = "repbench.record/1";
  repbench::write_file_atomic(path("old.json"), old.dump(2));
  expect_bad_input(repbench("compare " + medium + " " + path("old.json")), path("old.json"),
                   "no per-query data", {medium});
  // Other queries or ground truth.
  json other = json::parse(slurp(medium));
  other["per_query"]["queries_sha256"] = std::string(64, 'a');
  repbench::write_file_atomic(path("other.json"), other.dump(2));
  expect_bad_input(repbench("compare " + medium + " " + path("other.json")), path("other.json"),
                   "different queries", {medium});
  // Another schema.
  json alien = json::parse(slurp(medium));
  alien["schema"] = "repbench.record/9";
  repbench::write_file_atomic(path("alien.json"), alien.dump(2));
  expect_bad_input(repbench("compare " + medium + " " + path("alien.json")), path("alien.json"),
                   "schema");
  // A malformed per-query block.
  json bad = json::parse(slurp(medium));
  bad["per_query"]["ap"][3] = 1.5;
  repbench::write_file_atomic(path("bad.json"), bad.dump(2));
  expect_bad_input(repbench("compare " + medium + " " + path("bad.json")), path("bad.json"),
                   "per_query.ap[3]");
  // A file against a folder.
  expect_bad_input(repbench("compare " + medium + " " + path("a")), path("a"), "two record files",
                   {medium});
}

TEST_F(PerQueryTest, OldRecordsStillRenderWithPerQueryUnavailable) {
  eval_all("roxford5k", "a", 1);
  json old = json::parse(slurp(path("a/rec.medium.json")));
  old.erase("per_query");
  old["schema"] = "repbench.record/1";
  old["model"]["name"] = "old model";
  fs::create_directories(path("old"));
  repbench::write_file_atomic(path("old/rec.json"), old.dump(2));
  RunResult r = repbench("leaderboard --records " + path("old") + " " + path("a/rec.medium.json") +
                         " --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  const json board = json::parse(r.out);
  ASSERT_EQ(board["rows"].size(), 2u);
  for (const auto& row : board["rows"]) {
    const json& cell = row["cells"][0];
    if (row["model"] == "old model") {
      EXPECT_TRUE(cell["per_query"].is_null());
    } else {
      EXPECT_EQ(cell["per_query"]["ap"].size(), 70u);
    }
  }
}

// ---- leaderboard --check rules on records (issue 19) ----

// A record of `model` on IN-Cutmix with 51 per-query APs averaging `map`.
json cutmix_record(const std::string& model, const std::vector<double>& ap) {
  double sum = 0;
  for (double v : ap) sum += v;
  json images = json::array();
  for (size_t i = 0; i < ap.size(); ++i) images.push_back("queries/" + std::to_string(i) + ".jpg");
  return {{"schema", "repbench.record/2"},
          {"model", {{"name", model}, {"category", "other"}}},
          {"set", "in-cutmix"},
          {"protocol", "default"},
          {"dataset", "IN-Cutmix"},
          {"status", "ok"},
          {"metrics", {{"map", sum / ap.size()}, {"map_ci95", {0.608, 0.821}}}},
          {"per_query",
           {{"images", images},
            {"ap", ap},
            {"queries_sha256", std::string(64, 'c')},
            {"top_ids", {{"file", "x.top100.npy"}, {"k", 100}}}}}};
}

std::vector<double> tiny_aps() {  // 51 queries, mean 0.7145
  std::vector<double> ap;
  for (int i = 0; i < 51; ++i) ap.push_back(0.7145 + 0.25 * (i % 3 - 1));
  return ap;
}

class CheckRules : public PerQueryTest {
 protected:
  void SetUp() override {
    PerQueryTest::SetUp();
    fs::create_directories(path("now"));
    write("now/tiny.json", cutmix_record("Tiny image", tiny_aps()));
    std::vector<double> other = tiny_aps();
    for (double& v : other) v *= 0.9;
    write("now/hist.json", cutmix_record("Color hist", other));
    ASSERT_EQ(repbench("leaderboard --records " + path("now") + " --format json -o " +
                       path("base.json"))
                  .status,
              0);
  }
  void write(const std::string& name, const json& j) const {
    repbench::write_file_atomic(path(name), j.dump(2));
  }
  RunResult check(const std::string& extra) const {
    return repbench("leaderboard --records " + path("now") + " --check " + path("base.json") + " " +
                    extra);
  }
  // The 8-point drop: 40 of the 51 queries lose 0.102 each, mAP 71.45 -> 63.45.
  void drop() const {
    std::vector<double> ap = tiny_aps();
    for (int i = 0; i < 40; ++i) ap[i] -= 0.08 * 51 / 40;
    write("now/tiny.json", cutmix_record("Tiny image", ap));
  }
};

TEST_F(CheckRules, UnchangedRerunPassesUnderEveryRule) {
  for (const char* rule : {"", "--tolerance 10", "--significant-only", "--within-interval"}) {
    RunResult r = check(rule);
    EXPECT_EQ(r.status, 0) << rule << "\n" << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr(": OK (2 unchanged; rule: ")) << rule;
  }
}

TEST_F(CheckRules, EightPointDropFailsByDefaultAndWhenSignificant) {
  drop();
  RunResult exact = check("");
  EXPECT_EQ(exact.status, 1) << exact.out << exact.err;
  EXPECT_THAT(exact.out, HasSubstr("FAILED (1 changed, 1 unchanged; rule: any change fails)"));
  EXPECT_THAT(exact.out,
              HasSubstr("FAIL changed           Tiny image | IN-Cutmix: 71.45 -> 63.45 (-8.00 pp, "
                        "down)"));
  RunResult sig = check("--significant-only");
  EXPECT_EQ(sig.status, 1) << sig.out << sig.err;
  EXPECT_THAT(sig.out, HasSubstr("FAIL significant       Tiny image | IN-Cutmix: 71.45 -> 63.45"));
  EXPECT_THAT(sig.out, HasSubstr("1 significant, 1 unchanged"));
  RunResult tol = check("--tolerance 10");
  EXPECT_EQ(tol.status, 0) << tol.out << tol.err;
  EXPECT_THAT(tol.out, HasSubstr("ok   within tolerance"));
  RunResult interval = check("--within-interval");
  EXPECT_EQ(interval.status, 0) << interval.out << interval.err;
  EXPECT_THAT(interval.out, HasSubstr("ok   inside interval"));
  EXPECT_THAT(interval.out, HasSubstr("allowed 60.80 .. 82.10"));
  // The machine-readable report.
  RunResult j = check("--format json");
  EXPECT_EQ(j.status, 1);
  const json report = json::parse(j.out);
  EXPECT_EQ(report["rule"], "exact");
  EXPECT_TRUE(report["failed"].get<bool>());
  EXPECT_EQ(report["counts"]["changed"], 1);
  EXPECT_EQ(report["counts"]["unchanged"], 1);
  ASSERT_EQ(report["items"].size(), 1u);
  EXPECT_EQ(report["items"][0]["direction"], "down");
  EXPECT_NEAR(report["items"][0]["before"].get<double>(), 71.45, 1e-9);
  EXPECT_NEAR(report["items"][0]["after"].get<double>(), 63.45, 1e-9);
}

TEST_F(CheckRules, SmallNoiseIsNotSignificantButIsAChange) {
  // Ten queries move by +-0.01 in both directions: the mean moves, nothing significant.
  std::vector<double> ap = tiny_aps();
  for (int i = 0; i < 10; ++i) ap[i] += i % 2 ? 0.01 : -0.012;
  write("now/tiny.json", cutmix_record("Tiny image", ap));
  EXPECT_EQ(check("").status, 1);
  RunResult sig = check("--significant-only");
  EXPECT_EQ(sig.status, 0) << sig.out;
  EXPECT_THAT(sig.out, HasSubstr("ok   not significant"));
}

TEST_F(CheckRules, BadInputExitsTwoWithOneLine) {
  // A baseline of another schema.
  json base = json::parse(slurp(path("base.json")));
  base["schema"] = "repbench.leaderboard/9";
  write("alien.json", base);
  expect_bad_input(
      repbench("leaderboard --records " + path("now") + " --check " + path("alien.json")),
      path("alien.json"), "schema");
  // A baseline without per-query data under --significant-only (never a silent pass).
  json bare = json::parse(slurp(path("base.json")));
  for (auto& row : bare["rows"]) row["cells"][0]["per_query"] = nullptr;
  write("bare.json", bare);
  expect_bad_input(repbench("leaderboard --records " + path("now") + " --check " +
                            path("bare.json") + " --significant-only"),
                   path("bare.json"), "no per-query data");
  // A CSV baseline has none either.
  ASSERT_EQ(repbench("leaderboard --records " + path("now") + " --format csv -o " +
                     path("base.csv"))
                .status,
            0);
  expect_bad_input(repbench("leaderboard --records " + path("now") + " --check " +
                            path("base.csv") + " --significant-only"),
                   path("base.csv"), "per-query");
  // A record without per-query data under --significant-only.
  json tiny = cutmix_record("Tiny image", tiny_aps());
  tiny.erase("per_query");
  write("now/tiny.json", tiny);
  expect_bad_input(check("--significant-only"), path("now/tiny.json"), "no per-query data");
  // Another ground truth.
  json moved = cutmix_record("Tiny image", tiny_aps());
  moved["per_query"]["queries_sha256"] = std::string(64, 'd');
  write("now/tiny.json", moved);
  expect_bad_input(check("--significant-only"), path("now"), "different queries");
}

}  // namespace
