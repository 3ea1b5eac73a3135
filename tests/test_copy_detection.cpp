// Copy detection (docs/PROTOCOLS.md §12): micro-AP, recall at precision 0.9 and recall at rank
// 1/10 against an independent Python reference of isc2021's definitions
// (tests/reference/isc_micro_ap.py) on hand-built and random cases with ties, queries without a
// match and duplicates; knn and global predictions against brute force; score normalisation
// against numpy; the disc21 and copydays loaders on layouts made here; `eval` end to end (the
// predictions CSV scored by the reference as the official scorer would) and its bad input.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/npy.h"
#include "core/subprocess.h"
#include "datasets/copydays.h"
#include "datasets/disc21.h"
#include "datasets/set_registry.h"
#include "metrics/inner_product.h"
#include "metrics/micro_ap.h"
#include "metrics/predictions.h"
#include "metrics/score_norm.h"
#include "metrics/topk.h"
#include "records/eval_record.h"
#include "report/leaderboard.h"
#include "support/bad_input.h"
#include "support/python_stack.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace repbench;
using metrics::Prediction;

namespace {

const std::string kBinary = REPBENCH_BINARY;
const std::string kReference = std::string(REPBENCH_SOURCE_DIR) + "/tests/reference/isc_micro_ap.py";

struct Case {
  std::string kind = "isc2021";
  std::vector<Prediction> preds;
  std::vector<std::pair<int64_t, int64_t>> gt;
};

json case_json(const Case& c) {
  json p = json::array(), g = json::array();
  for (const auto& x : c.preds) p.push_back({x.query, x.ref, x.score});
  for (const auto& x : c.gt) g.push_back({x.first, x.second});
  return {{"kind", c.kind}, {"predictions", p}, {"gt", g}};
}

// The reference's results for `cases`, in order.
json reference_cases(const std::vector<Case>& cases, const fs::path& dir) {
  json all = json::array();
  for (const auto& c : cases) all.push_back(case_json(c));
  const std::string file = (dir / "cases.json").string();
  write_file_atomic(file, all.dump());
  const ProcessResult r = run_process({test_support::kSystemPython, kReference, "cases", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out) : json::array();
}

void expect_equal(const metrics::MicroApResult& m, const json& ref, const std::string& what) {
  ASSERT_FALSE(ref.contains("error")) << what << ": " << ref.dump();
  EXPECT_NEAR(m.micro_ap, ref["micro_ap"].get<double>(), 1e-12) << what;
  EXPECT_NEAR(m.recall_at_rank1, ref["recall_at_rank1"].get<double>(), 1e-12) << what;
  EXPECT_NEAR(m.recall_at_rank10, ref["recall_at_rank10"].get<double>(), 1e-12) << what;
  if (ref["recall_at_p90"].is_null()) {
    EXPECT_FALSE(m.reaches_p90) << what;
    EXPECT_EQ(m.recall_at_p90, 0.0) << what;
    EXPECT_TRUE(std::isnan(m.threshold_at_p90)) << what;
  } else {
    EXPECT_TRUE(m.reaches_p90) << what;
    EXPECT_NEAR(m.recall_at_p90, ref["recall_at_p90"].get<double>(), 1e-12) << what;
    EXPECT_NEAR(m.threshold_at_p90, ref["threshold_at_p90"].get<double>(), 1e-7) << what;
  }
}

metrics::MicroApResult score(const Case& c) {
  return metrics::micro_ap(c.preds, c.gt,
                           c.kind == "isc2021" ? metrics::MicroApKind::kIsc2021
                                               : metrics::MicroApKind::kTrapezoid);
}

}  // namespace

// ---- micro-AP ----

TEST(MicroAp, HandCheckedValues) {
  // Query 0 copies ref 0, query 2 copies ref 1 (never predicted); query 1 has no match.
  // Both predictions score 0.9: the wrong one is placed first, so precision 1/2 at recall 1/2.
  const Case c{"isc2021", {{0, 0, 0.9f}, {1, 5, 0.9f}}, {{0, 0}, {2, 1}}};
  const metrics::MicroApResult m = score(c);
  EXPECT_DOUBLE_EQ(m.micro_ap, 0.25);
  EXPECT_FALSE(m.reaches_p90);                // precision 0, then 1/2
  EXPECT_DOUBLE_EQ(m.recall_at_rank1, 0.5);  // (0, 0) at rank 0; (2, 1) never predicted
  EXPECT_EQ(m.ground_truth_pairs, 2);
  EXPECT_EQ(m.correct, 1);
  // A distinct higher score for the right one: AP = 1 x 1/2; P90 reached at recall 1/2.
  const metrics::MicroApResult better = score({"isc2021", {{0, 0, 0.95f}, {1, 5, 0.9f}}, {{0, 0}, {2, 1}}});
  EXPECT_DOUBLE_EQ(better.micro_ap, 0.5);
  EXPECT_TRUE(better.reaches_p90);
  EXPECT_DOUBLE_EQ(better.recall_at_p90, 0.5);
  EXPECT_FLOAT_EQ(static_cast<float>(better.threshold_at_p90), 0.95f);
  // Trapezoid (Copydays): the right one first: ((1 + 1) / 2) / 2 positives.
  const metrics::MicroApResult trap =
      score({"trapezoid", {{0, 0, 0.95f}, {1, 5, 0.9f}}, {{0, 0}, {2, 1}}});
  EXPECT_DOUBLE_EQ(trap.micro_ap, 0.5);
}

TEST(MicroAp, RankCountsEveryPredictionOfTheQueryScoringAtLeastAsHigh) {
  // Query 0: the copy (ref 3) ties with one wrong prediction and is below another: rank 2.
  const Case c{"isc2021", {{0, 1, 0.8f}, {0, 2, 0.7f}, {0, 3, 0.7f}, {1, 0, 0.9f}}, {{0, 3}, {1, 0}}};
  const metrics::MicroApResult m = score(c);
  EXPECT_DOUBLE_EQ(m.recall_at_rank1, 0.5);   // only query 1's pair
  EXPECT_DOUBLE_EQ(m.recall_at_rank10, 1.0);
}

TEST(MicroAp, EqualsTheIndependentReference) {
  REQUIRE_PYTHON("numpy");
  tests::TempDir dir("copy_detection");
  std::vector<Case> cases = {
      {"isc2021", {{0, 0, 0.9f}, {1, 5, 0.9f}}, {{0, 0}, {2, 1}}},
      {"isc2021", {{0, 1, 0.8f}, {0, 2, 0.7f}, {0, 3, 0.7f}, {1, 0, 0.9f}}, {{0, 3}, {1, 0}}},
      {"isc2021", {{0, 0, 1.0f}}, {{0, 0}}},                  // perfect
      {"isc2021", {{3, 4, 0.5f}, {3, 5, 0.5f}}, {{0, 0}}},    // nothing right
      {"trapezoid", {{0, 0, 0.9f}, {1, 5, 0.9f}, {2, 1, 0.1f}}, {{0, 0}, {2, 1}}},
  };
  // Random cases with few score levels (many ties), queries without a match and ground-truth
  // pairs no prediction names.
  std::mt19937_64 rng(16);
  for (int t = 0; t < 40; ++t) {
    Case c;
    c.kind = t % 4 == 3 ? "trapezoid" : "isc2021";
    const int nq = 3 + static_cast<int>(rng() % 12), nb = 4 + static_cast<int>(rng() % 20);
    const int levels = 2 + static_cast<int>(rng() % 6);
    for (int q = 0; q < nq; ++q) {
      if (rng() % 3 == 0) continue;  // a query without a match
      c.gt.emplace_back(q, static_cast<int64_t>(rng() % nb));
      if (rng() % 4 == 0) c.gt.emplace_back(q, static_cast<int64_t>((c.gt.back().second + 1) % nb));
    }
    if (c.gt.empty()) c.gt.emplace_back(0, 0);
    for (int q = 0; q < nq; ++q)
      for (int b = 0; b < nb; ++b)
        if (rng() % 3 == 0) c.preds.push_back({q, b, static_cast<float>(rng() % levels) / levels});
    cases.push_back(c);
  }
  const json ref = reference_cases(cases, dir.path());
  ASSERT_EQ(ref.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) expect_equal(score(cases[i]), ref[i], "case " + std::to_string(i));
}

TEST(MicroAp, DuplicatePredictionsAreAnErrorAsInIsc2021) {
  REQUIRE_PYTHON("numpy");
  tests::TempDir dir("copy_detection");
  const Case c{"isc2021", {{0, 1, 0.8f}, {2, 2, 0.7f}, {0, 1, 0.3f}}, {{0, 1}}};
  EXPECT_ERROR_CONTAINS(score(c), "predictions contain (query 0, reference 1) twice");
  const json ref = reference_cases({c}, dir.path());
  ASSERT_EQ(ref.size(), 1u);
  EXPECT_EQ(ref[0]["error"], "duplicate");
  EXPECT_ERROR_CONTAINS(metrics::micro_ap({{0, 1, 0.5f}}, {}), "no (query, reference) pair");
  EXPECT_ERROR_CONTAINS(metrics::micro_ap({{0, 1, NAN}}, {{0, 1}}), "NaN score");
}

// ---- predictions ----

namespace {

struct Matrix {
  int64_t nq, nb, d;
  std::vector<float> q, db;
};

Matrix random_matrix(int64_t nq, int64_t nb, int64_t d, uint64_t seed, int levels = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n;
  Matrix m{nq, nb, d, {}, {}};
  auto draw = [&] { return levels ? static_cast<float>(rng() % levels) : n(rng); };
  for (int64_t i = 0; i < nq * d; ++i) m.q.push_back(draw());
  for (int64_t i = 0; i < nb * d; ++i) m.db.push_back(draw());
  return m;
}

// Every pair, best first by (score desc, query asc, ref asc).
std::vector<Prediction> all_pairs(const Matrix& m) {
  std::vector<Prediction> out;
  for (int64_t i = 0; i < m.nq; ++i)
    for (int64_t j = 0; j < m.nb; ++j) {
      float s = 0;
      for (int64_t k = 0; k < m.d; ++k) s += m.q[i * m.d + k] * m.db[j * m.d + k];
      out.push_back({i, j, s});
    }
  std::stable_sort(out.begin(), out.end(), [](const Prediction& a, const Prediction& b) {
    return a.score > b.score;
  });
  return out;
}

}  // namespace

TEST(Predictions, KnnAndGlobalEqualBruteForce) {
  // Integer descriptors: every score is exact, with many ties.
  const Matrix m = random_matrix(37, 53, 3, 5, 3);
  const metrics::InnerProductScores s(m.q.data(), m.nq, m.db.data(), m.nb, m.d);
  const std::vector<Prediction> all = all_pairs(m);
  // knn: per query, its first k of the full order (ties by ascending reference).
  const std::vector<Prediction> knn = metrics::knn_predictions(s, 7, 2);
  ASSERT_EQ(knn.size(), 37u * 7);
  std::map<int64_t, std::vector<Prediction>> per_query;
  for (const auto& p : all) per_query[p.query].push_back(p);
  for (int64_t q = 0; q < m.nq; ++q) {
    auto& row = per_query[q];
    std::stable_sort(row.begin(), row.end(), [](const Prediction& a, const Prediction& b) {
      return a.score != b.score ? a.score > b.score : a.ref < b.ref;
    });
    for (int j = 0; j < 7; ++j) {
      EXPECT_EQ(knn[q * 7 + j].ref, row[j].ref) << q << " " << j;
      EXPECT_EQ(knn[q * 7 + j].score, row[j].score);
    }
  }
  // global: the same multiset of scores as the best N of all pairs, for several caps (some far
  // above the even share, so that the per-query lists must grow).
  for (int64_t n : {1, 10, 100, 500, 1500, 37 * 53, 5000}) {
    const std::vector<Prediction> g = metrics::global_predictions(s, n, 2);
    const size_t want = std::min<size_t>(static_cast<size_t>(n), all.size());
    ASSERT_EQ(g.size(), want) << n;
    std::vector<float> got, expected;
    for (const auto& p : g) got.push_back(p.score);
    for (size_t i = 0; i < want; ++i) expected.push_back(all[i].score);
    std::sort(got.begin(), got.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(got, expected) << n;
    // Each returned pair has the score brute force gives it.
    for (const auto& p : g) {
      float sc = 0;
      for (int64_t k = 0; k < m.d; ++k) sc += m.q[p.query * m.d + k] * m.db[p.ref * m.d + k];
      ASSERT_EQ(p.score, sc);
    }
  }
  EXPECT_ERROR_CONTAINS(metrics::knn_predictions(s, 0), "k = 0");
  EXPECT_ERROR_CONTAINS(metrics::global_predictions(s, 0), "--max-results 0");
}

// ---- score normalisation ----

TEST(ScoreNorm, SpecsOfBothForms) {
  metrics::ScoreNormSpec s = metrics::parse_score_norm("1.0[0,2]", "--score-norm");
  EXPECT_EQ(s.form, "sscd");
  EXPECT_EQ(s.weight, 1.0);
  EXPECT_EQ(s.first, 0);
  EXPECT_EQ(s.last, 2);
  s = metrics::parse_score_norm("0.5[3]", "--score-norm");
  EXPECT_EQ(s.first, 3);
  EXPECT_EQ(s.last, 3);
  s = metrics::parse_score_norm("isc2021:n=10,factor=2", "--score-norm");
  EXPECT_EQ(s.form, "isc2021");
  EXPECT_EQ(s.first, 9);
  EXPECT_EQ(s.last, 9);
  EXPECT_EQ(s.weight, 2.0);
  EXPECT_EQ(metrics::parse_score_norm("isc2021:n=1", "x").weight, 1.0);
  EXPECT_ERROR_CONTAINS(metrics::parse_score_norm("1.0[2,0]", "--score-norm"), "before the first");
  EXPECT_ERROR_CONTAINS(metrics::parse_score_norm("abc", "--score-norm"), "--score-norm 'abc'");
  EXPECT_ERROR_CONTAINS(metrics::parse_score_norm("isc2021:n=0", "--score-norm"), "at least 1");
  EXPECT_ERROR_CONTAINS(metrics::parse_score_norm("1e999[0,1]", "--score-norm"), "not a finite");
}

TEST(ScoreNorm, OffsetsEqualNumpy) {
  REQUIRE_PYTHON("numpy");
  tests::TempDir dir("copy_detection");
  const Matrix m = random_matrix(45, 70, 8, 9);  // queries x training
  const metrics::InnerProductScores s(m.q.data(), m.nq, m.db.data(), m.nb, m.d);
  const std::string q = (dir.path() / "q.npy").string(), t = (dir.path() / "t.npy").string();
  write_npy(q, m.q.data(), {m.nq, m.d});
  write_npy(t, m.db.data(), {m.nb, m.d});
  for (const std::string spec : {"1.0[0,2]", "0.7[1,4]", "isc2021:n=5,factor=1.5"}) {
    const metrics::ScoreNormSpec sp = metrics::parse_score_norm(spec, "x");
    const std::vector<float> off = metrics::score_norm_offsets(s, sp, 2);
    const ProcessResult r = run_process(
        {test_support::kSystemPython, kReference, "offsets", "--q", q, "--train", t, "--norm",
         fmt::format("{},{},{}", sp.weight, sp.first, sp.last)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json ref = json::parse(r.out)["offsets"];
    ASSERT_EQ(ref.size(), off.size());
    for (size_t i = 0; i < off.size(); ++i)
      EXPECT_NEAR(off[i], ref[i].get<double>(), 1e-4 * (1 + std::abs(ref[i].get<double>())))
          << spec << " query " << i;
  }
  // Shifting the scores shifts every prediction of a query by its offset.
  const std::vector<float> off(m.nq, 0.25f);
  const metrics::OffsetScores shifted(s, off);
  float a = 0, b = 0;
  s.compute(3, 1, 4, 1, &a, 1);
  shifted.compute(3, 1, 4, 1, &b, 1);
  EXPECT_FLOAT_EQ(b, a - 0.25f);
  EXPECT_ERROR_CONTAINS(
      metrics::score_norm_offsets(s, metrics::parse_score_norm("1[0,99]", "x")), "at least 100");
}

// ---- loaders ----

namespace {

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

// val_query/Q00000..Q00004, val_ref/R000000..R000007, training/ with 3 images, and the CSV.
fs::path disc_layout(const fs::path& root, const std::string& csv) {
  for (int i = 0; i < 5; ++i) touch(root / "val_query" / fmt::format("Q{:05d}.jpg", i));
  for (int i = 0; i < 8; ++i) touch(root / "val_ref" / fmt::format("R{:06d}.jpg", i));
  for (int i = 0; i < 3; ++i) touch(root / "training" / fmt::format("T{:06d}.jpg", i));
  std::ofstream(root / "val_groundtruth_matches.csv") << csv;
  return root;
}

}  // namespace

TEST(Disc21, LoadsSscdsLayout) {
  tests::TempDir dir("copy_detection");
  const fs::path root = disc_layout(dir.path() / "DISC",
                                    "query_id,reference_id\nQ00000,R000003\nQ00001,\n"
                                    "Q00003,R000007\r\nQ00003,R000001\n\nQ00004,\n");
  const datasets::RetrievalSet s = datasets::load_set({"disc21", "", root.string(), ""});
  EXPECT_EQ(s.name, "disc21");
  ASSERT_EQ(s.queries.size(), 5u);
  ASSERT_EQ(s.db.size(), 8u);
  EXPECT_EQ(s.queries[3].image, "val_query/Q00003.jpg");
  EXPECT_EQ(s.db[7], "val_ref/R000007.jpg");
  EXPECT_EQ(s.queries[0].ok, (std::vector<int64_t>{3}));
  EXPECT_TRUE(s.queries[1].ok.empty());
  EXPECT_TRUE(s.queries[2].ok.empty());
  EXPECT_EQ(s.queries[3].ok, (std::vector<int64_t>{1, 7}));
  EXPECT_EQ(s.meta["training_images"], 3);
  EXPECT_FALSE(s.crop_queries);
  ASSERT_TRUE(s.metric.copy_detection.has_value());
  EXPECT_EQ(s.metric.copy_detection->k, 10);
  EXPECT_EQ(s.scorable_queries(), 2);
}

TEST(Disc21, GroundTruthErrorsNameFileAndLine) {
  tests::TempDir dir("copy_detection");
  const fs::path root = disc_layout(dir.path() / "DISC", "");
  const std::string csv = (root / "val_groundtruth_matches.csv").string();
  auto load_with = [&](const std::string& text) {
    std::ofstream(csv, std::ios::trunc) << text;
    return datasets::load_set({"disc21", "", root.string(), ""});
  };
  EXPECT_ERROR_CONTAINS(load_with("query_id,reference_id\nQ00000,R000001\nQ00009,R000001\n"),
                        csv + ": line 3: query 'Q00009' is not an image of");
  EXPECT_ERROR_CONTAINS(load_with("Q00000,R000042\n"), csv + ": line 1: reference 'R000042'");
  EXPECT_ERROR_CONTAINS(load_with("Q00000,R000001\nQ00001;R000002\n"),
                        csv + ": line 2: expected 'query_id,reference_id'");
  EXPECT_ERROR_CONTAINS(load_with("Q00000,R000001,0.5\n"), csv + ": line 1: expected");
  EXPECT_ERROR_CONTAINS(load_with(",R000001\n"), csv + ": line 1: the query id is empty");
  EXPECT_ERROR_CONTAINS(load_with("Q00000,R000001\nQ00000,R000001\n"),
                        csv + ": line 2: the pair (Q00000, R000001) is already on line 1");
  fs::remove_all(root / "val_ref");
  EXPECT_ERROR_CONTAINS(load_with("Q00000,R000001\n"), "val_ref: no such folder");
}

TEST(Copydays, LoadsSscdsLayoutWithAndWithoutDistractors) {
  tests::TempDir dir("copydays");
  const fs::path root = dir.path() / "copydays";
  const std::vector<std::string> originals = {"200000.jpg", "200100.jpg", "200200.jpg"};
  for (const std::string& block : datasets::copydays_blocks()) {
    if (block == "strong") continue;
    for (const auto& n : originals) touch(root / block / n);
  }
  for (const char* n : {"200001.jpg", "200002.jpg", "200201.jpg", "209901.jpg"}) touch(root / "strong" / n);
  touch(root / "original" / "notes.png");  // SSCD reads only .jpg files of a block
  const datasets::RetrievalSet s = datasets::load_set({"copydays", "", root.string(), ""});
  ASSERT_EQ(datasets::copydays_blocks().size(), 20u);
  EXPECT_EQ(s.db, (std::vector<std::string>{"original/200000.jpg", "original/200100.jpg",
                                            "original/200200.jpg"}));
  ASSERT_EQ(s.queries.size(), 19u * 3 + 4);
  EXPECT_EQ(s.queries[0].image, "original/200000.jpg");
  EXPECT_EQ(s.queries[0].ok, (std::vector<int64_t>{0}));
  // strong/: by the first 4 characters of the name; 209901 copies no original.
  EXPECT_EQ(s.queries[3].image, "strong/200001.jpg");
  EXPECT_EQ(s.queries[3].ok, (std::vector<int64_t>{0}));
  EXPECT_EQ(s.queries[3].group, "strong");
  EXPECT_TRUE(s.queries[6].ok.empty());
  // jpegqual/3 follows strong/: file for file.
  EXPECT_EQ(s.queries[7].image, "jpegqual/3/200000.jpg");
  EXPECT_EQ(s.queries[9].ok, (std::vector<int64_t>{2}));
  EXPECT_EQ(s.queries.back().image, "crops/80/200200.jpg");
  EXPECT_EQ(s.metric.copy_detection->micro_ap, metrics::MicroApKind::kTrapezoid);
  EXPECT_ERROR_CONTAINS(datasets::load_set({"cd10k", "", root.string(), ""}), "distractors");
  for (int i = 0; i < 4; ++i) touch(root / "distractors" / fmt::format("d{}.jpg", i));
  const datasets::RetrievalSet cd10k = datasets::load_set({"cd10k", "", root.string(), ""});
  EXPECT_EQ(cd10k.name, "cd10k");
  EXPECT_EQ(cd10k.db.size(), 7u);
  EXPECT_EQ(cd10k.db[3], "distractors/d0.jpg");
  EXPECT_EQ(cd10k.queries.size(), s.queries.size());
  fs::remove(root / "crops" / "40" / "200100.jpg");
  EXPECT_ERROR_CONTAINS(datasets::load_set({"copydays", "", root.string(), ""}),
                        "2 images, but original/ has 3");
}

// ---- eval end to end ----

namespace {

struct Cli {
  int exit_code;
  std::string out, err;
};

Cli repbench_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kBinary};
  argv.insert(argv.end(), args.begin(), args.end());
  const ProcessResult r = run_process(argv);
  return {r.exit_code, r.out, r.err};
}

// A DISC layout with descriptors: 40 queries (every third without a match), 90 references,
// 60 training descriptors, d = 12; a matched query is its reference plus noise.
struct DiscFixture {
  fs::path root, q, db, train;
};

DiscFixture disc_fixture(const fs::path& dir) {
  std::mt19937_64 rng(21);
  std::normal_distribution<float> n;
  const int nq = 40, nb = 90, nt = 60, d = 12;
  std::vector<float> q(nq * d), db(nb * d), t(nt * d);
  for (auto& x : db) x = n(rng);
  for (auto& x : t) x = n(rng);
  std::string csv = "query_id,reference_id\n";
  for (int i = 0; i < nq; ++i) {
    const int r = static_cast<int>(rng() % nb);
    for (int k = 0; k < d; ++k) q[i * d + k] = i % 3 == 2 ? n(rng) : db[r * d + k] + 0.9f * n(rng);
    csv += i % 3 == 2 ? fmt::format("Q{:05d},\n", i) : fmt::format("Q{:05d},R{:06d}\n", i, r);
  }
  DiscFixture f{dir / "DISC", dir / "q.npy", dir / "db.npy", dir / "t.npy"};
  for (int i = 0; i < nq; ++i) touch(f.root / "val_query" / fmt::format("Q{:05d}.jpg", i));
  for (int i = 0; i < nb; ++i) touch(f.root / "val_ref" / fmt::format("R{:06d}.jpg", i));
  std::ofstream(f.root / "val_groundtruth_matches.csv") << csv;
  write_npy(f.q.string(), q.data(), {nq, d});
  write_npy(f.db.string(), db.data(), {nb, d});
  write_npy(f.train.string(), t.data(), {nt, d});
  return f;
}

}  // namespace

TEST(CopyDetectionEval, RecordCsvAndScoreNormalisationEqualTheReference) {
  REQUIRE_PYTHON("numpy");
  tests::TempDir dir("copy_detection");
  const DiscFixture f = disc_fixture(dir.path());
  const std::string rec = (dir.path() / "out" / "disc.json").string();
  const Cli r = repbench_cli({"eval", "--set", "disc21", "--root", f.root.string(), "-q",
                              f.q.string(), "-d", f.db.string(), "--bootstrap", "0",
                              "--score-norm-train", f.train.string(), "--score-norm", "1.0[0,2]",
                              "--out", rec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json record = json::parse(read_file(rec));
  const json& m = record["metrics"];
  const ProcessResult ref = run_process(
      {test_support::kSystemPython, kReference, "disc21", "--root", f.root.string(), "--q",
       f.q.string(), "--db", f.db.string(), "--train", f.train.string(), "--norm", "1,0,2"});
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const json expected = json::parse(ref.out);
  for (const char* key : {"map", "micro_ap", "recall_at_p90", "recall_at_rank1",
                          "recall_at_rank10", "micro_ap_sn", "recall_at_p90_sn",
                          "recall_at_rank1_sn", "recall_at_rank10_sn"})
    EXPECT_NEAR(m[key].get<double>(), expected[key].get<double>(), 1e-6) << key;
  // Not degenerate, and normalisation changes the number.
  EXPECT_GT(m["micro_ap"].get<double>(), 0.2);
  EXPECT_LT(m["micro_ap"].get<double>(), 0.95);
  EXPECT_GT(std::abs(m["micro_ap_sn"].get<double>() - m["micro_ap"].get<double>()), 1e-4);
  EXPECT_EQ(m["ground_truth_pairs"], 27);
  EXPECT_EQ(m["predictions"], 400);
  EXPECT_EQ(record["options"]["copy_detection"]["score_norm"]["spec"], "1.0[0,2]");
  EXPECT_EQ(record["inputs"]["score_norm_train"]["sha256"].get<std::string>().size(), 64u);
  // The predictions CSVs, scored by the reference as the official scorer takes them.
  for (const auto& [name, key] : {std::pair<std::string, std::string>{"csv", "micro_ap"},
                                  {"csv_sn", "micro_ap_sn"}}) {
    const fs::path csv = fs::path(rec).parent_path() / record["predictions"][name].get<std::string>();
    ASSERT_TRUE(fs::exists(csv)) << csv;
    EXPECT_EQ(read_file(csv.string()).substr(0, 28), "query_id,reference_id,score\n");
    const ProcessResult off = run_process({test_support::kSystemPython, kReference, "csv",
                                           "--preds", csv.string(), "--gt",
                                           (f.root / "val_groundtruth_matches.csv").string()});
    ASSERT_EQ(off.exit_code, 0) << off.err;
    EXPECT_NEAR(json::parse(off.out)["micro_ap"].get<double>(), m[key].get<double>(), 1e-6) << name;
  }
  // The isc2021 form and global candidates run too, and a cap below k x nq gives fewer pairs.
  const Cli g = repbench_cli({"eval", "--set", "disc21", "--root", f.root.string(), "-q",
                              f.q.string(), "-d", f.db.string(), "--bootstrap", "0",
                              "--candidates", "global", "--max-results", "150",
                              "--score-norm-train", f.train.string(), "--score-norm",
                              "isc2021:n=3", "--out", rec});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const json grec = json::parse(read_file(rec));
  EXPECT_EQ(grec["metrics"]["predictions"], 150);
  EXPECT_EQ(grec["metrics"]["predictions_sn"], 150);
  EXPECT_EQ(grec["options"]["copy_detection"]["max_results"], 150);
}

// With --postprocess the score-normalisation training rows go through the same trained chain as
// queries and references: the result equals eval of descriptors transformed beforehand (by the
// independent numpy PCA-whitening; a component's sign does not change inner products).
TEST(CopyDetectionEval, ScoreNormalisationSeesPostprocessedTrainingRows) {
  REQUIRE_PYTHON("numpy");
  tests::TempDir dir("copy_detection_pp");
  const DiscFixture f = disc_fixture(dir.path());
  const std::string rec = (dir.path() / "pp.json").string();
  const Cli r = repbench_cli({"eval", "--set", "disc21", "--root", f.root.string(), "-q",
                              f.q.string(), "-d", f.db.string(), "--bootstrap", "0",
                              "--postprocess", "PCAW8,L2norm", "--postprocess-train",
                              f.train.string(), "--postprocess-cache",
                              (dir.path() / "ppcache").string(), "--score-norm-train",
                              f.train.string(), "--out", rec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> moved;
  for (const fs::path& x : {f.q, f.db, f.train}) {
    const std::string out = (dir.path() / ("w_" + x.filename().string())).string();
    const ProcessResult w = run_process({test_support::kSystemPython,
                                         std::string(REPBENCH_SOURCE_DIR) +
                                             "/tests/reference/pca_whitening.py",
                                         f.train.string(), x.string(), "8", out, "--l2norm"});
    ASSERT_EQ(w.exit_code, 0) << w.err;
    moved.push_back(out);
  }
  const std::string rec2 = (dir.path() / "pre.json").string();
  const Cli pre = repbench_cli({"eval", "--set", "disc21", "--root", f.root.string(), "-q",
                                moved[0], "-d", moved[1], "--bootstrap", "0",
                                "--score-norm-train", moved[2], "--out", rec2});
  ASSERT_EQ(pre.exit_code, 0) << pre.err;
  const json a = json::parse(read_file(rec))["metrics"], b = json::parse(read_file(rec2))["metrics"];
  for (const char* key : {"micro_ap", "micro_ap_sn", "recall_at_rank1_sn"})
    EXPECT_NEAR(a[key].get<double>(), b[key].get<double>(), 1e-5) << key;
  EXPECT_GT(std::abs(a["micro_ap_sn"].get<double>() - a["micro_ap"].get<double>()), 1e-4);
}

TEST(CopyDetectionEval, BadInputExitsTwoWithOneLine) {
  tests::TempDir dir("copy_detection");
  const DiscFixture f = disc_fixture(dir.path());
  const std::string out = (dir.path() / "rec.json").string();
  const std::vector<std::string> base = {"eval",          "--set", "disc21",     "--root",
                                         f.root.string(), "-q",    f.q.string(), "-d",
                                         f.db.string(),   "--out", out};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return repbench_cli(a);
  };
  // A training file of another dimension.
  const std::string wrong = (dir.path() / "wrong.npy").string();
  const std::vector<float> w(5 * 7, 0.5f);
  write_npy(wrong, w.data(), {5, 7});
  EXPECT_BAD_INPUT(with({"--score-norm-train", wrong}), wrong, "do not match the queries", out);
  // Fewer training descriptors than the spec's ranks.
  EXPECT_BAD_INPUT(with({"--score-norm-train", f.train.string(), "--score-norm", "1[0,99]"}),
                   f.train.string(), "at least 100 training descriptors", out);
  EXPECT_BAD_INPUT(with({"--score-norm-train", f.train.string(), "--score-norm", "1[x]"}),
                   "--score-norm", "is not WEIGHT[FIRST,LAST]", out);
  EXPECT_BAD_INPUT(with({"--candidates", "all"}), "--candidates", "not known", out);
  EXPECT_BAD_INPUT(with({"--score-norm", "1.0[0,2]"}), "--score-norm", "needs --score-norm-train",
                   out);
  // Ground truth naming an unknown image, and a malformed row.
  const std::string csv = (f.root / "val_groundtruth_matches.csv").string();
  std::ofstream(csv, std::ios::trunc) << "query_id,reference_id\nQ00000,R000001\nQ00077,R000001\n";
  EXPECT_BAD_INPUT(with({}), csv + ": line 3", "query 'Q00077' is not an image", out);
  std::ofstream(csv, std::ios::trunc) << "Q00000,R000001\nQ00001 R000002\n";
  EXPECT_BAD_INPUT(with({}), csv + ": line 2", "expected 'query_id,reference_id'", out);
}

// ---- leaderboard ----

TEST(CopyDetectionLeaderboard, ColumnsShowMicroApMarkedInEveryRendering) {
  tests::TempDir dir("copy_detection");
  auto record = [&](const std::string& model, const std::string& set, json metrics) {
    records::RecordHeader h;
    h.model = {{"name", model}, {"category", "CD/IR"}};
    h.set = set;
    h.protocol = "default";
    h.similarity = "inner-product";
    const std::string path = (dir.path() / (model + "." + set + ".json")).string();
    write_file_atomic(path, records::make_eval_record(h, metrics).dump());
    return path;
  };
  // Model a: mAP 0.9 on disc21 but µAP 0.3 / µAP_SN 0.4; model b: µAP 0.5 (no normalisation).
  const std::vector<std::string> files = {
      record("a", "disc21", {{"map", 0.9}, {"micro_ap", 0.3}, {"micro_ap_sn", 0.4}}),
      record("b", "disc21", {{"map", 0.2}, {"micro_ap", 0.5}}),
      record("a", "roxford5k", {{"map", 0.6}}),
      record("b", "roxford5k", {{"map", 0.7}}),
  };
  const report::Leaderboard board = report::build_leaderboard(report::load_records(files));
  // Normalised and plain µAP are different columns; neither shows the mAP.
  ASSERT_EQ(board.datasets,
            (std::vector<std::string>{"DISC21 [\u00b5AP_SN]", "DISC21 [\u00b5AP]", "rOxford5k"}));
  EXPECT_DOUBLE_EQ(board.rows[0].cells[0].map_percent, 40.0);
  EXPECT_DOUBLE_EQ(board.rows[1].cells[1].map_percent, 50.0);
  EXPECT_FALSE(board.rows[0].cells[0].per_query.has_value());
  EXPECT_NE(std::find(board.notes.begin(), board.notes.end(), report::kMicroApNote),
            board.notes.end());
  for (report::Format f : {report::Format::kMarkdown, report::Format::kCsv, report::Format::kTex,
                           report::Format::kHtml, report::Format::kJson}) {
    const std::string text = report::render(board, f);
    EXPECT_NE(text.find("\u00b5AP"), std::string::npos) << static_cast<int>(f);
    EXPECT_EQ(text.find("90.00"), std::string::npos) << static_cast<int>(f) << ": shows the mAP";
  }
  EXPECT_NE(report::render(board, report::Format::kMarkdown).find("average rank mixes"),
            std::string::npos);
  // A copy-detection record without its micro-AP is refused, naming the file.
  const std::string bad = record("c", "disc21", {{"map", 0.5}});
  EXPECT_ERROR_CONTAINS(report::load_records({bad}), bad + ": a copy-detection record without");
}

TEST(Predictions, FromAnEvaluationsTopIdsEqualAFreshSearch) {
  const Matrix m = random_matrix(29, 41, 3, 8, 3);  // integer descriptors: exact, many ties
  const metrics::InnerProductScores s(m.q.data(), m.nq, m.db.data(), m.nb, m.d);
  const std::vector<Prediction> fresh = metrics::knn_predictions(s, 10, 2);
  const metrics::TopKResult t = metrics::search_topk(s, 25, 2);
  const std::vector<Prediction> reused = metrics::knn_predictions_from(s, t.ids, 25, 10);
  ASSERT_EQ(reused.size(), fresh.size());
  for (size_t i = 0; i < fresh.size(); ++i) {
    EXPECT_EQ(reused[i].query, fresh[i].query);
    EXPECT_EQ(reused[i].ref, fresh[i].ref);
    EXPECT_EQ(reused[i].score, fresh[i].score);
  }
  EXPECT_ERROR_CONTAINS(metrics::knn_predictions_from(s, t.ids, 25, 26), "to reuse a top-25");
}
