// Tests of report/: result records (write, read, validation, labels) and the leaderboard (ranks,
// missing and skipped cells, grouping, and the four renderings).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/version.h"
#include "records/record.h"
#include "records/record_envelope.h"
#include "report/html_page.h"
#include "report/leaderboard.h"
#include "support/bad_input.h"
#include "support/temp_dir.h"

namespace repbench::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using State = LeaderboardCell::State;
// The records the leaderboard reads (records/record.h).
using records::dataset_label;
using records::kRecordSchema;
using records::read_record;
using records::write_record;

// A fresh folder under the system temp dir, removed at the end of the test.
class TempDir : public tests::TempDir {
 public:
  TempDir() : tests::TempDir("test_report") {}
};

using test_support::error_of;  // the message of the repbench::Error a call throws

ScoreEntry score(const std::string& model, const std::string& category, const std::string& dataset,
                 double map_percent) {
  ScoreEntry e;
  e.model = model;
  e.category = category;
  e.dataset = dataset;
  e.map_percent = map_percent;
  e.origin = "test:" + model + "/" + dataset;
  return e;
}

ScoreEntry skipped(const std::string& model, const std::string& category,
                   const std::string& dataset, const std::string& reason) {
  ScoreEntry e = score(model, category, dataset, std::nan(""));
  e.skipped_reason = reason;
  return e;
}

json ok_record(const std::string& model, const std::string& category, const std::string& dataset,
               double map) {
  json r = {{"schema", kRecordSchema},
            {"model", {{"name", model}}},
            {"set", "roxford5k"},
            {"protocol", "medium"},
            {"dataset", dataset},
            {"similarity", "inner-product"},
            {"metrics", {{"map", map}, {"mp@1", 0.9}, {"queries_scored", 70}}},
            {"status", "ok"},
            {"seed", 0},
            {"context", records::record_context()}};
  if (!category.empty()) r["model"]["category"] = category;
  return r;
}

const LeaderboardRow& row_named(const Leaderboard& board, const std::string& model) {
  for (const auto& row : board.rows)
    if (row.model == model) return row;
  ADD_FAILURE() << "no row " << model;
  static LeaderboardRow none;
  return none;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Records

TEST(RecordsEnvelope, SchemaContextAndTimings) {
  const char* before = std::getenv("OMP_WAIT_POLICY");
  const std::string saved = before ? before : "";
  setenv("OMP_WAIT_POLICY", "passive", 1);
  const nlohmann::json e = records::record_envelope("repbench.test/3", {{"stage_seconds", 1.5}});
  EXPECT_EQ(e.size(), 3u) << e;
  EXPECT_EQ(e["schema"], "repbench.test/3");
  EXPECT_EQ(e["timings"], (nlohmann::json{{"stage_seconds", 1.5}}));
  const nlohmann::json& c = e["context"];
  // Every field of version_info(), then where and when.
  const nlohmann::json versions = version_info();
  for (const auto& [key, value] : versions.items()) EXPECT_EQ(c[key], value) << key;
  EXPECT_EQ(c["repbench"], version());
  EXPECT_EQ(c["git_commit"], git_commit());
  EXPECT_EQ(c["omp_wait_policy"], "passive");
  ASSERT_TRUE(c["date"].is_string());
  EXPECT_EQ(c["date"].get<std::string>().size(), std::string("2026-11-23T09:00:00Z").size());
  EXPECT_FALSE(c["host"].get<std::string>().empty());
  // No policy set: null, not a guess.
  unsetenv("OMP_WAIT_POLICY");
  EXPECT_TRUE(records::record_context()["omp_wait_policy"].is_null());
  EXPECT_EQ(records::record_envelope("repbench.test/3")["timings"], nlohmann::json::object());
  if (before) setenv("OMP_WAIT_POLICY", saved.c_str(), 1);
}

TEST(ReportRecord, DatasetLabels) {
  EXPECT_EQ(dataset_label("roxford5k", "medium"), "rOxford5k (M)");
  EXPECT_EQ(dataset_label("rparis6k", "hard"), "rParis6k (H)");
  EXPECT_EQ(dataset_label("roxford5k", "easy"), "rOxford5k (E)");
  EXPECT_EQ(dataset_label("gpr1200", "default"), "GPR1200");
  EXPECT_EQ(dataset_label("instre", "official"), "INSTRE");
  EXPECT_EQ(dataset_label("cub200", ""), "CUB-200");
  EXPECT_EQ(dataset_label("CUB_200", "default"), "CUB-200");
  EXPECT_EQ(dataset_label("instre", "leave-one-out"), "INSTRE (leave-one-out)");
  EXPECT_EQ(dataset_label("my-set", "default"), "my-set");
  EXPECT_EQ(dataset_label("my-set", "self-match"), "my-set (self-match)");
}

TEST(ReportRecord, ContextHasVersionsDateAndHost) {
  json c = records::record_context();
  for (const char* key : {"repbench", "git_commit", "libtorch", "opencv", "faiss", "compiler"})
    EXPECT_TRUE(c[key].is_string()) << key;
  EXPECT_TRUE(c.contains("omp_wait_policy"));  // the suites run with OMP_WAIT_POLICY=passive
  ASSERT_TRUE(c["date"].is_string());
  EXPECT_TRUE(std::regex_match(c["date"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << c["date"];
  ASSERT_TRUE(c["host"].is_string());
  EXPECT_FALSE(c["host"].get<std::string>().empty());
}

TEST(ReportRecord, WriteThenReadRoundTrips) {
  TempDir dir;
  json r = ok_record("sscd", "CD/IR", "rOxford5k (M)", 0.5312);
  r["metrics"]["map_ci95"] = {0.49, 0.57};
  const std::string path = dir.file("sub/rec.json");
  write_record(path, r);
  const std::string text = read_file(path);
  EXPECT_EQ(text, r.dump(2) + "\n");  // pretty-printed, trailing newline
  EXPECT_EQ(read_record(path), r);
}

TEST(ReportRecord, WriteRejectsMissingFieldsAndWritesNothing) {
  TempDir dir;
  json r = ok_record("sscd", "CD/IR", "rOxford5k (M)", 0.5);
  r.erase("dataset");
  const std::string path = dir.file("rec.json");
  std::string msg = error_of([&] { write_record(path, r); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("dataset"));
  EXPECT_FALSE(fs::exists(path));

  json percent = ok_record("sscd", "CD/IR", "rOxford5k (M)", 53.1);  // percent by mistake
  EXPECT_THAT(error_of([&] { write_record(path, percent); }), HasSubstr("fraction in [0, 1]"));

  json bad_ci = ok_record("sscd", "CD/IR", "rOxford5k (M)", 0.5);
  bad_ci["metrics"]["map_ci95"] = {0.4};
  EXPECT_THAT(error_of([&] { write_record(path, bad_ci); }), HasSubstr("metrics.map_ci95"));

  json skip = ok_record("sscd", "CD/IR", "rOxford5k (M)", 0.5);
  skip["status"] = "skipped";
  EXPECT_THAT(error_of([&] { write_record(path, skip); }), HasSubstr("skipped_reason"));
  skip["skipped_reason"] = "CUDA out of memory";
  skip["metrics"].erase("map");  // a skipped record needs no map
  EXPECT_NO_THROW(write_record(path, skip));
}

TEST(ReportRecord, ReadErrorsNameTheFileOnOneLine) {
  TempDir dir;
  const std::string not_json = dir.file("broken.json");
  write_file_atomic(not_json, "{\"schema\": \"repbench.record/1\",\n oops\n");
  std::string msg = error_of([&] { read_record(not_json); });
  EXPECT_THAT(msg, HasSubstr(not_json));
  EXPECT_THAT(msg, HasSubstr("not a JSON file"));
  EXPECT_EQ(msg.find('\n'), std::string::npos);

  const std::string wrong = dir.file("wrong.json");
  json r = ok_record("sscd", "", "rOxford5k (M)", 0.5);
  r["schema"] = "repbench.features/1";
  write_file_atomic(wrong, r.dump());
  msg = error_of([&] { read_record(wrong); });
  EXPECT_THAT(msg, HasSubstr(wrong));
  EXPECT_THAT(msg, HasSubstr("repbench.features/1"));
  EXPECT_THAT(msg, HasSubstr(kRecordSchema));

  r.erase("schema");
  write_file_atomic(wrong, r.dump());
  EXPECT_THAT(error_of([&] { read_record(wrong); }), HasSubstr("no \"schema\""));

  json no_name = ok_record("sscd", "", "rOxford5k (M)", 0.5);
  no_name["model"].erase("name");
  write_file_atomic(wrong, no_name.dump());
  EXPECT_THAT(error_of([&] { read_record(wrong); }), HasSubstr("model.name"));

  json no_map = ok_record("sscd", "", "rOxford5k (M)", 0.5);
  no_map["metrics"].erase("map");
  write_file_atomic(wrong, no_map.dump());
  EXPECT_THAT(error_of([&] { read_record(wrong); }), HasSubstr("metrics.map"));

  json nan_map = ok_record("sscd", "", "rOxford5k (M)", std::nan(""));  // dumps as null
  write_file_atomic(wrong, nan_map.dump());
  EXPECT_THAT(error_of([&] { read_record(wrong); }), HasSubstr("metrics.map"));

  EXPECT_THAT(error_of([&] { read_record(dir.file("missing.json")); }),
              HasSubstr(dir.file("missing.json")));
}

// ---------------------------------------------------------------------------------------------
// Ranking

TEST(ReportLeaderboard, TwoWayTieSharesRank) {
  Leaderboard b = build_leaderboard(
      {score("A", "PT", "D", 50), score("B", "PT", "D", 50), score("C", "PT", "D", 40)});
  EXPECT_DOUBLE_EQ(row_named(b, "A").cells[0].rank, 1.5);
  EXPECT_DOUBLE_EQ(row_named(b, "B").cells[0].rank, 1.5);
  EXPECT_DOUBLE_EQ(row_named(b, "C").cells[0].rank, 3.0);
  EXPECT_TRUE(row_named(b, "A").cells[0].best);
  EXPECT_TRUE(row_named(b, "B").cells[0].best);
  EXPECT_FALSE(row_named(b, "C").cells[0].best);
  EXPECT_TRUE(b.notes.empty());  // nothing missing, nothing skipped
}

TEST(ReportLeaderboard, ThreeWayTies) {
  // 60 | 50 50 50 | 40: the tied three span ranks 2..4 -> 3 each.
  Leaderboard b = build_leaderboard({score("A", "PT", "D", 50), score("B", "PT", "D", 60),
                                     score("C", "PT", "D", 50), score("E", "PT", "D", 40),
                                     score("F", "PT", "D", 50)});
  EXPECT_DOUBLE_EQ(row_named(b, "B").cells[0].rank, 1.0);
  EXPECT_DOUBLE_EQ(row_named(b, "A").cells[0].rank, 3.0);
  EXPECT_DOUBLE_EQ(row_named(b, "C").cells[0].rank, 3.0);
  EXPECT_DOUBLE_EQ(row_named(b, "F").cells[0].rank, 3.0);
  EXPECT_DOUBLE_EQ(row_named(b, "E").cells[0].rank, 5.0);

  // Three tied for first: ranks 1..3 -> 2 each, all best.
  Leaderboard top = build_leaderboard(
      {score("A", "PT", "D", 70), score("B", "PT", "D", 70), score("C", "PT", "D", 70)});
  for (const auto& row : top.rows) {
    EXPECT_DOUBLE_EQ(row.cells[0].rank, 2.0);
    EXPECT_TRUE(row.cells[0].best);
    EXPECT_TRUE(row.best_average_rank);
  }
}

TEST(ReportLeaderboard, RecordFractionTiesWithCsvPercent) {
  // 0.4575 * 100 is 45.750000000000007 in binary; it must still tie with a typed 45.75.
  Leaderboard b = build_leaderboard({score("A", "PT", "D", 0.4575 * 100.0),
                                     score("B", "PT", "D", 45.75), score("C", "PT", "D", 45.74)});
  EXPECT_DOUBLE_EQ(row_named(b, "A").cells[0].rank, 1.5);
  EXPECT_DOUBLE_EQ(row_named(b, "B").cells[0].rank, 1.5);
  EXPECT_DOUBLE_EQ(row_named(b, "C").cells[0].rank, 3.0);
}

TEST(ReportLeaderboard, AverageRankOverDatasetsEachModelHas) {
  // D1: A=B=90 (1.5 each), C=50 (3). D2: A=80 (1), B=70 (2), C missing.
  Leaderboard b = build_leaderboard({score("A", "PT", "D1", 90), score("B", "PT", "D1", 90),
                                     score("C", "PT", "D1", 50), score("A", "PT", "D2", 80),
                                     score("B", "PT", "D2", 70)});
  ASSERT_EQ(b.datasets, (std::vector<std::string>{"D1", "D2"}));
  EXPECT_DOUBLE_EQ(*row_named(b, "A").average_rank, 1.25);
  EXPECT_DOUBLE_EQ(*row_named(b, "B").average_rank, 1.75);
  EXPECT_DOUBLE_EQ(*row_named(b, "C").average_rank, 3.0);
  EXPECT_EQ(row_named(b, "C").cells[1].state, State::kMissing);
  EXPECT_TRUE(row_named(b, "A").best_average_rank);
  EXPECT_FALSE(row_named(b, "B").best_average_rank);
  ASSERT_EQ(b.notes.size(), 1u);
  EXPECT_EQ(b.notes[0], kMissingNote);

  const std::string md = render(b, Format::kMarkdown);
  EXPECT_THAT(md, HasSubstr("| C | 50.00 | \u2013 | 3.0 |"));
  EXPECT_THAT(md, HasSubstr("- " + std::string(kMissingNote)));
  EXPECT_THAT(md, HasSubstr("| **1.2** |"));  // 1.25 with one decimal, bold (best)
}

TEST(ReportLeaderboard, SkippedCountsAsMissingAndIsExplained) {
  Leaderboard b = build_leaderboard({score("A", "SSL", "D1", 30), score("B", "SSL", "D1", 20),
                                     score("A", "SSL", "D2", 10),
                                     skipped("B", "SSL", "D2", "CUDA out of memory")});
  const LeaderboardRow& rb = row_named(b, "B");
  EXPECT_EQ(rb.cells[1].state, State::kSkipped);
  EXPECT_EQ(rb.cells[1].skipped_reason, "CUDA out of memory");
  EXPECT_DOUBLE_EQ(*rb.average_rank, 2.0);                 // only D1 counts
  EXPECT_DOUBLE_EQ(row_named(b, "A").cells[1].rank, 1.0);  // alone in D2
  EXPECT_DOUBLE_EQ(*row_named(b, "A").average_rank, 1.0);
  ASSERT_EQ(b.notes.size(), 2u);
  EXPECT_EQ(b.notes[0], kMissingNote);
  EXPECT_EQ(b.notes[1], "B on D2 was skipped: CUDA out of memory");

  EXPECT_THAT(render(b, Format::kMarkdown), HasSubstr("| B | 20.00 | skipped | 2.0 |"));
  EXPECT_THAT(render(b, Format::kCsv), HasSubstr("SSL,B,20.00,,2.0\n"));
  EXPECT_THAT(render(b, Format::kTex), HasSubstr("\\textit{skipped}"));
  EXPECT_THAT(render(b, Format::kHtml), HasSubstr("title=\"CUDA out of memory\">skipped</td>"));
}

// The metric of the columns is said once: one line when every column shares it, and a column
// with another metric gets its own line; a column whose records state none is not "every".
TEST(ReportLeaderboard, MetricNotesSayEachMetricOnce) {
  const std::string trap = "mAP with trapezoid AP (revisitop compute_map)";
  const std::string gpr = "mAP with non-interpolated AP (GPR1200)";
  auto with_metric = [](ScoreEntry e, const std::string& metric) {
    e.metric = metric;
    return e;
  };
  std::vector<ScoreEntry> same;
  for (const char* d : {"D1", "D2", "D3"})
    for (const char* m : {"A", "B"}) same.push_back(with_metric(score(m, "PT", d, 50), trap));
  EXPECT_EQ(build_leaderboard(same).notes, (std::vector<std::string>{"Every dataset: " + trap}));
  EXPECT_THAT(render(build_leaderboard(same), Format::kHtml),
              HasSubstr("<li>Every dataset: " + html_escape(trap) + "</li>"));

  std::vector<ScoreEntry> mixed = same;
  for (const char* m : {"A", "B"}) mixed.push_back(with_metric(score(m, "PT", "G", 40), gpr));
  mixed.push_back(score("A", "PT", "E", 40));  // no metric stated
  mixed.push_back(score("B", "PT", "E", 30));
  EXPECT_EQ(build_leaderboard(mixed).notes,
            (std::vector<std::string>{"Every dataset but G, E: " + trap, "G: " + gpr}));

  // No metric shared by two columns: a line per column, as before.
  EXPECT_EQ(build_leaderboard({with_metric(score("A", "PT", "D1", 50), trap),
                               with_metric(score("A", "PT", "G", 50), gpr)})
                .notes,
            (std::vector<std::string>{"D1: " + trap, "G: " + gpr}));
  // Records of one column that disagree: both metrics on that column's line.
  EXPECT_EQ(build_leaderboard({with_metric(score("A", "PT", "D1", 50), trap),
                               with_metric(score("B", "PT", "D1", 40), gpr)})
                .notes,
            (std::vector<std::string>{"D1: " + trap + " | " + gpr}));
}

TEST(ReportLeaderboard, ModelWithNothingButSkipsHasNoAverage) {
  Leaderboard b = build_leaderboard({score("A", "PT", "D", 30), skipped("B", "PT", "D", "no")});
  EXPECT_FALSE(row_named(b, "B").average_rank.has_value());
  EXPECT_FALSE(row_named(b, "B").best_average_rank);
  EXPECT_THAT(render(b, Format::kMarkdown), HasSubstr("| B | skipped | \u2013 |"));
}

TEST(ReportLeaderboard, GroupsByCategoryInFirstSeenOrder) {
  Leaderboard b = build_leaderboard({score("m1", "PT", "D", 1), score("m2", "SSL", "D", 2),
                                     score("m3", "PT", "D", 3), score("m4", "CD/IR", "D", 4),
                                     score("m5", "SSL", "D", 5), score("m1", "PT", "E", 1)});
  std::vector<std::string> models, categories;
  for (const auto& row : b.rows) {
    models.push_back(row.model);
    categories.push_back(row.category);
  }
  EXPECT_EQ(models, (std::vector<std::string>{"m1", "m3", "m2", "m5", "m4"}));
  EXPECT_EQ(categories, (std::vector<std::string>{"PT", "PT", "SSL", "SSL", "CD/IR"}));
  EXPECT_EQ(b.datasets, (std::vector<std::string>{"D", "E"}));
}

TEST(ReportLeaderboard, DefaultCategoryGivesWayConflictsFail) {
  Leaderboard b = build_leaderboard(
      {score("m", kDefaultCategory, "D1", 1), score("m", "SSL", "D2", 2), score("n", "", "D1", 3)});
  EXPECT_EQ(row_named(b, "m").category, "SSL");
  EXPECT_EQ(row_named(b, "n").category, kDefaultCategory);

  std::string msg = error_of([] {
    build_leaderboard({score("m", "PT", "D1", 1), score("m", "SSL", "D2", 2)});
  });
  EXPECT_THAT(msg, HasSubstr("test:m/D1"));
  EXPECT_THAT(msg, HasSubstr("test:m/D2"));
}

TEST(ReportLeaderboard, DuplicateModelAndDatasetNamesBothOrigins) {
  ScoreEntry first = score("sscd", "CD/IR", "INSTRE", 50);
  first.origin = "results/a.json";
  ScoreEntry second = score("sscd", "CD/IR", "INSTRE", 51);
  second.origin = "published.csv:7";
  std::string msg = error_of([&] { build_leaderboard({first, second}); });
  EXPECT_THAT(msg, HasSubstr("sscd on INSTRE"));
  EXPECT_THAT(msg, HasSubstr("results/a.json"));
  EXPECT_THAT(msg, HasSubstr("published.csv:7"));
}

// ---------------------------------------------------------------------------------------------
// Rendering

// Two categories, a tie for best in D1, a missing cell, a name that needs CSV quoting.
Leaderboard small_board() {
  return build_leaderboard({score("SSCD", "CD/IR", "D1", 45.75), score("SSCD", "CD/IR", "D2", 30),
                            score("ViT-B/16, IN12k", "PT", "D1", 45.75),
                            score("ViT-B/16, IN12k", "PT", "D2", 60.125),
                            score("Swin", "PT", "D1", 10)});
}

TEST(ReportRender, MarkdownWholeTable) {
  // D1 ranks: SSCD 1.5, ViT 1.5, Swin 3; D2: ViT 1, SSCD 2. Averages 1.75, 1.25, 3.
  const std::string expected =
      "| Category | Model | D1 \u2191 | D2 \u2191 | Average Rank \u2193 |\n"
      "| --- | --- | ---: | ---: | ---: |\n"
      "| CD/IR | SSCD | **45.75** | 30.00 | 1.8 |\n"
      "| PT | ViT-B/16, IN12k | **45.75** | **60.12** | **1.2** |\n"
      "|  | Swin | 10.00 | \u2013 | 3.0 |\n"
      "\n"
      "- Average rank is over the datasets each model has; \u2013 = not evaluated\n";
  EXPECT_EQ(render(small_board(), Format::kMarkdown), expected);
}

TEST(ReportRender, CsvWholeTable) {
  const std::string expected =
      "category,model,D1,D2,average_rank\n"
      "CD/IR,SSCD,45.75,30.00,1.8\n"
      "PT,\"ViT-B/16, IN12k\",45.75,60.12,1.2\n"
      "PT,Swin,10.00,,3.0\n";
  EXPECT_EQ(render(small_board(), Format::kCsv), expected);

  // Quotes inside a field are doubled (RFC 4180), datasets are quoted too.
  Leaderboard b = build_leaderboard({score("say \"hi\"", "PT", "a,b", 1)});
  EXPECT_EQ(render(b, Format::kCsv),
            "category,model,\"a,b\",average_rank\nPT,\"say \"\"hi\"\"\",1.00,1.0\n");
}

TEST(ReportRender, TexBoldMidruleAndArrows) {
  const std::string tex = render(small_board(), Format::kTex);
  EXPECT_THAT(tex, HasSubstr("\\begin{tabular}{llrrr}"));
  EXPECT_THAT(tex, HasSubstr("\\toprule\n"));
  EXPECT_THAT(tex, HasSubstr("\\bottomrule\n\\end{tabular}\n"));
  EXPECT_THAT(tex, HasSubstr("Category & Model & D1 $\\uparrow$ & D2 $\\uparrow$ & Average Rank "
                             "$\\downarrow$ \\\\\n"));
  EXPECT_THAT(tex, HasSubstr("\\midrule\nCD/IR & SSCD & \\textbf{45.75} & 30.00 & 1.8 \\\\\n"));
  EXPECT_THAT(tex, HasSubstr("\\midrule\nPT & ViT-B/16, IN12k & \\textbf{45.75} & "
                             "\\textbf{60.12} & \\textbf{1.2} \\\\\n"));
  EXPECT_THAT(tex, HasSubstr(" & Swin & 10.00 & -- & 3.0 \\\\\n"));
  EXPECT_EQ(count(tex, "\\midrule"), 2u);  // after the header and between the categories
  EXPECT_EQ(count(tex, "\\textbf{"), 4u);  // both tied D1 values, ViT on D2, its average
  EXPECT_THAT(tex, HasSubstr("-- = not evaluated"));
}

TEST(ReportRender, TexEscapesSpecials) {
  Leaderboard b = build_leaderboard(
      {score("a_b & c% #1 $x$", "P&T", "set_1", 1), score("m~^\\", "P&T", "set_1", 2)});
  const std::string tex = render(b, Format::kTex);
  EXPECT_THAT(tex, HasSubstr("a\\_b \\& c\\% \\#1 \\$x\\$"));
  EXPECT_THAT(tex, HasSubstr("P\\&T"));
  EXPECT_THAT(tex, HasSubstr("set\\_1 $\\uparrow$"));
  EXPECT_THAT(tex, HasSubstr("m\\textasciitilde{}\\textasciicircum{}\\textbackslash{}"));
  EXPECT_THAT(tex, Not(HasSubstr("a_b")));
}

TEST(ReportRender, HtmlIsSelfContainedAndBalanced) {
  std::vector<ScoreEntry> entries = {score("SSCD", "CD/IR", "D1", 45.75),
                                     score("<script>alert(1)</script>", "PT", "D1", 45.75),
                                     score("Swin", "PT", "D1", 10), score("Swin", "PT", "D2", 20),
                                     skipped("SSCD", "CD/IR", "D2", "out of memory")};
  entries[0].ci95_percent = std::make_pair(40.0, 50.0);
  const std::string html = render(build_leaderboard(entries), Format::kHtml);

  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, HasSubstr("<style>"));
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));

  for (const char* tag : {"html", "head", "body", "table", "thead", "tbody", "tr", "td", "th",
                          "svg", "figure", "text", "rect", "title", "ul", "li", "style"}) {
    const std::string open_a = std::string("<") + tag + ">", open_b = std::string("<") + tag + " ";
    EXPECT_EQ(count(html, open_a) + count(html, open_b), count(html, std::string("</") + tag + ">"))
        << tag;
  }
  EXPECT_EQ(count(html, "<table"), 1u);
  EXPECT_EQ(count(html, "<svg "), 2u);  // one chart per dataset
  EXPECT_EQ(count(html, "<figcaption>D1</figcaption>"), 1u);
  EXPECT_EQ(count(html, "<rect "), 4u);  // a bar per model and dataset with a value

  // Bold: the two tied D1 values, Swin alone in D2, and the tied average ranks of SSCD and the
  // script model (1.5 each; Swin has (3 + 1) / 2 = 2).
  EXPECT_THAT(html, HasSubstr("<td title=\"95% CI 40.00\u201350.00\"><strong>45.75</strong></td>"));
  EXPECT_EQ(count(html, "<strong>45.75</strong>"), 2u);
  EXPECT_EQ(count(html, "<strong>1.5</strong>"), 2u);
  EXPECT_EQ(count(html, "<strong>20.00</strong>"), 1u);
  EXPECT_EQ(count(html, "<strong>"), 5u);
  EXPECT_THAT(html, HasSubstr("<text class=\"best\""));
  EXPECT_THAT(html, HasSubstr(">skipped</text>"));
  EXPECT_THAT(html, HasSubstr("<li>SSCD on D2 was skipped: out of memory</li>"));
  EXPECT_THAT(html, HasSubstr("<line class=\"ci\""));  // the interval's whisker
}

TEST(ReportRender, ParseFormat) {
  EXPECT_EQ(parse_format("md"), Format::kMarkdown);
  EXPECT_EQ(parse_format("csv"), Format::kCsv);
  EXPECT_EQ(parse_format("tex"), Format::kTex);
  EXPECT_EQ(parse_format("html"), Format::kHtml);
  EXPECT_STREQ(format_extension(Format::kTex), "tex");
  std::string msg = error_of([] { parse_format("pdf"); });
  EXPECT_THAT(msg, HasSubstr("'pdf'"));
  EXPECT_THAT(msg, HasSubstr("md|csv|tex|html"));
}

// ---------------------------------------------------------------------------------------------
// Loading

TEST(ReportLoad, ScoresCsv) {
  TempDir dir;
  const std::string path = dir.file("table1.csv");
  write_file_atomic(path,
                    "model,category,dataset,map\r\n"
                    "\"SSCD, ResNet-50\",CD/IR,rOxford5k,30.16\r\n"
                    "\r\n"
                    "\"ViT-B/16, CLIP on \"\"LAION\"\"\", PT ,rOxford5k,39.92\r\n"
                    "DINO,,GPR1200,29.41\r\n");
  std::vector<ScoreEntry> e = load_scores_csv(path);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].model, "SSCD, ResNet-50");
  EXPECT_EQ(e[0].category, "CD/IR");
  EXPECT_EQ(e[0].dataset, "rOxford5k");
  EXPECT_DOUBLE_EQ(e[0].map_percent, 30.16);
  EXPECT_EQ(e[0].origin, path + ":2");
  EXPECT_EQ(e[1].model, "ViT-B/16, CLIP on \"LAION\"");
  EXPECT_EQ(e[1].category, "PT");
  EXPECT_EQ(e[1].origin, path + ":4");
  EXPECT_EQ(e[2].category, kDefaultCategory);
  EXPECT_TRUE(e[2].skipped_reason.empty());
}

TEST(ReportLoad, ScoresCsvErrorsNameFileAndLine) {
  TempDir dir;
  const std::string path = dir.file("bad.csv");

  write_file_atomic(path, "model,dataset,category,map\nA,PT,D,1\n");
  std::string msg = error_of([&] { load_scores_csv(path); });
  EXPECT_THAT(msg,
              HasSubstr(path + ": line 1: header must be exactly 'model,category,dataset,map'"));

  write_file_atomic(path, "model,category,dataset,map\nA,PT,D,1\nB,PT,D,abc\n");
  msg = error_of([&] { load_scores_csv(path); });
  EXPECT_THAT(msg, HasSubstr(path + ": line 3: map 'abc' is not a number"));

  write_file_atomic(path, "model,category,dataset,map\nA,PT,D,nan\n");
  EXPECT_THAT(error_of([&] { load_scores_csv(path); }), HasSubstr(path + ": line 2: map 'nan'"));

  write_file_atomic(path, "model,category,dataset,map\nA,PT,D,30.1x\n");
  EXPECT_THAT(error_of([&] { load_scores_csv(path); }), HasSubstr("line 2: map '30.1x'"));

  write_file_atomic(path, "model,category,dataset,map\nA,PT,D,1\nA,PT,2\n");
  msg = error_of([&] { load_scores_csv(path); });
  EXPECT_THAT(msg, HasSubstr(path + ": line 3: expected 4 fields"));

  write_file_atomic(path, "model,category,dataset,map\nA,PT,D,1,extra\n");
  EXPECT_THAT(error_of([&] { load_scores_csv(path); }), HasSubstr("line 2: expected 4 fields"));

  write_file_atomic(path, "model,category,dataset,map\nA,PT,D,130\n");
  EXPECT_THAT(error_of([&] { load_scores_csv(path); }), HasSubstr("outside [0, 100]"));

  write_file_atomic(path, "");
  EXPECT_THAT(error_of([&] { load_scores_csv(path); }), HasSubstr(path + ": empty file"));

  EXPECT_THAT(error_of([&] { load_scores_csv(dir.file("nope.csv")); }),
              HasSubstr(dir.file("nope.csv")));
}

TEST(ReportLoad, ReproducesPaperTable1AverageRanks) {
  // Table 1 of Somepalli et al. (CVPR 2023), long format; the paper's Average Rank column is the
  // golden value for the rank arithmetic (ties share ranks; one decimal).
  TempDir dir;
  const std::string path = dir.file("table1.csv");
  write_file_atomic(path,
                    "model,category,dataset,map\n"
                    "\"Multigrain [6], ResNet-50\",CD/IR,rOxford5k,22.87\n"
                    "\"Multigrain [6], ResNet-50\",CD/IR,rParis6k,44.74\n"
                    "\"Multigrain [6], ResNet-50\",CD/IR,CUB-200,3.67\n"
                    "\"Multigrain [6], ResNet-50\",CD/IR,GPR1200,37.09\n"
                    "\"Multigrain [6], ResNet-50\",CD/IR,INSTRE,56.72\n"
                    "\"Multigrain [6], ResNet-50\",CD/IR,MSCOCO Segmix,27.77\n"
                    "\"Multigrain [6], ResNet-50\",CD/IR,VOC-Segmix,25.8\n"
                    "\"Multigrain [6], ResNet-50\",CD/IR,IN-Cutmix,67.54\n"
                    "\"Multigrain [6], ResNet-50\",CD/IR,IN-Dif-Diagonal,79.44\n"
                    "\"Multigrain [6], ResNet-50\",CD/IR,IN-Dif-Outpaint,24.91\n"
                    "\"SSCD [49], ResNet-50\",CD/IR,rOxford5k,30.16\n"
                    "\"SSCD [49], ResNet-50\",CD/IR,rParis6k,45.75\n"
                    "\"SSCD [49], ResNet-50\",CD/IR,CUB-200,2.00\n"
                    "\"SSCD [49], ResNet-50\",CD/IR,GPR1200,31.42\n"
                    "\"SSCD [49], ResNet-50\",CD/IR,INSTRE,53.54\n"
                    "\"SSCD [49], ResNet-50\",CD/IR,MSCOCO Segmix,67.04\n"
                    "\"SSCD [49], ResNet-50\",CD/IR,VOC-Segmix,65.82\n"
                    "\"SSCD [49], ResNet-50\",CD/IR,IN-Cutmix,89.78\n"
                    "\"SSCD [49], ResNet-50\",CD/IR,IN-Dif-Diagonal,99.91\n"
                    "\"SSCD [49], ResNet-50\",CD/IR,IN-Dif-Outpaint,96.11\n"
                    "\"ViT [16] S/16, IN1k\",PT,rOxford5k,31.24\n"
                    "\"ViT [16] S/16, IN1k\",PT,rParis6k,61.5\n"
                    "\"ViT [16] S/16, IN1k\",PT,CUB-200,13.12\n"
                    "\"ViT [16] S/16, IN1k\",PT,GPR1200,40.44\n"
                    "\"ViT [16] S/16, IN1k\",PT,INSTRE,54.11\n"
                    "\"ViT [16] S/16, IN1k\",PT,MSCOCO Segmix,23.21\n"
                    "\"ViT [16] S/16, IN1k\",PT,VOC-Segmix,22.42\n"
                    "\"ViT [16] S/16, IN1k\",PT,IN-Cutmix,61.99\n"
                    "\"ViT [16] S/16, IN1k\",PT,IN-Dif-Diagonal,48.36\n"
                    "\"ViT [16] S/16, IN1k\",PT,IN-Dif-Outpaint,14.25\n"
                    "\"ViT-B/16, IN12k\",PT,rOxford5k,13.14\n"
                    "\"ViT-B/16, IN12k\",PT,rParis6k,30.43\n"
                    "\"ViT-B/16, IN12k\",PT,CUB-200,4.24\n"
                    "\"ViT-B/16, IN12k\",PT,GPR1200,16.63\n"
                    "\"ViT-B/16, IN12k\",PT,INSTRE,29.15\n"
                    "\"ViT-B/16, IN12k\",PT,MSCOCO Segmix,18.15\n"
                    "\"ViT-B/16, IN12k\",PT,VOC-Segmix,15.61\n"
                    "\"ViT-B/16, IN12k\",PT,IN-Cutmix,52.74\n"
                    "\"ViT-B/16, IN12k\",PT,IN-Dif-Diagonal,49.69\n"
                    "\"ViT-B/16, IN12k\",PT,IN-Dif-Outpaint,10.18\n"
                    "\"ViT-B/16, CLIP [53] on LAION [60]\",PT,rOxford5k,39.92\n"
                    "\"ViT-B/16, CLIP [53] on LAION [60]\",PT,rParis6k,68.92\n"
                    "\"ViT-B/16, CLIP [53] on LAION [60]\",PT,CUB-200,8.6\n"
                    "\"ViT-B/16, CLIP [53] on LAION [60]\",PT,GPR1200,62.13\n"
                    "\"ViT-B/16, CLIP [53] on LAION [60]\",PT,INSTRE,73.19\n"
                    "\"ViT-B/16, CLIP [53] on LAION [60]\",PT,MSCOCO Segmix,20.37\n"
                    "\"ViT-B/16, CLIP [53] on LAION [60]\",PT,VOC-Segmix,17.91\n"
                    "\"ViT-B/16, CLIP [53] on LAION [60]\",PT,IN-Cutmix,59.5\n"
                    "\"ViT-B/16, CLIP [53] on LAION [60]\",PT,IN-Dif-Diagonal,47.54\n"
                    "\"ViT-B/16, CLIP [53] on LAION [60]\",PT,IN-Dif-Outpaint,8.76\n"
                    "\"Swin Transformer [37], Base, IN1k\",PT,rOxford5k,40.06\n"
                    "\"Swin Transformer [37], Base, IN1k\",PT,rParis6k,72.07\n"
                    "\"Swin Transformer [37], Base, IN1k\",PT,CUB-200,15.49\n"
                    "\"Swin Transformer [37], Base, IN1k\",PT,GPR1200,54.09\n"
                    "\"Swin Transformer [37], Base, IN1k\",PT,INSTRE,68.46\n"
                    "\"Swin Transformer [37], Base, IN1k\",PT,MSCOCO Segmix,24.51\n"
                    "\"Swin Transformer [37], Base, IN1k\",PT,VOC-Segmix,24.31\n"
                    "\"Swin Transformer [37], Base, IN1k\",PT,IN-Cutmix,74.79\n"
                    "\"Swin Transformer [37], Base, IN1k\",PT,IN-Dif-Diagonal,40.74\n"
                    "\"Swin Transformer [37], Base, IN1k\",PT,IN-Dif-Outpaint,14.75\n"
                    "\"MoCo [15], ViT-B/16\",SSL,rOxford5k,30.25\n"
                    "\"MoCo [15], ViT-B/16\",SSL,rParis6k,51.6\n"
                    "\"MoCo [15], ViT-B/16\",SSL,CUB-200,4.94\n"
                    "\"MoCo [15], ViT-B/16\",SSL,GPR1200,37.98\n"
                    "\"MoCo [15], ViT-B/16\",SSL,INSTRE,51.88\n"
                    "\"MoCo [15], ViT-B/16\",SSL,MSCOCO Segmix,36.41\n"
                    "\"MoCo [15], ViT-B/16\",SSL,VOC-Segmix,32.9\n"
                    "\"MoCo [15], ViT-B/16\",SSL,IN-Cutmix,65.98\n"
                    "\"MoCo [15], ViT-B/16\",SSL,IN-Dif-Diagonal,59.12\n"
                    "\"MoCo [15], ViT-B/16\",SSL,IN-Dif-Outpaint,20.61\n"
                    "\"MoCo, ViT-B/16 + CutMix [71]\",SSL,rOxford5k,25.01\n"
                    "\"MoCo, ViT-B/16 + CutMix [71]\",SSL,rParis6k,46.73\n"
                    "\"MoCo, ViT-B/16 + CutMix [71]\",SSL,CUB-200,3.44\n"
                    "\"MoCo, ViT-B/16 + CutMix [71]\",SSL,GPR1200,32.23\n"
                    "\"MoCo, ViT-B/16 + CutMix [71]\",SSL,INSTRE,48.58\n"
                    "\"MoCo, ViT-B/16 + CutMix [71]\",SSL,MSCOCO Segmix,32.83\n"
                    "\"MoCo, ViT-B/16 + CutMix [71]\",SSL,VOC-Segmix,26.11\n"
                    "\"MoCo, ViT-B/16 + CutMix [71]\",SSL,IN-Cutmix,55.74\n"
                    "\"MoCo, ViT-B/16 + CutMix [71]\",SSL,IN-Dif-Diagonal,62.88\n"
                    "\"MoCo, ViT-B/16 + CutMix [71]\",SSL,IN-Dif-Outpaint,46.96\n"
                    "\"VicRegL [5], ResNet-50\",SSL,rOxford5k,28.4\n"
                    "\"VicRegL [5], ResNet-50\",SSL,rParis6k,53.79\n"
                    "\"VicRegL [5], ResNet-50\",SSL,CUB-200,3.02\n"
                    "\"VicRegL [5], ResNet-50\",SSL,GPR1200,34.95\n"
                    "\"VicRegL [5], ResNet-50\",SSL,INSTRE,50.98\n"
                    "\"VicRegL [5], ResNet-50\",SSL,MSCOCO Segmix,40.58\n"
                    "\"VicRegL [5], ResNet-50\",SSL,VOC-Segmix,37.76\n"
                    "\"VicRegL [5], ResNet-50\",SSL,IN-Cutmix,69.74\n"
                    "\"VicRegL [5], ResNet-50\",SSL,IN-Dif-Diagonal,80.02\n"
                    "\"VicRegL [5], ResNet-50\",SSL,IN-Dif-Outpaint,40.93\n"
                    "\"DINO [12], ViT-B/16, split-product\",SSL,rOxford5k,32.14\n"
                    "\"DINO [12], ViT-B/16, split-product\",SSL,rParis6k,45.43\n"
                    "\"DINO [12], ViT-B/16, split-product\",SSL,CUB-200,5.76\n"
                    "\"DINO [12], ViT-B/16, split-product\",SSL,GPR1200,29.41\n"
                    "\"DINO [12], ViT-B/16, split-product\",SSL,INSTRE,50.06\n"
                    "\"DINO [12], ViT-B/16, split-product\",SSL,MSCOCO Segmix,46.42\n"
                    "\"DINO [12], ViT-B/16, split-product\",SSL,VOC-Segmix,45.29\n"
                    "\"DINO [12], ViT-B/16, split-product\",SSL,IN-Cutmix,93.53\n"
                    "\"DINO [12], ViT-B/16, split-product\",SSL,IN-Dif-Diagonal,98.92\n"
                    "\"DINO [12], ViT-B/16, split-product\",SSL,IN-Dif-Outpaint,95.86\n");
  Leaderboard b = build_leaderboard(load_scores_csv(path));
  ASSERT_EQ(b.datasets.size(), 10u);
  ASSERT_EQ(b.rows.size(), 10u);
  const std::vector<std::pair<const char*, double>> paper = {
      {"Multigrain [6], ResNet-50", 5.9},
      {"SSCD [49], ResNet-50", 4.2},
      {"ViT [16] S/16, IN1k", 5.5},
      {"ViT-B/16, IN12k", 9.2},
      {"ViT-B/16, CLIP [53] on LAION [60]", 5.4},
      {"Swin Transformer [37], Base, IN1k", 4.1},
      {"MoCo [15], ViT-B/16", 5.1},
      {"MoCo, ViT-B/16 + CutMix [71]", 6.5},
      {"VicRegL [5], ResNet-50", 5.0},
      {"DINO [12], ViT-B/16, split-product", 4.1}};
  for (size_t i = 0; i < paper.size(); ++i) {
    EXPECT_EQ(b.rows[i].model, paper[i].first);
    ASSERT_TRUE(b.rows[i].average_rank.has_value());
    EXPECT_NEAR(*b.rows[i].average_rank, paper[i].second, 1e-9) << paper[i].first;
  }
  // Swin and DINO tie for the best average rank (both 41/10), so both are bold.
  EXPECT_TRUE(b.rows[5].best_average_rank);
  EXPECT_TRUE(b.rows[9].best_average_rank);
  EXPECT_EQ(std::count_if(b.rows.begin(), b.rows.end(),
                          [](const LeaderboardRow& r) { return r.best_average_rank; }),
            2);
  EXPECT_TRUE(b.notes.empty());
}

TEST(ReportLoad, RecordsFromFoldersInPathOrder) {
  TempDir dir;
  // Written out of order, in nested folders, beside a file that is not a record.
  write_record(dir.file("runs/z/swin.json"), ok_record("Swin", "PT", "rOxford5k (M)", 0.4006));
  json ci = ok_record("SSCD", "CD/IR", "rOxford5k (M)", 0.3016);
  ci["metrics"]["map_ci95"] = {0.25, 0.35};
  write_record(dir.file("runs/a.json"), ci);
  json skip = ok_record("DINO", "", "rOxford5k (M)", 0.1);
  skip["status"] = "skipped";
  skip["skipped_reason"] = "model file missing";
  skip.erase("metrics");
  write_record(dir.file("runs/m/dino.json"), skip);
  write_file_atomic(dir.file("runs/readme.txt"), "not a record");
  // Other JSON of a results folder (a set's gnd.json, a cache sidecar) is not read as a record.
  write_file_atomic(dir.file("runs/pool/gnd.json"), R"({"schema": "repbench.gnd/1", "db": []})");
  write_file_atomic(dir.file("runs/cache/x.db.json"), R"({"key": {"spec": "builtin:tiny"}})");
  json extra = ok_record("Extra", "SSL", "INSTRE", 0.5);
  extra["metrics"]["map_ci95"] = {std::nan(""), std::nan("")};  // no bootstrap: [null, null]
  write_record(dir.file("single.json"), extra);

  std::vector<ScoreEntry> e = load_records({dir.file("runs"), dir.file("single.json")});
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].origin, dir.file("runs/a.json"));
  EXPECT_EQ(e[1].origin, dir.file("runs/m/dino.json"));
  EXPECT_EQ(e[2].origin, dir.file("runs/z/swin.json"));
  EXPECT_EQ(e[3].origin, dir.file("single.json"));

  EXPECT_EQ(e[0].model, "SSCD");
  EXPECT_EQ(e[0].category, "CD/IR");
  EXPECT_EQ(e[0].dataset, "rOxford5k (M)");
  EXPECT_NEAR(e[0].map_percent, 30.16, 1e-9);
  ASSERT_TRUE(e[0].ci95_percent.has_value());
  EXPECT_NEAR(e[0].ci95_percent->first, 25.0, 1e-9);
  EXPECT_NEAR(e[0].ci95_percent->second, 35.0, 1e-9);
  EXPECT_EQ(e[1].category, kDefaultCategory);
  EXPECT_EQ(e[1].skipped_reason, "model file missing");
  EXPECT_NEAR(e[2].map_percent, 40.06, 1e-9);
  EXPECT_FALSE(e[2].ci95_percent.has_value());
  EXPECT_FALSE(e[3].ci95_percent.has_value());

  Leaderboard b = build_leaderboard(e);
  EXPECT_EQ(render(b, Format::kCsv),
            "category,model,rOxford5k (M),INSTRE,average_rank\n"
            "CD/IR,SSCD,30.16,,2.0\n"
            "other,DINO,,,\n"
            "PT,Swin,40.06,,1.0\n"
            "SSL,Extra,,50.00,1.0\n");
}

TEST(ReportLoad, FastDecodeScoresAreNamedUnderTheTable) {
  TempDir dir;
  json full = ok_record("SSCD", "CD/IR", "rOxford5k (M)", 0.30);
  full["options"] = {{"decoding", "full"}};
  json fast = ok_record("DINO", "SSL", "rOxford5k (M)", 0.25);
  fast["options"] = {{"decoding", "reduced-jpeg"}};
  json other = ok_record("Swin", "PT", "rOxford5k (M)", 0.20);  // from `eval`: no decoding
  write_record(dir.file("a.json"), full);
  write_record(dir.file("b.json"), fast);
  write_record(dir.file("c.json"), other);
  const Leaderboard b = build_leaderboard(load_records({dir.path().string()}));
  const std::string note =
      "Scores of DINO come from descriptors computed with --fast-decode (large JPEGs decoded at "
      "reduced size), not with the reference pipeline's full decoding";
  ASSERT_EQ(b.notes.size(), 1u);
  EXPECT_EQ(b.notes[0], note);
  EXPECT_THAT(render(b, Format::kMarkdown), HasSubstr("- " + note + "\n"));
  EXPECT_THAT(render(b, Format::kTex), HasSubstr("Scores of DINO come from descriptors computed "
                                                 "with -{}-fast-decode"));
  EXPECT_THAT(render(b, Format::kHtml),
              HasSubstr("<li>Scores of DINO come from descriptors computed with --fast-decode (large "
                        "JPEGs decoded at reduced size), not with the reference pipeline&#39;s full "
                        "decoding</li>"));
  // Without any fast-decode score there is no such note.
  fs::remove(dir.file("b.json"));
  EXPECT_TRUE(build_leaderboard(load_records({dir.path().string()})).notes.empty());
}

TEST(ReportLoad, RecordsErrors) {
  TempDir dir;
  fs::create_directories(dir.path() / "empty");
  EXPECT_THAT(error_of([&] { load_records({dir.file("empty")}); }), HasSubstr("no *.json"));
  EXPECT_THAT(error_of([&] { load_records({dir.file("absent")}); }),
              HasSubstr(dir.file("absent") + ": no such file"));
  write_file_atomic(dir.file("runs/bad.json"), "[1, 2");
  std::string msg = error_of([&] { load_records({dir.file("runs")}); });
  EXPECT_THAT(msg, HasSubstr(dir.file("runs/bad.json")));
  EXPECT_THAT(msg, HasSubstr("not a JSON file"));
}

}  // namespace
}  // namespace repbench::report
