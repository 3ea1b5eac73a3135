// Tests of the scan's groups (scan/groups.h; the paper's Section 6, class-conditional models):
// the groups CSV reader, per-group shares on a hand-built case, the search and the baseline
// within groups against a brute-force reference (in memory and streamed from disk), and bad
// groups files through the command line.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/descriptors.h"
#include "core/error.h"
#include "core/npy.h"
#include "metrics/ranking.h"
#include "scan/descriptor_stream.h"
#include "scan/groups.h"
#include "scan/index.h"
#include "scan/scan.h"
#include "scan/stream_scan.h"
#include "support/bad_input.h"
#include "support/command_test.h"
#include "support/shard_files.h"

namespace fs = std::filesystem;
using namespace repbench;        // NOLINT
using namespace repbench::scan;  // NOLINT
using nlohmann::json;
using repbench::test_support::slurp;

namespace {

class ScanGroupsTest : public test_support::CommandTest {
 protected:
  ScanGroupsTest() : CommandTest("scan_groups") {}
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
  }
};

// ---------------------------------------------------------------------------------------------
// The groups CSV

TEST(ScanGroupsCsv, HeaderQuotingBlankLinesAndCrlf) {
  const std::vector<GroupEntry> e = parse_groups_csv(
      "path,group\r\n"
      "a.png,n01\r\n"
      "\r\n"
      "  b.png ,\tn02 \n"
      "\"c, with comma.png\",\"n0\"\"3\"\n"
      "\"two\nlines.png\",n01\n"
      "path,group\n",  // a header only as the first record; here, a row
      "g.csv");
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0].path, "a.png");
  EXPECT_EQ(e[0].group, "n01");
  EXPECT_EQ(e[0].line, 2);
  EXPECT_EQ(e[1].path, "b.png");
  EXPECT_EQ(e[1].group, "n02");
  EXPECT_EQ(e[1].line, 4);
  EXPECT_EQ(e[2].path, "c, with comma.png");
  EXPECT_EQ(e[2].group, "n0\"3");
  EXPECT_EQ(e[3].path, "two\nlines.png");
  EXPECT_EQ(e[3].line, 6);
  EXPECT_EQ(e[4].path, "path");
  EXPECT_EQ(e[4].line, 8);
  // No header at all, no final line break.
  const std::vector<GroupEntry> plain = parse_groups_csv("x,1\ny,2", "p.csv");
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[1].group, "2");
  EXPECT_TRUE(parse_groups_csv("", "empty.csv").empty());
}

TEST(ScanGroupsCsv, MalformedRecordsNameTheFileAndLine) {
  EXPECT_ERROR_CONTAINS(parse_groups_csv("path,group\na.png,n1,extra\n", "g.csv"),
                        "g.csv: line 2: expected 'path,group', found 3 fields");
  EXPECT_ERROR_CONTAINS(parse_groups_csv("a.png\n", "g.csv"),
                        "g.csv: line 1: expected 'path,group', found 1 field");
  EXPECT_ERROR_CONTAINS(parse_groups_csv("a.png,n1\nb.png,\n", "g.csv"),
                        "g.csv: line 2: the group of 'b.png' is empty");
  EXPECT_ERROR_CONTAINS(parse_groups_csv("a.png,n1\n  ,n2\n", "g.csv"),
                        "g.csv: line 2: the path is empty");
  EXPECT_ERROR_CONTAINS(parse_groups_csv("a.png,n1\nb.png,n1\na.png,n2\n", "g.csv"),
                        "g.csv: line 3: 'a.png' is already on line 1");
  EXPECT_ERROR_CONTAINS(parse_groups_csv("a.png,n1\n\"b.png,n2\n", "g.csv"),
                        "g.csv: line 2: a quoted field is not closed");
  EXPECT_ERROR_CONTAINS(parse_groups_csv("\"a.png\"x,n1\n", "g.csv"),
                        "g.csv: line 1: text after the closing quote");
  EXPECT_ERROR_CONTAINS(parse_groups_csv("a\"b.png,n1\n", "g.csv"),
                        "g.csv: line 1: a quote inside an unquoted field");
  EXPECT_ERROR_CONTAINS(parse_groups_csv(std::string("a.png,n1\nb\0.png,n2\n", 20), "g.csv"),
                        "g.csv: line 2: a NUL byte");
  // A path with a line break is shown escaped: the message stays one line.
  EXPECT_ERROR_CONTAINS(parse_groups_csv("\"a\nb\",\n", "g.csv"), "the group of 'a\\nb' is empty");
}

TEST(ScanGroupsCsv, EveryRowNeedsAGroupAndEveryPathARow) {
  const std::vector<std::string> rows{"t/a.png", "t/b.png", "t/a.png"};  // a name listed twice
  const auto name = [&](int64_t i) -> const std::string& { return rows[size_t(i)]; };
  const std::vector<GroupEntry> ok = parse_groups_csv("t/a.png,x\nt/b.png,y\nt/bad.png,z\n", "g");
  // A listed image that could not be read may be named; its group goes nowhere.
  EXPECT_EQ(assign_groups(ok, "g.csv", name, 3, {"t/bad.png"}, "training image"),
            (std::vector<std::string>{"x", "y", "x"}));
  EXPECT_ERROR_CONTAINS(assign_groups(ok, "g.csv", name, 3, {}, "training image"),
                        "g.csv: line 3: 't/bad.png' is not a training image of this scan");
  EXPECT_ERROR_CONTAINS(
      assign_groups(parse_groups_csv("t/a.png,x\n", "g"), "g.csv", name, 3, {}, "training image"),
      "g.csv: no group for the training image 't/b.png' (1 of 3 have none");
}

TEST(ScanGroupsCsv, AGenerationWhoseGroupHasNoTrainingImagesIsAnUnknownGroup) {
  const ScanGroups g =
      make_scan_groups({"b", "a10", "a2"}, {"a2", "b", "a10", "c"}, true, "g.csv", "t.csv");
  EXPECT_EQ(g.names, (std::vector<std::string>{"a2", "a10", "b", "c"}));  // natural order
  EXPECT_EQ(g.generated, (std::vector<int32_t>{2, 1, 0}));
  EXPECT_EQ(g.train, (std::vector<int32_t>{0, 2, 1, 3}));
  EXPECT_ERROR_CONTAINS(make_scan_groups({"a", "zebra", "q"}, {"a", "b"}, true, "g.csv", "t.csv"),
                        "g.csv: unknown group 'zebra': no training image of t.csv is in it");
  // Without --within-group a group of generations alone is fine: it has shares, no baseline.
  EXPECT_NO_THROW(make_scan_groups({"a", "zebra"}, {"a", "b"}, false, "g.csv", "t.csv"));
}

// ---------------------------------------------------------------------------------------------
// Per-group shares on a hand-built case

FloatArray rows_of(std::vector<std::vector<float>> rows) {
  FloatArray a;
  a.shape = {int64_t(rows.size()), int64_t(rows[0].size())};
  for (const auto& r : rows) a.data.insert(a.data.end(), r.begin(), r.end());
  return a;
}

TEST(ScanGroupsShares, HandBuiltCase) {
  // Training images: group A = t0, t1 (cosine 0.6); B = t2, t3 (cosine 0.8); C = t4 alone,
  // opposite to t0 (its nearest other image is t2, cosine 0, lower index of a tie with t3).
  const FloatArray train =
      rows_of({{1, 0, 0}, {0.6f, 0.8f, 0}, {0, 0, 1}, {0, 0.6f, 0.8f}, {-1, 0, 0}});
  // Generations: g0 (A) = t0 (1.0); g1 (A) nearest t1 (0.8); g2 (B) nearest t2 (0.96).
  const FloatArray gen = rows_of({{1, 0, 0}, {0, 1, 0}, {0, 0.28f, 0.96f}});
  ScanParams params;
  params.k = 2;
  params.thresholds = {0.5, 0.9};
  params.index.kind = IndexKind::kExact;
  ScanGroups groups =
      make_scan_groups({"A", "A", "B"}, {"A", "A", "B", "B", "C"}, false, "gen.csv", "train.csv");
  const json rec = scan_descriptors(gen, {"g0", "g1", "g2"}, train, {"t0", "t1", "t2", "t3", "t4"},
                                    false, params, nullptr, &groups);
  const json& g = rec.at("groups");
  EXPECT_EQ(g["generated_file"], "gen.csv");
  EXPECT_EQ(g["train_file"], "train.csv");
  EXPECT_EQ(g["within_group"], false);
  ASSERT_EQ(g["count"], 3);
  const json& a = g["groups"][0];
  const json& b = g["groups"][1];
  const json& c = g["groups"][2];
  EXPECT_EQ(a["group"], "A");
  EXPECT_EQ(a["generations"], 2);
  EXPECT_EQ(a["train"], 2);
  EXPECT_EQ(a["baseline_sample"], 2);
  // A: top-1 1.0 and 0.8; baseline 0.6 and 0.6.
  EXPECT_EQ(a["above"][0], json({{"threshold", 0.5},
                                 {"generations", 2},
                                 {"fraction", 1.0},
                                 {"baseline", 2},
                                 {"baseline_fraction", 1.0}}));
  EXPECT_EQ(a["above"][1], json({{"threshold", 0.9},
                                 {"generations", 1},
                                 {"fraction", 0.5},
                                 {"baseline", 0},
                                 {"baseline_fraction", 0.0}}));
  // B: top-1 0.96; baseline 0.8 and 0.8.
  EXPECT_EQ(b["generations"], 1);
  EXPECT_EQ(b["above"][0], json({{"threshold", 0.5},
                                 {"generations", 1},
                                 {"fraction", 1.0},
                                 {"baseline", 2},
                                 {"baseline_fraction", 1.0}}));
  EXPECT_EQ(b["above"][1], json({{"threshold", 0.9},
                                 {"generations", 1},
                                 {"fraction", 1.0},
                                 {"baseline", 0},
                                 {"baseline_fraction", 0.0}}));
  // C: no generations (no share), one baseline image at 0.
  EXPECT_EQ(c["generations"], 0);
  EXPECT_EQ(c["baseline_sample"], 1);
  EXPECT_TRUE(c["above"][0]["fraction"].is_null());
  EXPECT_EQ(c["above"][0]["baseline"], 0);
  EXPECT_EQ(c["above"][0]["baseline_fraction"], 0.0);
  // The whole-scan numbers are those of a scan without groups, which has no "groups".
  const json plain = scan_descriptors(gen, {"g0", "g1", "g2"}, train,
                                      {"t0", "t1", "t2", "t3", "t4"}, false, params);
  EXPECT_FALSE(plain.contains("groups"));
  for (const char* key : {"generations_top1", "baseline", "above", "pairs", "notes"})
    EXPECT_EQ(rec[key], plain[key]) << key;

  // Generated groups only: baseline columns are null; train groups only: generation columns.
  groups = make_scan_groups({"A", "A", "B"}, {}, false, "gen.csv", "");
  json only = scan_descriptors(gen, {"g0", "g1", "g2"}, train, {"t0", "t1", "t2", "t3", "t4"},
                               false, params, nullptr, &groups)["groups"];
  EXPECT_TRUE(only["train_file"].is_null());
  EXPECT_EQ(only["count"], 2);
  EXPECT_TRUE(only["groups"][0]["train"].is_null());
  EXPECT_TRUE(only["groups"][0]["above"][0]["baseline_fraction"].is_null());
  EXPECT_EQ(only["groups"][0]["above"][1]["generations"], 1);
  groups = make_scan_groups({}, {"A", "A", "B", "B", "C"}, false, "", "train.csv");
  only = scan_descriptors(gen, {"g0", "g1", "g2"}, train, {"t0", "t1", "t2", "t3", "t4"}, false,
                          params, nullptr, &groups)["groups"];
  EXPECT_TRUE(only["groups"][1]["generations"].is_null());
  EXPECT_EQ(only["groups"][1]["above"][0]["baseline"], 2);

  // Within groups: the same matches here (each generation's nearest image is of its group), but
  // t4, alone in C, has no other image of its group and leaves the baseline.
  groups =
      make_scan_groups({"A", "A", "B"}, {"A", "A", "B", "B", "C"}, true, "gen.csv", "train.csv");
  const json within =
      scan_descriptors(gen, {"g0", "g1", "g2"}, train, {"t0", "t1", "t2", "t3", "t4"}, false,
                       params, nullptr, &groups);
  EXPECT_EQ(within["baseline"]["sample"], 4);
  EXPECT_EQ(within["groups"]["groups"][2]["baseline_sample"], 0);
  EXPECT_TRUE(within["groups"]["groups"][2]["above"][0]["baseline_fraction"].is_null());
  EXPECT_EQ(within["groups"]["within_group"], true);
  EXPECT_NE(within["baseline"]["note"].get<std::string>().find("of its own group"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Within groups against brute force

struct GroupedData {
  FloatArray train, generated;
  std::vector<int32_t> train_group, generated_group;
};

// `n` training rows in 6 groups (group 5: rows 0-2, fewer than k), one more row alone in group 6;
// generations in groups 0..5, a third of them noisy copies of a random training row (mostly of
// another group, so that a search of the whole set finds them elsewhere). Not normalised.
GroupedData make_grouped(int64_t n, int64_t ng, int64_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  GroupedData d;
  d.train.shape = {n + 1, dim};
  d.train.data.resize(size_t((n + 1) * dim));
  for (auto& x : d.train.data) x = normal(rng);
  std::uniform_int_distribution<int32_t> pick(0, 4);
  for (int64_t i = 0; i < n; ++i) d.train_group.push_back(i < 3 ? 5 : pick(rng));
  d.train_group.push_back(6);
  d.generated.shape = {ng, dim};
  d.generated.data.resize(size_t(ng * dim));
  std::uniform_int_distribution<int64_t> row(0, n - 1);
  for (int64_t i = 0; i < ng; ++i) {
    float* r = d.generated.data.data() + i * dim;
    d.generated_group.push_back(i % 7 == 0 ? 5 : pick(rng));
    if (i % 3 == 0) {
      const int64_t src = row(rng);
      for (int64_t j = 0; j < dim; ++j) r[j] = d.train.row(src)[j] + 0.3f * normal(rng);
    } else {
      for (int64_t j = 0; j < dim; ++j) r[j] = normal(rng);
    }
  }
  return d;
}

// The rows as a scan sees them: L2-normalised once (a streamed scan normalises the rows it reads;
// normalising twice could move a value by one ulp).
GroupedData normalised(GroupedData d) {
  l2_normalize_rows(d.train);
  l2_normalize_rows(d.generated);
  return d;
}

// Each query's best k training rows of its group (other than `self`), every score by
// reference_score, ties by lower row: the definition.
metrics::TopKResult brute_force(const FloatArray& train, const std::vector<int32_t>& train_group,
                                const float* queries, const std::vector<int32_t>& query_group,
                                const std::vector<int64_t>& self, int64_t k) {
  const int64_t dim = train.row_size(), nq = int64_t(query_group.size());
  metrics::TopKResult r;
  r.nq = nq;
  r.k = k;
  r.ids.assign(size_t(nq * k), -1);
  r.scores.assign(size_t(nq * k), -std::numeric_limits<float>::infinity());
  for (int64_t q = 0; q < nq; ++q) {
    std::vector<std::pair<float, int64_t>> all;
    for (int64_t t = 0; t < train.rows(); ++t)
      if (train_group[size_t(t)] == query_group[size_t(q)] &&
          (self.empty() || self[size_t(q)] != t))
        all.emplace_back(reference_score(queries + q * dim, train.row(t), 1, dim), t);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return metrics::ranks_before(a.first, a.second, b.first, b.second);
    });
    for (size_t j = 0; j < all.size() && int64_t(j) < k; ++j) {
      r.scores[size_t(q * k) + j] = all[j].first;
      r.ids[size_t(q * k) + j] = all[j].second;
    }
  }
  return r;
}

std::vector<std::string> names(int64_t n) {
  std::vector<std::string> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(std::to_string(i));
  return v;
}

TEST_F(ScanGroupsTest, WithinGroupTopKAndBaselineEqualBruteForceInMemoryAndStreamed) {
  const GroupedData raw = make_grouped(20000, 120, 16, 3);
  const GroupedData d = normalised(raw);
  ScanParams params;
  params.k = 5;
  params.thresholds = {0.5, 0.9};
  params.baseline_sample = 300;
  params.seed = 4;
  params.index.kind = IndexKind::kAuto;  // within groups: exact whatever auto would pick
  params.index.exact_max = 10;
  std::vector<std::string> tg, gg;
  for (int32_t x : d.train_group) tg.push_back(fmt::format("c{}", x));
  for (int32_t x : d.generated_group) gg.push_back(fmt::format("c{}", x));
  const ScanGroups groups = make_scan_groups(gg, tg, true, "gen.csv", "train.csv");
  metrics::TopKResult mem;
  const json rec = scan_descriptors(d.generated, names(120), d.train, names(d.train.rows()), false,
                                    params, &mem, &groups);
  EXPECT_EQ(rec["search"]["method"], "exact");
  // The group ids of make_scan_groups are the natural order of "c0".."c6": the same numbers.
  ASSERT_EQ(groups.train, d.train_group);
  const metrics::TopKResult ref =
      brute_force(d.train, d.train_group, d.generated.data.data(), d.generated_group, {}, 5);
  EXPECT_EQ(mem.ids, ref.ids);
  EXPECT_EQ(mem.scores, ref.scores);
  // Group 5 has 3 training rows: its generations' lists end in -1.
  EXPECT_EQ(mem.ids[0 * 5 + 3], -1);
  // The copies of other groups' rows are not found: the whole-set search finds more above 0.9.
  const json whole =
      scan_descriptors(d.generated, names(120), d.train, names(d.train.rows()), false, [&] {
        ScanParams p = params;
        p.index.kind = IndexKind::kExact;
        return p;
      }());
  EXPECT_LT(rec["above"][1]["generations"].get<int64_t>(),
            whole["above"][1]["generations"].get<int64_t>());

  // The baseline: each sampled row (the lone row of group 6 never) against its group.
  const std::vector<int64_t> rows = within_group_baseline_rows(d.train_group, 300, 4);
  ASSERT_EQ(rows.size(), 300u);
  EXPECT_EQ(std::count(rows.begin(), rows.end(), d.train.rows() - 1), 0);
  std::vector<float> q;
  std::vector<int32_t> qg;
  for (int64_t r : rows) {
    q.insert(q.end(), d.train.row(r), d.train.row(r) + 16);
    qg.push_back(d.train_group[size_t(r)]);
  }
  const metrics::TopKResult base = brute_force(d.train, d.train_group, q.data(), qg, rows, 1);
  ASSERT_EQ(rec["baseline"]["top1"].size(), 300u);
  for (size_t i = 0; i < rows.size(); ++i)
    EXPECT_EQ(rec["baseline"]["top1"][i].get<float>(), base.scores[i]) << i;
  // Sample larger than the set: every row of a group of two or more.
  params.baseline_sample = 1000000;
  EXPECT_EQ(scan_descriptors(d.generated, names(120), d.train, names(d.train.rows()), false, params,
                             nullptr, &groups)["baseline"]["sample"],
            20000);
  params.baseline_sample = 300;

  // Streamed from two files, in blocks of 8192 rows: the same record, ids and scores.
  write_npy(path("t0.npy"), raw.train.data.data(), {9000, 16});
  write_npy(path("t1.npy"), raw.train.data.data() + 9000 * 16, {raw.train.rows() - 9000, 16});
  const DescriptorStream stream = DescriptorStream::open({path("t0.npy"), path("t1.npy")});
  StreamOptions so;
  so.block_rows = 100;
  metrics::TopKResult streamed;
  const json str =
      scan_streamed(d.generated, names(120), stream, false, params, so, &streamed, &groups);
  EXPECT_EQ(streamed.ids, mem.ids);
  EXPECT_EQ(streamed.scores, mem.scores);
  for (const char* key :
       {"generations_top1", "baseline", "above", "pairs", "duplicates", "notes", "groups"})
    EXPECT_EQ(str[key], rec[key]) << key;
}

// Token descriptors (split-product): the search within groups scores by split-product too.
TEST(ScanGroupsSplitProduct, WithinGroupTopKEqualsBruteForce) {
  const int64_t n = 3000, ng = 40, tokens = 3, dim = 8, k = 4;
  std::mt19937_64 rng(21);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  FloatArray train, gen;
  train.shape = {n, tokens, dim};
  gen.shape = {ng, tokens, dim};
  train.data.resize(size_t(n * tokens * dim));
  gen.data.resize(size_t(ng * tokens * dim));
  for (auto& x : train.data) x = normal(rng);
  for (auto& x : gen.data) x = normal(rng);
  l2_normalize_rows(train);
  l2_normalize_rows(gen);
  std::vector<std::string> tg, gg;
  for (int64_t i = 0; i < n; ++i) tg.push_back(fmt::format("g{}", (i * 7) % 5));
  for (int64_t i = 0; i < ng; ++i) gg.push_back(fmt::format("g{}", i % 5));
  const ScanGroups groups = make_scan_groups(gg, tg, true, "gen.csv", "train.csv");
  ScanParams params;
  params.k = k;
  params.thresholds = {0.2};
  params.baseline_sample = 50;
  metrics::TopKResult got;
  scan_descriptors(gen, names(ng), train, names(n), true, params, &got, &groups);
  for (int64_t q = 0; q < ng; ++q) {
    std::vector<std::pair<float, int64_t>> all;
    for (int64_t t = 0; t < n; ++t)
      if (groups.train[size_t(t)] == groups.generated[size_t(q)])
        all.emplace_back(reference_score(gen.row(q), train.row(t), tokens, dim), t);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return metrics::ranks_before(a.first, a.second, b.first, b.second);
    });
    for (int64_t j = 0; j < k; ++j) {
      EXPECT_EQ(got.ids[size_t(q * k + j)], all[size_t(j)].second) << q << " " << j;
      EXPECT_EQ(got.scores[size_t(q * k + j)], all[size_t(j)].first) << q << " " << j;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Through the command line

TEST_F(ScanGroupsTest, CommandLineWritesGroupsAndRefusesBadGroupsFiles) {
  const GroupedData d = make_grouped(300, 40, 8, 9);
  write_npy(path("train.npy"), d.train.data.data(), d.train.shape);
  write_npy(path("gen.npy"), d.generated.data.data(), d.generated.shape);
  // Training rows named by a list; generations by their index.
  {
    std::ofstream list(path("train.txt"));
    for (int64_t i = 0; i < d.train.rows(); ++i) list << "train/" << i << ".png\n";
    std::ofstream tg(path("tg.csv")), gg(path("gg.csv"));
    tg << "path,group\n";
    for (int64_t i = 0; i < d.train.rows(); ++i)
      tg << "train/" << i << ".png,class " << d.train_group[size_t(i)] << "\n";
    for (int64_t i = 0; i < d.generated.rows(); ++i)
      gg << i << ",\"class " << d.generated_group[size_t(i)] << "\"\n";
  }
  const std::string sides = " --generated-descriptors " + path("gen.npy") +
                            " --train-descriptors " + path("train.npy") + " --train-list " +
                            path("train.txt") + " --threshold 0.5,0.8 --k 3";
  const std::string groups =
      " --generated-groups " + path("gg.csv") + " --train-groups " + path("tg.csv");
  Run r = repbench("scan" + sides + groups + " --within-group --out " + path("w"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("7 groups (searched within each group)"), std::string::npos) << r.out;
  const json w = json::parse(slurp(path("w/scan.json")));
  ASSERT_EQ(w["groups"]["count"], 7);
  EXPECT_EQ(w["groups"]["groups"][0]["group"], "class 0");
  EXPECT_EQ(w["groups"]["within_group"], true);
  // Every match is of the generation's group.
  for (size_t i = 0; i < w["pairs"].size(); ++i) {
    const int64_t t = std::stoll(w["pairs"][i]["train"].get<std::string>().substr(6));
    EXPECT_EQ(d.train_group[size_t(t)], d.generated_group[i]) << i;
  }
  const std::string page = slurp(path("w/report.html"));
  EXPECT_NE(page.find("<table class=\"groups\" data-groups=\"7\">"), std::string::npos);
  EXPECT_NE(page.find("<td class=\"l\">class 5</td>"), std::string::npos);
  // Groups without --within-group: the search and the whole-scan numbers are those without
  // groups; a scan without groups has no "groups" and no groups table.
  r = repbench("scan" + sides + groups + " --out " + path("g"));
  ASSERT_EQ(r.status, 0) << r.err;
  r = repbench("scan" + sides + " --out " + path("p"));
  ASSERT_EQ(r.status, 0) << r.err;
  const json g = json::parse(slurp(path("g/scan.json")));
  const json p = json::parse(slurp(path("p/scan.json")));
  EXPECT_EQ(g["groups"]["within_group"], false);
  EXPECT_FALSE(p.contains("groups"));
  EXPECT_EQ(slurp(path("g/matches.csv")), slurp(path("p/matches.csv")));
  for (const char* key : {"above", "baseline", "pairs", "notes"}) EXPECT_EQ(g[key], p[key]) << key;
  EXPECT_EQ(slurp(path("p/report.html")).find("class=\"groups\""), std::string::npos);

  // Bad groups files: one line naming the file and the problem, no scan.json.
  write("unknown.csv", slurp(path("tg.csv")) + "train/300000.png,class 1\n");
  EXPECT_BAD_INPUT(
      repbench("scan" + sides + " --train-groups " + path("unknown.csv") + " --out " + path("x")),
      path("unknown.csv"), "line 303: 'train/300000.png' is not a training image of this scan",
      path("x"));
  write("empty.csv", "0,a\n1,\n");
  EXPECT_BAD_INPUT(
      repbench("scan" + sides + " --generated-groups " + path("empty.csv") + " --out " + path("x")),
      path("empty.csv"), "line 2: the group of '1' is empty", path("x"));
  write("three.csv", "path,group\n0,a,b\n");
  EXPECT_BAD_INPUT(
      repbench("scan" + sides + " --generated-groups " + path("three.csv") + " --out " + path("x")),
      path("three.csv"), "line 2: expected 'path,group', found 3 fields", path("x"));
  write("partial.csv", "0,a\n1,a\n");
  EXPECT_BAD_INPUT(repbench("scan" + sides + " --generated-groups " + path("partial.csv") +
                            " --out " + path("x")),
                   path("partial.csv"), "no group for the generated image '2' (38 of 40",
                   path("x"));
  std::string stray = slurp(path("gg.csv"));
  stray.replace(stray.find("\"class "), 9, "\"class 9\"");  // the first generation's group
  write("stray.csv", stray);
  EXPECT_BAD_INPUT(
      repbench("scan" + sides + " --train-groups " + path("tg.csv") + " --generated-groups " +
               path("stray.csv") + " --within-group --out " + path("x")),
      path("stray.csv"), "unknown group 'class 9", path("x"));
  EXPECT_BAD_INPUT(repbench("scan" + sides + " --generated-groups " + path("gg.csv") +
                            " --within-group --out " + path("x")),
                   "--within-group", "needs both --generated-groups and --train-groups", path("x"));
  EXPECT_BAD_INPUT(
      repbench("scan" + sides + groups + " --within-group --index hnsw --out " + path("x")),
      "--within-group", "give --index exact (or auto), not 'hnsw'", path("x"));
  EXPECT_BAD_INPUT(
      repbench("scan" + sides + " --train-groups " + path("missing.csv") + " --out " + path("x")),
      path("missing.csv"), "", path("x"));
}

// Groups in a job array: each task assigns the groups over the whole list, searches its shard
// (within groups with --within-group) and the merge gives the grouped scan of all shards, groups
// record included, without reading the shards.
TEST_F(ScanGroupsTest, PartialScansWithGroupsMergeToTheGroupedScan) {
  const GroupedData d = make_grouped(300, 40, 8, 9);
  std::vector<std::string> names;
  for (int64_t i = 0; i < d.train.rows(); ++i) names.push_back(fmt::format("train/{}.png", i));
  const std::vector<std::string> shards =
      test_support::write_shard_files(d.train, names, 4, path("feats"));
  write_npy(path("gen.npy"), d.generated.data.data(), d.generated.shape);
  {
    std::ofstream tg(path("tg.csv")), gg(path("gg.csv"));
    for (int64_t i = 0; i < d.train.rows(); ++i)
      tg << names[size_t(i)] << ",class " << d.train_group[size_t(i)] << "\n";
    for (int64_t i = 0; i < d.generated.rows(); ++i)
      gg << i << ",class " << d.generated_group[size_t(i)] << "\n";
  }
  // Only matches above a threshold get a duplicate count: the partials then hold them all.
  const std::string groups = " --generated-descriptors " + path("gen.npy") +
                             " --threshold 0.5,0.8 --k 3 --baseline-sample 40 --duplicate-sample 0"
                             " --generated-groups " +
                             path("gg.csv") + " --train-groups " + path("tg.csv");
  for (const std::string within : {"", " --within-group"}) {
    SCOPED_TRACE(within);
    const std::string dir = within.empty() ? "shares" : "within";
    Run r = repbench("scan" + groups + within + " --train-descriptors " + shards[0] + " " +
                     shards[1] + " " + shards[2] + " " + shards[3] + " --out " + path(dir + "/one"));
    ASSERT_EQ(r.status, 0) << r.err;
    std::string parts;
    for (int i : {2, 0, 3, 1}) {
      const std::string part = path(fmt::format("{}/p{}.json", dir, i));
      r = repbench("scan" + groups + within + " --train-descriptors " + shards[size_t(i)] +
                   " --partial " + part + " --out " + path("task"));
      ASSERT_EQ(r.status, 0) << r.err;
      parts += " " + part;
    }
    fs::rename(path("feats"), path("feats.away"));
    r = repbench("scan merge" + parts + " --out " + path(dir + "/merged"));
    fs::rename(path("feats.away"), path("feats"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(slurp(path(dir + "/merged/matches.csv")), slurp(path(dir + "/one/matches.csv")));
    const json a = json::parse(slurp(path(dir + "/one/scan.json")));
    const json b = json::parse(slurp(path(dir + "/merged/scan.json")));
    for (const char* key : {"groups", "generations_top1", "baseline", "above", "pairs", "duplicates"})
      EXPECT_EQ(a[key], b[key]) << key;
    EXPECT_EQ(b["groups"]["within_group"], !within.empty());
    EXPECT_EQ(b["groups"]["count"], 7);
    EXPECT_EQ(b["stream"]["shards_read"], false);
  }
  // Partials of other groups files are another scan's.
  {
    std::ofstream gg(path("gg2.csv"));
    for (int64_t i = 0; i < d.generated.rows(); ++i) gg << i << ",class " << (i % 5) << "\n";
  }
  Run r = repbench("scan --generated-descriptors " + path("gen.npy") +
                   " --threshold 0.5,0.8 --k 3 --baseline-sample 40 --duplicate-sample 0"
                   " --generated-groups " + path("gg2.csv") + " --train-groups " + path("tg.csv") + " --train-descriptors " +
                   shards[1] + " --partial " + path("other.json") + " --out " + path("task"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_BAD_INPUT(repbench("scan merge " + path("shares/p0.json") + " " + path("other.json") +
                            " " + path("shares/p2.json") + " " + path("shares/p3.json") +
                            " --out " + path("x")),
                   path("other.json"), "a partial of another scan (groups differs", path("x"));
}

}  // namespace
