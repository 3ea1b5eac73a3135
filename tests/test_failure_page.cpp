// Tests of the failure pages (report/failure_page.h) and `repbench explain`, on the hand-built
// set and record of tests/support/failure_fixture.h: the worst-query order, the false-positive selection
// (junk excluded), the crop box's place, missing images as named boxes, the comparison of two
// records, the leaderboard's links, and bad input as one line with exit status 2. The page in a
// real browser is tested in tests/test_scan_report.cpp with the other pages.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/descriptors.h"
#include "core/npy.h"
#include "core/rng.h"
#include "core/subprocess.h"
#include "datasets/set_registry.h"
#include "metrics/rerank.h"
#include "postprocess/postprocess.h"
#include "report/failure_page.h"
#include "report/leaderboard.h"
#include "support/bad_input.h"
#include "support/failure_fixture.h"

namespace repbench::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_fixture::FailureFixture;
using testing_fixture::make_failure_fixture;
using testing_fixture::make_fixture_record;

class FailurePage : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("repbench_test_failure_page_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fx_ = make_failure_fixture(dir_);
    set_ = datasets::load_set({fx_.set_dir.string(), "", "", ""});
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // `repbench ARGS...`: exit status and stderr.
  ProcessResult repbench(std::vector<std::string> args) const {
    args.insert(args.begin(), REPBENCH_BINARY);
    return run_process(args, {}, 120);
  }

  fs::path dir_;
  FailureFixture fx_;
  datasets::RetrievalSet set_;
};

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

// The values of `attr="..."` in page order.
std::vector<std::string> attributes(const std::string& html, const std::string& attr) {
  std::vector<std::string> out;
  const std::string key = " " + attr + "=\"";
  for (size_t at = html.find(key); at != std::string::npos; at = html.find(key, at + 1)) {
    const size_t start = at + key.size();
    out.push_back(html.substr(start, html.find('"', start) - start));
  }
  return out;
}

// The HTML of the section of query `q` (up to the next section).
std::string section(const std::string& html, int q) {
  const size_t at = html.find(fmt::format("<section class=\"failure\" data-query=\"{}\"", q));
  if (at == std::string::npos) return {};
  return html.substr(at, html.find("</section>", at) - at);
}

TEST_F(FailurePage, QueriesHashAsTheContractSays) {
  EXPECT_EQ(records::set_queries_sha256(set_), fx_.sha);
}

// The canonical query text hashed by Python from the pickles of the real ground truth, with
// revisitop's protocol rules written out here (easy: ok = easy, junk = junk + hard; medium:
// ok = easy + hard, junk = junk; hard: ok = hard, junk = junk + easy).
TEST(QueriesSha256, EqualsAnIndependentHashOnRealGroundTruth) {
  const char* code = R"PY(
import hashlib, pickle, sys
g = pickle.load(open(sys.argv[1], 'rb'))
for proto in ['easy', 'medium', 'hard']:
    text = ''
    for q, r in zip(g['qimlist'], g['gnd']):
        e, h, j = set(r['easy']), set(r['hard']), set(r['junk'])
        ok, junk = {'easy': (e, j | h), 'medium': (e | h, j), 'hard': (h, j | e)}[proto]
        text += 'jpg/%s.jpg\t%s\t%s\n' % (q, ','.join(map(str, sorted(ok))),
                                          ','.join(map(str, sorted(junk))))
    print(hashlib.sha256(text.encode()).hexdigest())
)PY";
  for (const std::string set : {"roxford5k", "rparis6k"}) {
    const std::string gnd = std::string(REPBENCH_SHARED_DIR) + "/data/gnd/gnd_" + set + ".pkl";
    const ProcessResult py = run_process({"/usr/bin/python3", "-c", code, gnd}, {}, 120);
    ASSERT_EQ(py.exit_code, 0) << py.err;
    std::vector<std::string> want;
    for (size_t at = 0; at < py.out.size(); at += 65) want.push_back(py.out.substr(at, 64));
    ASSERT_EQ(want.size(), 3u) << py.out;
    const std::vector<std::string> protocols = {"easy", "medium", "hard"};
    for (size_t p = 0; p < protocols.size(); ++p)
      EXPECT_EQ(records::set_queries_sha256(datasets::load_set({set, protocols[p], "", gnd})),
                want[p])
          << set << " " << protocols[p];
  }
}

TEST_F(FailurePage, ReadsTheRecordAndItsInt32TopIds) {
  const records::RecordQueries pq = records::read_record_queries(fx_.record.string());
  EXPECT_EQ(pq.model, "model-a");
  ASSERT_EQ(pq.ap.size(), 4u);
  EXPECT_DOUBLE_EQ(*pq.ap[0], 0.2);
  EXPECT_FALSE(pq.ap[2].has_value());
  EXPECT_EQ(pq.k, 4);
  EXPECT_EQ(pq.top_ids, std::vector<int64_t>(fx_.top.begin(), fx_.top.end()));
  EXPECT_NO_THROW(records::check_same_queries(pq, set_));
}

TEST_F(FailurePage, FalsePositivesAreThoseAboveTheBestPositiveLessJunk) {
  const records::RecordQueries pq = records::read_record_queries(fx_.record.string());
  QueryFailure f = explain_query(pq, set_, 0, 10);
  ASSERT_TRUE(f.best_positive);
  EXPECT_EQ(f.best_positive->db, 3);
  EXPECT_EQ(f.best_positive->rank, 4);
  ASSERT_EQ(f.false_positives.size(), 2u);
  EXPECT_EQ(f.false_positives[0].db, 2);
  EXPECT_EQ(f.false_positives[0].rank, 2);
  EXPECT_EQ(f.false_positives[1].db, 4);
  EXPECT_EQ(f.false_positives[1].rank, 3);
  EXPECT_EQ(f.false_positives_total, 2);
  EXPECT_EQ(f.junk_above, 1);  // db 1 at rank 1

  f = explain_query(pq, set_, 1, 10);  // positive first: nothing above it
  EXPECT_EQ(f.best_positive->rank, 1);
  EXPECT_TRUE(f.false_positives.empty());

  // No positive in the top 4: every non-junk id is a false positive, and the ground truth's
  // positive is shown with an unknown rank (0).
  f = explain_query(pq, set_, 3, 2);
  ASSERT_TRUE(f.best_positive);
  EXPECT_EQ(f.best_positive->db, 9);
  EXPECT_EQ(f.best_positive->rank, 0);
  EXPECT_EQ(f.false_positives_total, 3);
  ASSERT_EQ(f.false_positives.size(), 2u);  // capped
  EXPECT_EQ(f.false_positives[0].db, 2);
  EXPECT_EQ(f.false_positives[1].db, 6);
  EXPECT_EQ(f.junk_above, 1);
}

TEST_F(FailurePage, WorstQueriesLowestApFirstTiesByIndexLeftOutSkipped) {
  const records::RecordQueries pq = records::read_record_queries(fx_.record.string());
  EXPECT_EQ(worst_queries(pq, 20), (std::vector<int64_t>{0, 3, 1}));
  EXPECT_EQ(worst_queries(pq, 2), (std::vector<int64_t>{0, 3}));
}

TEST_F(FailurePage, PageShowsWorstQueriesBoxAndFalsePositives) {
  const std::string out = (dir_ / "page.html").string();
  write_failure_page(fx_.record.string(), set_, out);
  const std::string html = read_file(out);
  EXPECT_EQ(attributes(html, "data-query"), (std::vector<std::string>{"0", "3", "1"}));
  EXPECT_EQ(count(html, "class=\"thumb missing\""), 0u);
  // Query 0: its crop box (crop_qim.m's pixels of the 200x150 image: columns 10..130, rows
  // 6..80) in percent of the image, then the positive and the two false positives, junk absent.
  const std::string s0 = section(html, 0);
  EXPECT_THAT(s0, HasSubstr("data-rect=\"10,6,131,81\" "
                            "style=\"left:5.0000%;top:4.0000%;width:60.5000%;height:50.0000%\""));
  EXPECT_EQ(attributes(s0, "data-db"), (std::vector<std::string>{"3", "2", "4"}));
  EXPECT_EQ(attributes(s0, "data-rank"), (std::vector<std::string>{"4", "2", "3"}));
  EXPECT_EQ(count(s0, "class=\"item fp\""), 2u);
  EXPECT_THAT(s0, HasSubstr("1 junk (not counted)"));
  EXPECT_EQ(count(s0, "<img src=\"data:image/jpeg;base64,"), 4u);
  // Query 3 has no box; its positive is outside the top 4.
  const std::string s3 = section(html, 3);
  EXPECT_EQ(count(s3, "class=\"bbx\""), 0u);
  EXPECT_THAT(s3, HasSubstr("rank &gt; 4"));
  EXPECT_THAT(s3, HasSubstr("3 false positives in the top 4, which holds no positive"));
  EXPECT_THAT(s0, HasSubstr("2 false positives above the best positive"));
  EXPECT_EQ(attributes(s3, "data-db"), (std::vector<std::string>{"9", "2", "6", "8"}));
  // --worst caps the queries.
  write_failure_page(fx_.record.string(), set_, out, {1, 10, 100});
  EXPECT_EQ(attributes(read_file(out), "data-query"), (std::vector<std::string>{"0"}));
}

TEST_F(FailurePage, ScoresFromTheRecordsDescriptorsWhenGiven) {
  // Query rows (1, 0) and database row j = (j, 1): the inner product of query i and item j is j.
  std::vector<float> q(4 * 2, 0.f), db(10 * 2, 1.f);
  for (int i = 0; i < 4; ++i) q[2 * i] = 1.f;
  for (int j = 0; j < 10; ++j) db[2 * j] = static_cast<float>(j);
  write_npy((dir_ / "q.npy").string(), q.data(), {4, 2});
  write_npy((dir_ / "db.npy").string(), db.data(), {10, 2});
  const ProcessResult r = repbench({"explain", fx_.record.string(), "--root", fx_.set_dir.string(),
                                    "-q", (dir_ / "q.npy").string(), "-d",
                                    (dir_ / "db.npy").string(), "--out", dir_.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = read_file((dir_ / "model-a.failure-fixture.failures.html").string());
  const std::string s0 = section(html, 0);
  EXPECT_THAT(s0, HasSubstr("best positive &middot; rank 4 &middot; <span class=\"score\">3.000"));
  EXPECT_THAT(s0, HasSubstr("false positive &middot; rank 2 &middot; <span class=\"score\">2.000"));
  EXPECT_THAT(s0, HasSubstr("false positive &middot; rank 3 &middot; <span class=\"score\">4.000"));
  EXPECT_THAT(html, HasSubstr("recomputed from the descriptors given"));
  // Descriptors the record names by another sha256 are refused, in one line.
  json named = fx_.record_json;
  named["inputs"] = {{"query_features", {{"path", "q.npy"}, {"sha256", std::string(64, '0')}}}};
  write_file_atomic(fx_.record.string(), named.dump());
  const ProcessResult bad = repbench({"explain", fx_.record.string(), "--root",
                                      fx_.set_dir.string(), "-q", (dir_ / "q.npy").string(), "-d",
                                      (dir_ / "db.npy").string()});
  // Without --out the page would go beside the record.
  EXPECT_BAD_INPUT(bad, (dir_ / "q.npy").string(), "not the descriptors",
                   (dir_ / "records" / "model-a.failure-fixture.failures.html").string());
  // Without descriptors the page shows ranks only.
  write_failure_page(fx_.record.string(), set_, (dir_ / "plain.html").string());
  EXPECT_EQ(count(read_file((dir_ / "plain.html").string()), "class=\"score\""), 0u);
}

// `explain` scores a record as it was scored: for a record `eval` made with --postprocess and
// --rerank, every shown item sits at the record's rank (its top ids) with the score eval ranked
// by, recomputed here from the steps themselves (the trained chain, L2, alpha-QE, dot products).
TEST_F(FailurePage, ExplainScoresARecordMadeWithPostprocessAndRerankAsItWasScored) {
  Rng rng(11);
  auto random = [&](int64_t n, int64_t d) {
    FloatArray a;
    a.shape = {n, d};
    for (int64_t i = 0; i < n * d; ++i) a.data.push_back(static_cast<float>(rng.normal()));
    return a;
  };
  const FloatArray q = random(4, 8), db = random(10, 8), train = random(40, 8);
  const std::string qf = (dir_ / "q.npy").string(), df = (dir_ / "db.npy").string(),
                    tf = (dir_ / "train.npy").string(), cache = (dir_ / "cache").string(),
                    rec = (dir_ / "pp.json").string();
  write_npy(qf, q.data.data(), q.shape);
  write_npy(df, db.data.data(), db.shape);
  write_npy(tf, train.data.data(), train.shape);
  const char* kChain = "PCAW4,L2norm";
  const char* kRerank = "aqe:k=2,alpha=3";
  const ProcessResult e =
      repbench({"eval", "--set", (fx_.set_dir / "gnd.json").string(), "-q", qf, "-d", df,
                "--postprocess", kChain, "--postprocess-train", tf, "--postprocess-cache", cache,
                "--rerank", kRerank, "--bootstrap", "0", "--out", rec});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const ProcessResult x = repbench({"explain", rec, "--root", fx_.set_dir.string(), "-q", qf, "-d",
                                    df, "--postprocess-cache", cache, "--out", dir_.string()});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  const std::string html = read_file((dir_ / "pp.failures.html").string());

  FloatArray eq = q, edb = db;
  const postprocess::Postprocessor chain = postprocess::Postprocessor::prepare(kChain, tf, cache, 8);
  chain.apply(eq, "q");
  chain.apply(edb, "db");
  l2_normalize_rows(eq);
  l2_normalize_rows(edb);
  metrics::apply_rerank(metrics::parse_rerank(kRerank), eq, edb, 1);
  auto dot = [](const FloatArray& a, int64_t i, const FloatArray& b, int64_t j) {
    double s = 0;
    for (int64_t t = 0; t < a.row_size(); ++t) s += double(a.row(i)[t]) * b.row(j)[t];
    return s;
  };
  const records::RecordQueries rq = records::read_record_queries(rec);
  int shown = 0, unlike_raw = 0;
  for (int query : {0, 1, 3}) {
    const std::string sec = section(html, query);
    ASSERT_FALSE(sec.empty()) << query;
    std::vector<std::pair<int64_t, double>> ranked;  // (rank, score) of the ranked items
    for (size_t at = sec.find(" data-db=\""); at != std::string::npos;
         at = sec.find(" data-db=\"", at + 1)) {
      const int64_t item = std::stoll(sec.substr(at + 10));
      const size_t r = sec.find("data-rank=\"", at) + 11;
      const int64_t rank = std::stoll(sec.substr(r));
      const size_t v = sec.find("class=\"score\">", at);
      ASSERT_NE(v, std::string::npos) << "query " << query << ": item " << item << " has no score";
      const double score = std::stod(sec.substr(v + 14));
      if (rank > 0) {
        EXPECT_EQ(rq.top_ids[size_t(query * rq.k + rank - 1)], item) << "query " << query;
        ranked.emplace_back(rank, score);
      }
      EXPECT_NEAR(score, dot(eq, query, edb, item), 6e-4) << "query " << query << " item " << item;
      unlike_raw += std::abs(dot(eq, query, edb, item) - dot(q, query, db, item)) > 0.05;
      ++shown;
    }
    std::sort(ranked.begin(), ranked.end());
    for (size_t i = 1; i < ranked.size(); ++i)
      EXPECT_GE(ranked[i - 1].second + 1e-3, ranked[i].second) << "query " << query;
  }
  EXPECT_GE(shown, 3);
  EXPECT_GT(unlike_raw, 0);  // the steps change the scores: raw products would not pass
}

TEST_F(FailurePage, MissingImagesAreNamedBoxes) {
  fs::remove(fx_.set_dir / "q0.png");
  fs::remove(fx_.set_dir / "d2.png");
  write_file_atomic((fx_.set_dir / "d4.png").string(), "not a png");
  const std::string out = (dir_ / "page.html").string();
  ASSERT_NO_THROW(write_failure_page(fx_.record.string(), set_, out));
  const std::string s0 = section(read_file(out), 0);
  EXPECT_EQ(count(s0, "class=\"thumb missing\""), 3u);
  EXPECT_THAT(s0, HasSubstr("<strong>missing</strong><span>q0.png</span>"));
  EXPECT_THAT(s0, HasSubstr("<strong>missing</strong><span>d2.png</span>"));
  EXPECT_THAT(s0, HasSubstr("<strong>unreadable</strong><span>d4.png</span>"));
}

TEST_F(FailurePage, ComparisonOrdersByApDifference) {
  const fs::path b = dir_ / "records" / "model-b.failure-fixture.json";
  make_fixture_record(b, "model-b", {0.3, 0.1, nullptr, 0.9}, fx_.top, fx_.sha);
  const records::RecordQueries pa = records::read_record_queries(fx_.record.string());
  const records::RecordQueries pb = records::read_record_queries(b.string());
  // |diff|: q0 0.1, q1 0.8, q3 0.7
  EXPECT_EQ(most_different_queries(pa, pb, 20), (std::vector<int64_t>{1, 3, 0}));
  const std::string out = (dir_ / "vs.html").string();
  write_comparison_page(fx_.record.string(), b.string(), set_, out);
  const std::string html = read_file(out);
  EXPECT_EQ(attributes(html, "data-query"), (std::vector<std::string>{"1", "3", "0"}));
  EXPECT_EQ(attributes(html, "data-ap-a"), (std::vector<std::string>{"0.9", "0.2", "0.2"}));
  EXPECT_EQ(attributes(html, "data-ap-b"), (std::vector<std::string>{"0.1", "0.9", "0.3"}));
  EXPECT_THAT(html, HasSubstr("model-a"));
  EXPECT_THAT(html, HasSubstr("model-b"));
}

TEST_F(FailurePage, ExplainWritesThePageTheLeaderboardLinks) {
  const ProcessResult r = repbench({"explain", fx_.record.string(), "--root", fx_.set_dir.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string page = failure_page_path(fx_.record.string());
  EXPECT_EQ(page, (dir_ / "records" / "model-a.failure-fixture.failures.html").string());
  ASSERT_TRUE(fs::exists(page));
  EXPECT_THAT(r.out, HasSubstr(page));
  // The html leaderboard written to the run's folder links the cell to the page.
  const ProcessResult lb =
      repbench({"leaderboard", "--records", fx_.record.string(), "--format", "html", "--out",
                (dir_ / "leaderboard.html").string()});
  ASSERT_EQ(lb.exit_code, 0) << lb.err;
  EXPECT_THAT(read_file((dir_ / "leaderboard.html").string()),
              HasSubstr("<a href=\"records/model-a.failure-fixture.failures.html\">"));
  // Two records: the comparison page.
  const fs::path b = dir_ / "records" / "model-b.failure-fixture.json";
  make_fixture_record(b, "model-b", {0.3, 0.1, nullptr, 0.9}, fx_.top, fx_.sha);
  const ProcessResult vs = repbench({"explain", fx_.record.string(), b.string(), "--root",
                                     fx_.set_dir.string(), "--out", dir_.string()});
  ASSERT_EQ(vs.exit_code, 0) << vs.err;
  EXPECT_TRUE(fs::exists(dir_ / "model-a.failure-fixture.vs.model-b.failure-fixture.html"));
}

TEST_F(FailurePage, LeaderboardLinksOnlyCellsWithAPage) {
  Leaderboard board = build_leaderboard(load_records({fx_.record.string()}));
  EXPECT_TRUE(board.rows[0].cells[0].page.empty());
  EXPECT_THAT(render(board, Format::kHtml), Not(HasSubstr("<a href")));
  write_file_atomic(failure_page_path(fx_.record.string()), "<p>page</p>");
  board = build_leaderboard(load_records({fx_.record.string()}));
  relative_page_links(board, (dir_ / "records").string());
  EXPECT_EQ(board.rows[0].cells[0].page, "model-a.failure-fixture.failures.html");
}

TEST_F(FailurePage, BadInputIsOneLineAndExitTwo) {
  const std::string rec = fx_.record.string();
  const std::vector<std::string> args = {"--root", fx_.set_dir.string(), "--out", dir_.string()};
  auto explain = [&](const std::string& record) {
    std::vector<std::string> a = {"explain", record};
    a.insert(a.end(), args.begin(), args.end());
    return repbench(a);
  };
  // The page explain would write for `record` (in --out).
  auto page = [&](const std::string& record) {
    return (dir_ / (fs::path(record).stem().string() + ".failures.html")).string();
  };
  // Without per-query data (a schema-1 record).
  json old = fx_.record_json;
  old["schema"] = "repbench.record/1";
  old.erase("per_query");
  const std::string old_path = (dir_ / "old.json").string();
  write_file_atomic(old_path, old.dump());
  EXPECT_BAD_INPUT(explain(old_path), old_path, "no per-query data", page(old_path));
  // Another schema.
  json other = fx_.record_json;
  other["schema"] = "repbench.record/3";
  const std::string other_path = (dir_ / "other.json").string();
  write_file_atomic(other_path, other.dump());
  EXPECT_BAD_INPUT(explain(other_path), other_path, "schema", page(other_path));
  // Queries of another ground truth.
  json moved = fx_.record_json;
  moved["per_query"]["queries_sha256"] = std::string(64, 'a');
  const std::string moved_path = (dir_ / "records" / "moved.json").string();
  write_file_atomic(moved_path, moved.dump());
  EXPECT_BAD_INPUT(explain(moved_path), moved_path, "queries_sha256", page(moved_path));
  // Its top-ids file gone.
  fs::remove(dir_ / "records" / "model-a.failure-fixture.top100.npy");
  ProcessResult r = explain(rec);
  EXPECT_BAD_INPUT(r, "model-a.failure-fixture.top100.npy", rec, page(rec));
  // Two records of different queries (the page would go beside the first).
  const fs::path b = dir_ / "records" / "b.json";
  make_fixture_record(b, "model-b", {0.3, 0.1, nullptr, 0.9}, fx_.top, std::string(64, 'b'));
  make_fixture_record(fx_.record, "model-a", {0.2, 0.9, nullptr, 0.2}, fx_.top, fx_.sha);
  r = repbench({"explain", rec, b.string(), "--root", fx_.set_dir.string()});
  EXPECT_BAD_INPUT(r, b.string(), "different queries",
                   (dir_ / "records" / "model-a.failure-fixture.vs.b.html").string());
  // Ids outside the database.
  std::vector<int32_t> top = fx_.top;
  top[5] = 10;
  make_fixture_record(fx_.record, "model-a", {0.2, 0.9, nullptr, 0.2}, top, fx_.sha);
  EXPECT_BAD_INPUT(explain(rec), "top100.npy", "10", page(rec));
}

}  // namespace
}  // namespace repbench::report
