// Descriptor post-processing (postprocess/) and re-ranking (metrics/rerank): PCA-whitening and
// its L2norm chain against an independent numpy eigen-decomposition (tests/reference/
// pca_whitening.py), DBA and alpha-QE against tests/reference/rerank.py, the cache of trained
// chains, the parsers, and the command line's one-line errors.
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/descriptors.h"
#include "core/npy.h"
#include "core/sha256.h"
#include "metrics/rerank.h"
#include "postprocess/postprocess.h"
#include "support/bad_input.h"
#include "support/python_stack.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using nlohmann::json;
using repbench::FloatArray;
using repbench::tests::TempDir;

namespace {

const std::string kSource = REPBENCH_SOURCE_DIR;
const std::string kBinary = REPBENCH_BINARY;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// n rows of d values with well separated variances along a random rotation (so the eigenvectors
// are well defined) and a non-zero mean.
FloatArray gaussian_rows(int64_t n, int64_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g;
  std::vector<double> rot(static_cast<size_t>(d * d));
  for (double& v : rot) v = g(rng);
  FloatArray a;
  a.shape = {n, d};
  a.data.resize(static_cast<size_t>(n * d));
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> z(static_cast<size_t>(d));
    for (int64_t c = 0; c < d; ++c) z[c] = g(rng) * (1.0 + 0.5 * static_cast<double>(d - c));
    for (int64_t c = 0; c < d; ++c) {
      double s = 0.3 * static_cast<double>(c);
      for (int64_t k = 0; k < d; ++k) s += rot[k * d + c] * z[k];
      a.data[i * d + c] = static_cast<float>(s);
    }
  }
  return a;
}

void save(const std::string& path, const FloatArray& a) { repbench::write_npy(path, a.data.data(), a.shape); }

int run_python(const std::string& args) {
  const int rc = std::system(("/usr/bin/python3 " + args).c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Largest difference of `ours` to `ref` with each column's sign chosen to agree (eigenvectors,
// hence PCA components, are defined up to sign).
double max_diff_up_to_sign(const FloatArray& ours, const FloatArray& ref) {
  EXPECT_EQ(ours.shape, ref.shape);
  const int64_t n = ref.rows(), d = ref.row_size();
  double worst = 0;
  for (int64_t c = 0; c < d; ++c) {
    double dot = 0;
    for (int64_t i = 0; i < n; ++i) dot += double{ours.data[i * d + c]} * ref.data[i * d + c];
    const double sign = dot < 0 ? -1 : 1;
    for (int64_t i = 0; i < n; ++i)
      worst = std::max(worst, std::abs(sign * ours.data[i * d + c] - ref.data[i * d + c]));
  }
  return worst;
}

double max_diff(const FloatArray& a, const FloatArray& b) {
  EXPECT_EQ(a.shape, b.shape);
  double worst = 0;
  for (size_t i = 0; i < a.data.size() && i < b.data.size(); ++i)
    worst = std::max(worst, double{std::abs(a.data[i] - b.data[i])});
  return worst;
}

struct Fixture {
  TempDir dir{"postprocess"};
  FloatArray train = gaussian_rows(3000, 16, 1), x = gaussian_rows(40, 16, 2);
  Fixture() {
    save(dir.file("train.npy"), train);
    save(dir.file("x.npy"), x);
  }
};

TEST(Postprocess, PcaWhiteningEqualsNumpyEigendecomposition) {
  REQUIRE_PYTHON("numpy");
  Fixture f;
  const auto p = repbench::postprocess::Postprocessor::prepare("PCAW8", f.dir.file("train.npy"),
                                                               f.dir.file("cache"), 16);
  EXPECT_EQ(p.d_in(), 16);
  EXPECT_EQ(p.d_out(), 8);
  FloatArray y = f.x;
  p.apply(y, "x.npy");
  ASSERT_EQ(run_python(kSource + "/tests/reference/pca_whitening.py " + f.dir.file("train.npy") +
                       " " + f.dir.file("x.npy") + " 8 " + f.dir.file("ref.npy")),
            0);
  const FloatArray ref = repbench::read_npy_float(f.dir.file("ref.npy"));
  EXPECT_LT(max_diff_up_to_sign(y, ref), 1e-4);
  // Not vacuous: the components have the scale of whitened values (1/sqrt(n) per unit).
  double norm = 0;
  for (float v : ref.data) norm += double{v} * v;
  EXPECT_GT(norm, 1e-3);
}

TEST(Postprocess, PcaWhiteningThenL2normEqualsNumpy) {
  REQUIRE_PYTHON("numpy");
  Fixture f;
  const auto p = repbench::postprocess::Postprocessor::prepare(
      "PCAW8,L2norm", f.dir.file("train.npy"), f.dir.file("cache"), 16);
  FloatArray y = f.x;
  p.apply(y, "x.npy");
  ASSERT_EQ(run_python(kSource + "/tests/reference/pca_whitening.py " + f.dir.file("train.npy") +
                       " " + f.dir.file("x.npy") + " 8 " + f.dir.file("ref.npy") + " --l2norm"),
            0);
  const FloatArray ref = repbench::read_npy_float(f.dir.file("ref.npy"));
  EXPECT_LT(max_diff_up_to_sign(y, ref), 1e-4);
  for (int64_t i = 0; i < y.rows(); ++i) {
    double s = 0;
    for (int64_t c = 0; c < 8; ++c) s += double{y.data[i * 8 + c]} * y.data[i * 8 + c];
    EXPECT_NEAR(s, 1.0, 1e-5);
  }
}

TEST(Postprocess, L2normAloneNormalisesRows) {
  Fixture f;
  const auto p = repbench::postprocess::Postprocessor::prepare("L2norm", f.dir.file("train.npy"),
                                                               f.dir.file("cache"), 16);
  FloatArray y = f.x, expected = f.x;
  p.apply(y, "x.npy");
  repbench::l2_normalize_rows(expected);
  EXPECT_LT(max_diff(y, expected), 1e-6);
}

TEST(Postprocess, TrainedChainIsCachedAndReused) {
  Fixture f;
  namespace pp = repbench::postprocess;
  const auto first = pp::Postprocessor::prepare("PCAW8,L2norm", f.dir.file("train.npy"),
                                                f.dir.file("cache"), 16);
  EXPECT_FALSE(first.from_cache());
  ASSERT_TRUE(fs::exists(first.cache_file()));
  const auto written = fs::last_write_time(first.cache_file());
  const json j1 = first.to_json();
  EXPECT_EQ(j1["transform_sha256"], repbench::sha256_file(first.cache_file()));
  EXPECT_EQ(j1["train_sha256"], repbench::sha256_file(f.dir.file("train.npy")));
  EXPECT_EQ(j1["chain"], "PCAW8,L2norm");

  const auto second = pp::Postprocessor::prepare("PCAW8,L2norm", f.dir.file("train.npy"),
                                                 f.dir.file("cache"), 16);
  EXPECT_TRUE(second.from_cache());
  EXPECT_EQ(second.cache_file(), first.cache_file());
  EXPECT_EQ(fs::last_write_time(second.cache_file()), written);  // not written again
  EXPECT_EQ(second.to_json(), j1);
  FloatArray a = f.x, b = f.x;
  first.apply(a, "x");
  second.apply(b, "x");
  EXPECT_EQ(a.data, b.data);

  // Other training bytes are another key: trained afresh, the first entry left as it was.
  FloatArray other = f.train;
  other.data[0] += 1.0f;
  save(f.dir.file("train2.npy"), other);
  const auto third = pp::Postprocessor::prepare("PCAW8,L2norm", f.dir.file("train2.npy"),
                                                f.dir.file("cache"), 16);
  EXPECT_FALSE(third.from_cache());
  EXPECT_NE(third.cache_file(), first.cache_file());
  // A damaged entry is trained again, not read.
  { std::ofstream(first.cache_file(), std::ios::app) << "x"; }
  const auto fourth = pp::Postprocessor::prepare("PCAW8,L2norm", f.dir.file("train.npy"),
                                                 f.dir.file("cache"), 16);
  EXPECT_FALSE(fourth.from_cache());
  EXPECT_EQ(fourth.to_json(), j1);
}

TEST(Postprocess, RefusedChainsAndBadTrainingFiles) {
  Fixture f;
  namespace pp = repbench::postprocess;
  const std::string train = f.dir.file("train.npy"), cache = f.dir.file("cache");
  EXPECT_ERROR_CONTAINS(pp::Postprocessor::prepare("PCAW8,Bogus3", train, cache, 16), "PCAW8,Bogus3");
  EXPECT_ERROR_CONTAINS(pp::Postprocessor::prepare("IVF4", train, cache, 16), "not a chain");
  EXPECT_ERROR_CONTAINS(pp::Postprocessor::prepare("PCA8,,L2norm", train, cache, 16), "empty");
  EXPECT_ERROR_CONTAINS(pp::Postprocessor::prepare("PCA 8", train, cache, 16), "character");
  EXPECT_ERROR_CONTAINS(pp::Postprocessor::prepare("PCA123456", train, cache, 16), "digits");
  // The training file's dimension must be the descriptors'.
  EXPECT_ERROR_CONTAINS(pp::Postprocessor::prepare("PCAW8", train, cache, 32), train);
  EXPECT_ERROR_CONTAINS(pp::Postprocessor::prepare("PCAW8", train, cache, 32), "dimension 16");
  EXPECT_ERROR_CONTAINS(pp::Postprocessor::prepare("PCAW8", f.dir.file("none.npy"), cache, 16),
                        "none.npy");
  // Whitening 8 components from 4 rows divides by zero eigenvalues.
  FloatArray few = gaussian_rows(4, 16, 3);
  save(f.dir.file("few.npy"), few);
  EXPECT_ERROR_CONTAINS(pp::Postprocessor::prepare("PCAW8", f.dir.file("few.npy"), cache, 16),
                        "few.npy");
  const auto p = pp::Postprocessor::prepare("PCA8", train, cache, 16);
  FloatArray wrong = gaussian_rows(3, 12, 4);
  EXPECT_ERROR_CONTAINS(p.apply(wrong, "q.npy"), "q.npy");
  EXPECT_EQ(pp::check_chain("PCAW8,L2norm", 16), 8);
  EXPECT_EQ(pp::check_chain("L2norm", 16), 16);
}

TEST(Rerank, ParsesTheGrammar) {
  using repbench::metrics::parse_rerank;
  EXPECT_EQ(parse_rerank("aqe:k=2,alpha=3").to_string(), "aqe:k=2,alpha=3");
  EXPECT_EQ(parse_rerank("aqe:alpha=0.5,k=10;dba:k=3,alpha=1").to_string(),
            "dba:k=3,alpha=1;aqe:k=10,alpha=0.5");
  const auto s = parse_rerank("dba:k=4,alpha=2.5");
  ASSERT_TRUE(s.dba);
  EXPECT_FALSE(s.aqe);
  EXPECT_EQ(s.dba->k, 4);
  EXPECT_DOUBLE_EQ(s.dba->alpha, 2.5);
  for (const char* bad : {"", "aqe", "aqe:k=2", "aqe:k=2,alpha=3;aqe:k=1,alpha=1", "qe:k=2,alpha=3",
                          "aqe:k=0,alpha=3", "aqe:k=2.5,alpha=3", "aqe:k=2,alpha=-1",
                          "aqe:k=2,alpha=nan", "aqe:k=2,alpha=3,", "aqe:k=2,k=3,alpha=1",
                          "aqe:k=2,alpha=3;", "aqe:k=2,beta=3"})
    EXPECT_ERROR_CONTAINS(parse_rerank(bad), "--rerank");
}

// DBA, alpha-QE and both against tests/reference/rerank.py.
TEST(Rerank, EqualsNumpyReference) {
  REQUIRE_PYTHON("numpy");
  TempDir dir("rerank");
  FloatArray q = gaussian_rows(25, 12, 7), db = gaussian_rows(140, 12, 8);
  save(dir.file("q.npy"), q);
  save(dir.file("db.npy"), db);
  repbench::l2_normalize_rows(q);
  repbench::l2_normalize_rows(db);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"aqe:k=2,alpha=3", "aqe:2:3"},
      {"dba:k=3,alpha=3", "dba:3:3"},
      {"dba:k=5,alpha=1.5;aqe:k=4,alpha=0", "dba:5:1.5,aqe:4:0"},
  };
  for (const auto& [spec, steps] : cases) {
    SCOPED_TRACE(spec);
    FloatArray q2 = q, db2 = db;
    repbench::metrics::apply_rerank(repbench::metrics::parse_rerank(spec), q2, db2, 2);
    ASSERT_EQ(run_python(kSource + "/tests/reference/rerank.py " + dir.file("q.npy") + " " +
                         dir.file("db.npy") + " " + steps + " " + dir.file("rq.npy") + " " +
                         dir.file("rdb.npy")),
              0);
    const FloatArray rq = repbench::read_npy_float(dir.file("rq.npy"));
    const FloatArray rdb = repbench::read_npy_float(dir.file("rdb.npy"));
    EXPECT_LT(max_diff(q2, rq), 1e-5);
    EXPECT_LT(max_diff(db2, rdb), 1e-5);
    EXPECT_GT(max_diff(q2, q) + max_diff(db2, db), 1e-2);  // something moved
  }
}

// --- the command line ------------------------------------------------------------------------

struct RunResult {
  int status = -1;
  std::string out, err;
};

RunResult repbench_run(const TempDir& dir, const std::string& args) {
  RunResult r;
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  const int rc = std::system((kBinary + " " + args + " >" + out + " 2>" + err).c_str());
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// A gnd.json set of 40 database images and 5 queries over 16-dimensional descriptors.
struct CliFixture {
  TempDir dir{"postprocess_cli"};
  CliFixture() {
    json gnd = {{"schema", "repbench.gnd/1"}, {"name", "pp"}};
    for (int i = 0; i < 40; ++i) gnd["db"].push_back("db" + std::to_string(i) + ".jpg");
    for (int i = 0; i < 5; ++i)
      gnd["queries"].push_back({{"image", "q" + std::to_string(i) + ".jpg"},
                                {"ok", {i, i + 5, i + 10}},
                                {"junk", json::array()}});
    std::ofstream(dir.file("gnd.json")) << gnd.dump();
    save(dir.file("q.npy"), gaussian_rows(5, 16, 11));
    save(dir.file("db.npy"), gaussian_rows(40, 16, 12));
    save(dir.file("train.npy"), gaussian_rows(500, 16, 13));
    save(dir.file("train32.npy"), gaussian_rows(100, 32, 14));
  }
  // q.npy and db.npy through the PCAW8,L2norm chain that a command trained into `cache`
  // (which must hold it: read back, not trained again).
  void transformed_by_cached_chain(const std::string& cache, FloatArray& q, FloatArray& db) const {
    const auto p = repbench::postprocess::Postprocessor::prepare(
        "PCAW8,L2norm", dir.file("train.npy"), cache, 16);
    EXPECT_TRUE(p.from_cache());
    q = repbench::read_npy_float(dir.file("q.npy"));
    db = repbench::read_npy_float(dir.file("db.npy"));
    p.apply(q, "q");
    p.apply(db, "db");
  }
  std::string eval(const std::string& extra) const {
    return "eval --set " + dir.file("gnd.json") + " -q " + dir.file("q.npy") + " -d " +
           dir.file("db.npy") + " --bootstrap 0 --postprocess-cache " + dir.file("cache") + " " +
           extra;
  }
};

TEST(PostprocessCli, EvalRecordsTheChainAndReusesIt) {
  CliFixture f;
  const std::string args = f.eval("--postprocess PCAW8,L2norm --postprocess-train " +
                                  f.dir.file("train.npy") +
                                  " --rerank 'dba:k=2,alpha=3;aqe:k=2,alpha=3' --out ");
  RunResult r = repbench_run(f.dir, args + f.dir.file("a.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  const json a = json::parse(slurp(f.dir.file("a.json")));
  const json& pp = a["options"]["postprocess"];
  EXPECT_EQ(pp["chain"], "PCAW8,L2norm");
  EXPECT_EQ(pp["d_in"], 16);
  EXPECT_EQ(pp["d_out"], 8);
  EXPECT_EQ(pp["train_sha256"], repbench::sha256_file(f.dir.file("train.npy")));
  EXPECT_EQ(a["options"]["rerank"], "dba:k=2,alpha=3;aqe:k=2,alpha=3");
  EXPECT_EQ(a["timings"]["postprocess_from_cache"], false);
  // The one cache entry holds the transform the record names.
  std::vector<fs::path> vt;
  for (const auto& e : fs::directory_iterator(f.dir.file("cache")))
    if (e.path().extension() == ".vt") vt.push_back(e.path());
  ASSERT_EQ(vt.size(), 1u);
  EXPECT_EQ(pp["transform_sha256"], repbench::sha256_file(vt[0].string()));
  const auto written = fs::last_write_time(vt[0]);

  r = repbench_run(f.dir, args + f.dir.file("b.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("read from the cache"), std::string::npos) << r.out;
  const json b = json::parse(slurp(f.dir.file("b.json")));
  EXPECT_EQ(b["timings"]["postprocess_from_cache"], true);
  EXPECT_EQ(b["options"]["postprocess"], pp);
  EXPECT_EQ(b["metrics"]["map"], a["metrics"]["map"]);
  EXPECT_EQ(fs::last_write_time(vt[0]), written);

  // The leaderboard names both under its table, and the re-ranking in the column's header.
  r = repbench_run(f.dir, "leaderboard --records " + f.dir.file("a.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("post-processing PCAW8,L2norm, re-ranking dba:k=2,alpha=3;aqe:k=2,alpha=3"),
            std::string::npos)
      << r.out;
  const std::string header = r.out.substr(0, r.out.find('\n'));
  EXPECT_NE(header.find(" [dba:k=2,alpha=3;aqe:k=2,alpha=3]"), std::string::npos) << header;
}

TEST(PostprocessCli, SearchAppliesTheChainToBothSides) {
  CliFixture f;
  RunResult r = repbench_run(
      f.dir, "search --queries " + f.dir.file("q.npy") + " --db " + f.dir.file("db.npy") +
                 " -k 3 --postprocess PCAW8,L2norm --postprocess-train " +
                 f.dir.file("train.npy") + " --postprocess-cache " + f.dir.file("cache") +
                 " --out " + f.dir.file("m"));
  ASSERT_EQ(r.status, 0) << r.err;
  // The scores are those of the transformed rows (computed here through the library).
  FloatArray q, db;
  f.transformed_by_cached_chain(f.dir.file("cache"), q, db);
  std::vector<int64_t> shape;
  const std::vector<int64_t> ids = repbench::read_npy_int64(f.dir.file("m.ids.npy"), &shape);
  const FloatArray scores = repbench::read_npy_float(f.dir.file("m.scores.npy"));
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t r2 = 0; r2 < 3; ++r2) {
      double s = 0;
      for (int64_t c = 0; c < 8; ++c) s += double{q.data[i * 8 + c]} * db.data[ids[i * 3 + r2] * 8 + c];
      EXPECT_NEAR(scores.data[i * 3 + r2], s, 1e-5);
    }
}

// scan: both sides transformed (the training rows then held in memory), the chain recorded in
// scan.json, and the top-1 scores those of the transformed rows.
TEST(PostprocessCli, ScanAppliesTheChainToBothSides) {
  CliFixture f;
  RunResult r = repbench_run(
      f.dir, "scan --generated-descriptors " + f.dir.file("q.npy") + " --train-descriptors " +
                 f.dir.file("db.npy") + " --index exact --k 2 --postprocess PCAW8,L2norm "
                 "--postprocess-train " + f.dir.file("train.npy") + " --out " + f.dir.file("scan"));
  ASSERT_EQ(r.status, 0) << r.err;
  const json rec = json::parse(slurp(f.dir.file("scan/scan.json")));
  EXPECT_EQ(rec["postprocess"]["chain"], "PCAW8,L2norm");
  EXPECT_EQ(rec["postprocess"]["train_sha256"], repbench::sha256_file(f.dir.file("train.npy")));
  FloatArray q, db;
  f.transformed_by_cached_chain(f.dir.file("scan/cache/postprocess"), q, db);
  // matches.csv: generated,rank,train,score; rank 1 of each generation is its best row.
  std::ifstream csv(f.dir.file("scan/matches.csv"));
  std::string line;
  std::getline(csv, line);
  int checked = 0;
  for (int64_t i = 0; i < 5; ++i) {
    double best = -2;
    for (int64_t j = 0; j < 40; ++j) {
      double s = 0;
      for (int64_t c = 0; c < 8; ++c) s += double{q.data[i * 8 + c]} * db.data[j * 8 + c];
      best = std::max(best, s);
    }
    for (int rank = 0; rank < 2 && std::getline(csv, line); ++rank)
      if (rank == 0) {
        EXPECT_NEAR(std::stod(line.substr(line.rfind(',') + 1)), best, 1e-4) << line;
        ++checked;
      }
  }
  EXPECT_EQ(checked, 5);
}

TEST(PostprocessCli, BadInputIsOneLine) {
  CliFixture f;
  const std::string train = f.dir.file("train.npy");
  // Neither the record nor the post-processing cache may be written.
  const std::string out = f.dir.file("bad.json"), cache = f.dir.file("cache");
  const auto eval = [&](const std::string& extra) {
    return repbench_run(f.dir, f.eval(extra + " --out " + out));
  };
  EXPECT_BAD_INPUT(eval("--postprocess PCAW8,Nonsense7 --postprocess-train " + train),
                   "PCAW8,Nonsense7", "FAISS refuses", out, cache);
  EXPECT_BAD_INPUT(eval("--postprocess IVF4 --postprocess-train " + train), "IVF4", "not a chain",
                   out, cache);
  EXPECT_BAD_INPUT(eval("--postprocess PCAW8 --postprocess-train " + f.dir.file("train32.npy")),
                   f.dir.file("train32.npy"), "dimension 32", out, cache);
  EXPECT_BAD_INPUT(eval("--postprocess PCAW8"), "--postprocess-train", "needs", out, cache);
  EXPECT_BAD_INPUT(eval("--rerank 'aqe:k=two,alpha=3'"), "--rerank", "not an integer", out, cache);
  EXPECT_BAD_INPUT(eval("--rerank 'aqe:k=2'"), "--rerank", "needs both", out, cache);
}

}  // namespace
