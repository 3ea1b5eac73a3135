// Tests of the scan report (report/scan_report.h) and the pages' shared shell: the renderer on
// hand-written records (hostile paths, missing images, zero pairs, identical sets, the cap, a
// missing or failing gnuplot), and the HTML pages (scan, copying, leaderboard, failure page)
// opened in a real headless browser (Debian's chromium): no console message, the number of
// pairs the record says, a screenshot.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/subprocess.h"
#include "datasets/set_registry.h"
#include "demo/demo_pool.h"
#include "records/record_envelope.h"
#include "report/copying_report.h"
#include "report/failure_page.h"
#include "report/html_page.h"
#include "report/leaderboard.h"
#include "report/scan_report.h"
#include "support/bad_input.h"
#include "support/failure_fixture.h"
#include "support/required_fixture.h"
#include "support/temp_dir.h"

namespace repbench::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

// A fresh folder under the system temp dir, removed at the end of the test.
class TempDir : public tests::TempDir {
 public:
  TempDir() : tests::TempDir("test_scan_report") {}
};

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_.empty())
      ::unsetenv(name_);
    else
      ::setenv(name_, old_.c_str(), 1);
  }

 private:
  const char* name_;
  std::string old_;
};

// Whether `needle` occurs, reported without printing the (large) page.
::testing::AssertionResult Contains(const std::string& page, const std::string& needle) {
  if (page.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the page lacks \"" << needle << "\"";
}
::testing::AssertionResult Lacks(const std::string& page, const std::string& needle) {
  const size_t at = page.find(needle);
  if (at == std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the page has \"" << needle << "\" at " << at << ": ..."
                                       << page.substr(at > 80 ? at - 80 : 0, 200) << "...";
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

// A real photograph of the demo pool (opencv-doc), by name.
std::string photo(const char* name) {
  const fs::path p = fs::path(demo::default_pool_dir()) / name;
  if (!fs::exists(p)) ADD_FAILURE() << p << " is missing: install opencv-doc (scripts/setup.sh)";
  return p.string();
}

// A record as scan/ writes it (the contract's fields), for the given pairs.
json make_record(const std::vector<std::tuple<std::string, std::string, double>>& pairs,
                 std::vector<double> baseline, std::vector<double> thresholds = {0.5}) {
  json r = {
      {"kind", "replication-scan"},
      {"schema", records::kScanSchema},
      {"context", {{"repbench", "0.1.0"}, {"git_commit", "abc1234"}, {"date", "2026-11-23T10:00:00Z"},
                   {"host", "node7"}, {"omp_wait_policy", "passive"}}},
      {"timings", {{"search_seconds", 0.5}, {"total_seconds", 2.0}}},
      {"model", "builtin:colorhist"},
      {"similarity", "inner-product"},
      {"k", 5},
      {"thresholds", thresholds},
      {"dup_threshold", 0.95},
      {"generated", {{"source", "gen/"}, {"count", pairs.size()}, {"skipped", json::array()}}},
      {"train", {{"source", "train/"}, {"count", 40}, {"skipped", json::array()}, {"shards", 1}}},
      {"search",
       {{"method", "exact"},
        {"params", json::object()},
        {"recall_at_1", nullptr},
        {"recall_sample", 0}}},
      {"baseline",
       {{"sample", baseline.size()},
        {"top1", baseline},
        {"note", "each sampled training image vs its nearest OTHER training image"}}},
      {"notes", json::array()}};
  json top1 = json::array(), ps = json::array();
  bool identical = !pairs.empty();
  for (const auto& [g, t, s] : pairs) {
    top1.push_back(s);
    ps.push_back({{"generated", g}, {"train", t}, {"score", s}, {"train_duplicates", 0}});
    identical = identical && s >= 1.0;
  }
  r["generations_top1"] = top1;
  r["pairs"] = ps;
  json above = json::array();
  for (double th : thresholds) {
    int64_t g = 0, b = 0;
    for (const auto& p : pairs) g += std::get<2>(p) > th;
    for (double s : baseline) b += s > th;
    above.push_back({{"threshold", th},
                     {"generations", g},
                     {"fraction", pairs.empty() ? 0.0 : double(g) / pairs.size()},
                     {"baseline", b},
                     {"baseline_fraction", baseline.empty() ? 0.0 : double(b) / baseline.size()}});
  }
  r["above"] = above;
  r["identical_sets"] = identical;
  return r;
}

std::vector<double> some_baseline() {
  std::vector<double> b;
  for (int i = 0; i < 200; ++i) b.push_back(0.25 + 0.3 * ((i * 37) % 100) / 100.0);
  return b;
}

// The fixture of the browser test: copies, near copies and unrelated photographs.
json photo_record(const fs::path& gen_dir) {
  fs::create_directories(gen_dir);
  // "Generations": exact copies of some training photographs under new names.
  const std::vector<std::pair<const char*, const char*>> copies = {
      {"baboon.jpg", "g_000.jpg"}, {"fruits.jpg", "g_001.jpg"}, {"butterfly.jpg", "g_002.jpg"}};
  for (const auto& [src, dst] : copies) fs::copy_file(photo(src), gen_dir / dst);
  const std::string g = gen_dir.string() + "/";
  return make_record(
      {
          {g + "g_000.jpg", photo("baboon.jpg"), 1.0},
          {photo("leuvenB.jpg"), photo("leuvenA.jpg"), 0.81},
          {g + "g_001.jpg", photo("fruits.jpg"), 0.9999},
          {photo("aloeR.jpg"), photo("aloeL.jpg"), 0.74},
          {photo("apple.jpg"), photo("building.jpg"), 0.21},
          {photo("Blender_Suzanne2.jpg"), photo("Blender_Suzanne1.jpg"), 0.66},
          {g + "g_002.jpg", photo("butterfly.jpg"), 0.97},
          {photo("graf3.png"), photo("graf1.png"), 0.43},
          {photo("left.jpg"), photo("right.jpg"), 0.58},
          {photo("aero3.jpg"), photo("aero1.jpg"), 0.35},
      },
      some_baseline(), {0.5, 0.9});
}

// The .pair elements (the container is .pairs).
size_t pair_count(const std::string& html) {
  return count(html, "<div class=\"pair\"") + count(html, "<div class=\"pair above\"");
}

std::vector<double> data_scores(const std::string& html) {
  std::vector<double> out;
  const std::string key = "data-score=\"";
  for (size_t at = html.find(key); at != std::string::npos; at = html.find(key, at + 1))
    out.push_back(std::strtod(html.c_str() + at + key.size(), nullptr));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The renderer, without a browser

TEST(ScanReport, WritesPlotsAndAWholePage) {
  TempDir dir;
  const json rec = photo_record(dir.path() / "gen");
  write_scan_report(rec, dir.path() / "out");

  for (const char* stem : {"top1_hist", "top1_density"}) {
    const std::string png =
        read_file((dir.path() / "out/plots" / (std::string(stem) + ".png")).string());
    ASSERT_GT(png.size(), 5000u) << stem;
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << stem;
    const cv::Mat img =
        cv::imread((dir.path() / "out/plots" / (std::string(stem) + ".png")).string());
    EXPECT_EQ(img.cols, 960);
    EXPECT_EQ(img.rows, 560);
    const std::string svg =
        read_file((dir.path() / "out/plots" / (std::string(stem) + ".svg")).string());
    EXPECT_TRUE(Contains(svg, "<svg"));
    EXPECT_TRUE(Contains(svg, "threshold 0.5"));  // the threshold lines are labelled
    EXPECT_TRUE(Contains(svg, "threshold 0.9"));
    EXPECT_TRUE(Contains(svg, "generations (10)"));
    EXPECT_TRUE(Contains(svg, "training baseline (200)"));
  }
  // No temporaries left behind.
  for (const auto& e : fs::recursive_directory_iterator(dir.path() / "out"))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();

  const std::string html = read_file((dir.path() / "out/report.html").string());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_TRUE(Contains(html, "data-pairs=\"10\" data-total=\"10\""));
  EXPECT_TRUE(Contains(html, "Showing 10 of 10 pairs"));
  EXPECT_EQ(pair_count(html), 10u);
  // Above the first threshold (0.5): 1.0, 0.9999, 0.97, 0.81, 0.74, 0.66, 0.58.
  EXPECT_EQ(count(html, "<div class=\"pair above\""), 7u);
  const std::vector<double> scores = data_scores(html);
  ASSERT_EQ(scores.size(), 10u);
  EXPECT_TRUE(std::is_sorted(scores.rbegin(), scores.rend())) << "highest first";
  EXPECT_DOUBLE_EQ(scores.front(), 1.0);
  EXPECT_DOUBLE_EQ(scores.back(), 0.21);
  // Every thumbnail is a JPEG data URI of a real photograph, both plots are inline SVG.
  EXPECT_EQ(count(html, "src=\"data:image/jpeg;base64,"), 20u);
  EXPECT_EQ(count(html, "src=\"data:image/svg+xml;base64,"), 2u);
  EXPECT_EQ(count(html, "src=\""), 22u);
  EXPECT_TRUE(Lacks(html, "thumb missing"));
  // Summary numbers from the record.
  EXPECT_TRUE(Contains(html, "70.00%"));  // 7 of 10 above 0.5
  EXPECT_TRUE(Contains(html, "30.00%"));  // 3 of 10 above 0.9
  EXPECT_TRUE(Contains(html, "<code>builtin:colorhist</code>"));
  for (const char* bad : {"http://", "https://", "<script", "<link", "@import", "url("})
    EXPECT_TRUE(Lacks(html, bad)) << bad;
}

TEST(ScanReport, EscapesHostilePathsAndModel) {
  TempDir dir;
  // Real files whose names are markup; '/' cannot be in a file name, so the folder closes tags.
  const fs::path evil_dir = dir.path() / "<b>x</b>";
  fs::create_directories(evil_dir);
  const fs::path evil_gen = evil_dir / "<script>alert('x')<img src=x onerror=alert(1)>.jpg";
  const fs::path evil_train = evil_dir / "a\" onmouseover=\"alert(2).jpg";
  fs::copy_file(photo("baboon.jpg"), evil_gen);
  fs::copy_file(photo("fruits.jpg"), evil_train);
  json rec = make_record({{evil_gen.string(), evil_train.string(), 0.93}}, some_baseline());
  rec["model"] = "torchscript:</code><script>alert(3)</script>";
  rec["generated"]["source"] = "<iframe src=javascript:alert(4)>";
  rec["notes"] = {"<style>body{display:none}</style>"};
  rec["generated"]["skipped"] = {{{"path", "<svg onload=alert(5)>.png"}, {"error", "<b>bad</b>"}}};
  write_scan_report(rec, dir.path() / "out");
  const std::string html = read_file((dir.path() / "out/report.html").string());

  EXPECT_TRUE(Lacks(html, "<script"));
  EXPECT_TRUE(Lacks(html, "<img src=x"));
  EXPECT_TRUE(Lacks(html, "<iframe"));
  EXPECT_TRUE(Lacks(html, "<svg onload"));
  EXPECT_TRUE(Lacks(html, "<b>x</b>"));
  EXPECT_TRUE(Lacks(html, "<b>bad</b>"));
  EXPECT_TRUE(Lacks(html, "\" onmouseover=\""));
  EXPECT_EQ(count(html, "<style>"), 1u);  // the page's own stylesheet only
  EXPECT_TRUE(
      Contains(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;img src=x onerror=alert(1)&gt;.jpg"));
  EXPECT_TRUE(Contains(html, "a&quot; onmouseover=&quot;alert(2).jpg"));
  EXPECT_TRUE(Contains(html, "torchscript:&lt;/code&gt;&lt;script&gt;alert(3)&lt;/script&gt;"));
  EXPECT_TRUE(Contains(html, "&lt;svg onload=alert(5)&gt;.png"));
  // The files are real, so both thumbnails are made in spite of their names.
  EXPECT_EQ(count(html, "src=\"data:image/jpeg;base64,"), 2u);
}

TEST(ScanReport, MissingAndUnreadableImagesArePlaceholders) {
  TempDir dir;
  write_file_atomic((dir.path() / "corrupt.jpg").string(), "this is not a JPEG");
  const json rec = make_record({{(dir.path() / "gone.png").string(), photo("baboon.jpg"), 0.8},
                                {(dir.path() / "corrupt.jpg").string(), "", 0.3}},
                               some_baseline());
  ASSERT_NO_THROW(write_scan_report(rec, dir.path() / "out"));
  const std::string html = read_file((dir.path() / "out/report.html").string());
  EXPECT_EQ(pair_count(html), 2u);
  EXPECT_EQ(count(html, "class=\"thumb missing\""), 3u);
  EXPECT_TRUE(Contains(html, "<strong>missing</strong><span>gone.png</span>"));
  EXPECT_TRUE(Contains(html, "<strong>unreadable</strong><span>corrupt.jpg</span>"));
  EXPECT_TRUE(Contains(html, "<strong>no path</strong>"));
  EXPECT_EQ(count(html, "src=\"data:image/jpeg;base64,"), 1u);  // the one real photograph
}

TEST(ScanReport, ZeroPairsIsAPageThatSaysSo) {
  TempDir dir;
  write_scan_report(make_record({}, some_baseline()), dir.path() / "a");
  const std::string html = read_file((dir.path() / "a/report.html").string());
  EXPECT_TRUE(Contains(html, "data-pairs=\"0\" data-total=\"0\""));
  EXPECT_EQ(pair_count(html), 0u);
  EXPECT_TRUE(Contains(html, "no generated images"));
  EXPECT_TRUE(fs::exists(dir.path() / "a/plots/top1_hist.png"));

  // Neither generations nor a baseline: the plots still draw (empty, labelled).
  write_scan_report(make_record({}, {}), dir.path() / "b");
  EXPECT_TRUE(
      Contains(read_file((dir.path() / "b/plots/top1_density.svg").string()), "no scores to plot"));
}

TEST(ScanReport, IdenticalSetsAreSaidPlainly) {
  TempDir dir;
  const std::vector<const char*> names = {"baboon.jpg", "fruits.jpg", "apple.jpg", "building.jpg"};
  std::vector<std::tuple<std::string, std::string, double>> pairs;
  for (const char* n : names) pairs.emplace_back(photo(n), photo(n), 1.0);
  json rec = make_record(pairs, {1.0, 1.0, 1.0, 1.0});
  ASSERT_TRUE(rec["identical_sets"].get<bool>());
  // The notes as scan/ writes them: the identical-sets note is the banner's, shown once.
  rec["notes"] = {"Every generation's top-1 similarity is 1.0: each of the 4 generated images is "
                  "an exact copy of a training image. This is a valid result, not an error.",
                  "Another note."};
  write_scan_report(rec, dir.path() / "out");
  const std::string html = read_file((dir.path() / "out/report.html").string());
  EXPECT_TRUE(Contains(html,
                       "<div class=\"banner\">All 4 generated images match a training "
                       "image with similarity 1.0"));
  EXPECT_EQ(count(html, "This is a valid result, not an error."), 1u);
  EXPECT_TRUE(Contains(html, "<li>Another note.</li>"));
  EXPECT_EQ(count(html, "<div class=\"pair above\""), 4u);
  EXPECT_TRUE(Contains(html, "100.00%"));
  // A training image matched several times is decoded once but shown each time.
  EXPECT_EQ(count(html, "src=\"data:image/jpeg;base64,"), 8u);
  // Every score in one bin: the histogram and a visible density still draw.
  EXPECT_GT(fs::file_size(dir.path() / "out/plots/top1_hist.png"), 5000u);
  EXPECT_GT(fs::file_size(dir.path() / "out/plots/top1_density.png"), 5000u);
}

TEST(ScanReport, ShowsAtMostTheCapHighestFirst) {
  TempDir dir;
  std::vector<std::tuple<std::string, std::string, double>> pairs;
  for (int i = 0; i < 7; ++i)
    pairs.emplace_back("g" + std::to_string(i) + ".png", "t.png", 0.1 * i);
  ScanReportOptions o;
  o.max_pairs = 3;
  write_scan_report(make_record(pairs, some_baseline()), dir.path() / "out", o);
  const std::string html = read_file((dir.path() / "out/report.html").string());
  EXPECT_TRUE(Contains(html, "Showing 3 of 7 pairs"));
  EXPECT_TRUE(Contains(html, "data-pairs=\"3\" data-total=\"7\""));
  EXPECT_EQ(pair_count(html), 3u);
  const std::vector<double> scores = data_scores(html);
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_NEAR(scores[0], 0.6, 1e-9);
  EXPECT_NEAR(scores[2], 0.4, 1e-9);
  EXPECT_TRUE(Contains(html, "4 more pairs are in scan.json and matches.csv"));
}

TEST(ScanReport, LargeScansShowTheCapAndPlotEveryGeneration) {
  // More generations than the page shows: the page says so, the density counts them all. (How the
  // time grows with 200,000 generations is bench/bench_scan_report's question, not a unit test's.)
  TempDir dir;
  json rec = make_record({}, some_baseline());
  json top1 = json::array(), pairs = json::array();
  for (int i = 0; i < 2000; ++i) {
    const double s = 0.2 + 0.6 * ((i * 7919) % 2000) / 2000.0;
    top1.push_back(s);
    pairs.push_back(
        {{"generated", "g/" + std::to_string(i) + ".png"}, {"train", "t.png"}, {"score", s}});
  }
  rec["generations_top1"] = top1;
  rec["pairs"] = pairs;
  rec["generated"]["count"] = 2000;
  write_scan_report(rec, dir.path() / "out");
  const std::string html = read_file((dir.path() / "out/report.html").string());
  EXPECT_TRUE(Contains(html, "Showing 500 of 2000 pairs"));
  EXPECT_EQ(pair_count(html), 500u);
  EXPECT_TRUE(Contains(read_file((dir.path() / "out/plots/top1_density.svg").string()),
                       "generations (2000)"));
}

TEST(ScanReport, MissingGnuplotIsOneLineAndWritesNoPage) {
  TempDir dir;
  fs::create_directories(dir.path() / "empty_bin");
  ScopedEnv path("PATH", (dir.path() / "empty_bin").string());
  {
    const std::string e = test_support::error_of(
        [&] { write_scan_report(make_record({}, some_baseline()), dir.path() / "out"); });
    EXPECT_TRUE(test_support::is_one_line_error(e, "gnuplot is not on PATH"));
    EXPECT_TRUE(test_support::is_one_line_error(e, "install gnuplot-nox"));
  }
  EXPECT_FALSE(fs::exists(dir.path() / "out/report.html"));
}

TEST(ScanReport, FailingGnuplotQuotesItsFirstErrorLine) {
  TempDir dir;
  const fs::path bin = dir.path() / "bin";
  fs::create_directories(bin);
  // A stand-in gnuplot that fails the way a broken one would.
  write_file_atomic((bin / "gnuplot").string(),
                    "#!/bin/sh\necho '' >&2\necho '\"plot.gp\" line 3: unknown terminal' >&2\n"
                    "echo 'second line' >&2\nexit 1\n");
  fs::permissions(bin / "gnuplot", fs::perms::owner_all);
  ScopedEnv path("PATH", bin.string() + ":/usr/bin:/bin");
  try {
    write_scan_report(make_record({}, some_baseline()), dir.path() / "out");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "gnuplot failed (exit status 1): \"plot.gp\" line 3: unknown terminal");
  }
  EXPECT_FALSE(fs::exists(dir.path() / "out/report.html"));
  EXPECT_FALSE(fs::exists(dir.path() / "out/plots/top1_hist.png"));
}

// Who made the scan and when: from the envelope's context, or from the top-level fields of a
// scan.json written before the envelope (schema 1); schema 2 as the current one; another schema
// is refused.
TEST(ScanReport, ShowsTheDateAndVersionOfEitherEnvelope) {
  TempDir dir;
  const json rec = make_record({{"a.png", "b.png", 0.5}}, some_baseline());
  write_scan_report(rec, dir.path() / "new");
  const std::string page = read_file((dir.path() / "new/report.html").string());
  EXPECT_TRUE(Contains(page, "2026-11-23T10:00:00Z &middot; repbench 0.1.0")) << page.substr(0, 2000);

  json old = rec;
  old.erase("context");
  old.erase("timings");
  old["schema"] = 1;
  old["repbench_version"] = "0.0.9";
  old["created"] = "2026-10-01T08:00:00Z";
  old["seconds"] = 2.0;
  write_scan_report(old, dir.path() / "old");
  EXPECT_TRUE(Contains(read_file((dir.path() / "old/report.html").string()),
                       "2026-10-01T08:00:00Z &middot; repbench 0.0.9"));

  // Schema 2 differs only in how its samples were drawn: read as the current one.
  json two = rec;
  two["schema"] = "repbench.scan/2";
  write_scan_report(two, dir.path() / "two");
  EXPECT_TRUE(Contains(read_file((dir.path() / "two/report.html").string()),
                       "2026-11-23T10:00:00Z &middot; repbench 0.1.0"));

  json future = rec;
  future["schema"] = "repbench.scan/9";
  EXPECT_ERROR_CONTAINS(write_scan_report(future, dir.path() / "future"),
                        "scan record: schema is \"repbench.scan/9\", expected \"repbench.scan/3\"");
  EXPECT_FALSE(fs::exists(dir.path() / "future"));
}

TEST(ScanReport, BadRecordsNameTheField) {
  TempDir dir;
  json rec = make_record({{"a.png", "b.png", 0.5}}, some_baseline());
  json wrong_kind = rec;
  wrong_kind["kind"] = "eval";
  EXPECT_ERROR_CONTAINS(write_scan_report(wrong_kind, dir.path() / "out"),
                        "expected 'replication-scan'");
  rec["pairs"][0]["score"] = "high";
  EXPECT_ERROR_CONTAINS(write_scan_report(rec, dir.path() / "out"),
                        "'pairs[0].score' is not a number");
  rec.erase("pairs");
  EXPECT_ERROR_CONTAINS(write_scan_report(rec, dir.path() / "out"), "'pairs' is missing");
  EXPECT_FALSE(fs::exists(dir.path() / "out"));
}

TEST(HtmlPage, EscapesAndEncodes) {
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
  EXPECT_EQ(data_uri("image/png", "foob"), "data:image/png;base64,Zm9vYg==");
  const std::string page = html_page("a <title>", "<p>x</p>\n");
  EXPECT_THAT(page, HasSubstr("<title>a &lt;title&gt;</title>"));
  EXPECT_THAT(page, HasSubstr("<main>\n<p>x</p>\n</main>"));
}

TEST(Subprocess, PassesArgumentsVerbatimWithoutAShell) {
  TempDir dir;
  const std::string hostile = "$(touch " + (dir.path() / "pwned").string() + "); 'q' \"d\" `x`";
  const ProcessResult r = run_process({"printf", "%s|", hostile, "two words"}, dir.path().string());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, hostile + "|two words|");
  EXPECT_FALSE(fs::exists(dir.path() / "pwned"));
  const ProcessResult slow = run_process({"sleep", "30"}, {}, 0.3);
  EXPECT_TRUE(slow.timed_out);
  EXPECT_ERROR_CONTAINS(run_process({"no-such-program-repbench"}),
                        "cannot run 'no-such-program-repbench': no such program on PATH");
  EXPECT_EQ(first_line("\n  \n  first \nsecond"), "first");
}

// ---------------------------------------------------------------------------------------------
// The pages in a real browser

// Where the browser tests leave their pages and screenshots for a person to look at.
fs::path browser_output_dir(const std::string& name) {
  const fs::path dir = fs::current_path() / "scan_report_browser" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string file_url(const fs::path& path) {
  std::string url = "file://";
  for (unsigned char c : fs::absolute(path).string()) {
    if (std::isalnum(c) ||
        std::string_view("/-._~").find(static_cast<char>(c)) != std::string_view::npos)
      url += static_cast<char>(c);
    else
      url += fmt::format("%{:02X}", c);
  }
  return url;
}

struct BrowserRun {
  std::string dom;                   // document.documentElement.outerHTML after load
  std::vector<std::string> console;  // every console message the page produced
  fs::path screenshot;
};

// Loads `page` in headless chromium once: dumps the DOM and takes a 1280x2000 screenshot. The
// console is read from chromium's own log (--enable-logging=stderr), where every message a page
// logs, and every uncaught exception, is a line "...:CONSOLE:<line>] "<message>", source: ...";
// this needs nothing injected into the page (which has no script of its own), and
// BrowserConsoleScanDetectsErrors below proves on a broken page that such lines are found.
// (Each browser test starts with REQUIRE_CHROMIUM(): the fixture rule of required_fixture.h.)
BrowserRun load_in_chromium(const fs::path& page, const fs::path& out_dir) {
  const std::optional<std::string> chromium = find_program("chromium");
  if (!chromium) {
    ADD_FAILURE() << "chromium is not installed: run scripts/setup.sh (apt-get install chromium)";
    return {};
  }
  BrowserRun run;
  run.screenshot = out_dir / "screenshot.png";
  const ProcessResult r = run_process(
      {*chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
       "--no-first-run", "--no-default-browser-check", "--disable-extensions",
       "--disable-background-networking", "--disable-component-update", "--disable-sync",
       "--user-data-dir=" + (out_dir / "profile").string(), "--enable-logging=stderr", "--v=0",
       "--window-size=1280,2000", "--screenshot=" + run.screenshot.string(), "--dump-dom",
       file_url(page)},
      {}, 180);
  fs::remove_all(out_dir / "profile");
  EXPECT_FALSE(r.timed_out) << "chromium did not finish within 180 s";
  EXPECT_EQ(r.exit_code, 0) << first_line(r.err);
  write_file_atomic((out_dir / "chromium.log").string(), r.err);
  write_file_atomic((out_dir / "dom.html").string(), r.out);
  run.dom = r.out;
  size_t start = 0;
  while (start < r.err.size()) {
    size_t end = r.err.find('\n', start);
    if (end == std::string::npos) end = r.err.size();
    const std::string line = r.err.substr(start, end - start);
    const size_t tag = line.find(":CONSOLE");
    const size_t text = tag == std::string::npos ? tag : line.find("] ", tag);
    if (text != std::string::npos) run.console.push_back(line.substr(text + 2));
    start = end + 1;
  }
  return run;
}

// A screenshot that shows something: a PNG of the window's size that is not one flat colour.
void expect_real_screenshot(const fs::path& png) {
  ASSERT_TRUE(fs::exists(png)) << png;
  EXPECT_GT(fs::file_size(png), 20000u) << png;
  const cv::Mat img = cv::imread(png.string());
  ASSERT_FALSE(img.empty()) << png;
  EXPECT_EQ(img.cols, 1280);
  EXPECT_EQ(img.rows, 2000);
  cv::Scalar mean, sd;
  cv::meanStdDev(img, mean, sd);
  EXPECT_GT(sd[0] + sd[1] + sd[2], 30.0) << png << " looks blank";
}

// Every resource the page names is inline: nothing is fetched, from disk or network. (Plain
// string scanning: libstdc++'s recursive std::regex overflows the stack on megabyte data URIs.)
void expect_only_inline_resources(const std::string& dom) {
  for (const char* attr : {" src=\"", " href=\""})
    for (size_t at = dom.find(attr); at != std::string::npos; at = dom.find(attr, at + 1)) {
      const size_t value = at + std::strlen(attr);
      EXPECT_EQ(dom.compare(value, 5, "data:"), 0) << dom.substr(at, 80);
    }
  EXPECT_TRUE(Lacks(dom, "<link"));
  EXPECT_TRUE(Lacks(dom, "url("));
}

// The number in `data-pairs="N"`, or -1 when there is none.
long data_pairs_attribute(const std::string& dom) {
  const std::string key = "data-pairs=\"";
  const size_t at = dom.find(key);
  if (at == std::string::npos) return -1;
  return std::strtol(dom.c_str() + at + key.size(), nullptr, 10);
}

// Headless chromium is a machine fixture: skipped without it, a failure where fixtures are
// required (REPBENCH_REQUIRE_FIXTURES=1).
#define REQUIRE_CHROMIUM()                                                                    \
  SKIP_OR_FAIL_WITHOUT_FIXTURE(find_program("chromium")                                       \
                                   ? std::string()                                            \
                                   : std::string("chromium is not on PATH: install Debian's " \
                                                 "chromium (scripts/setup.sh)"))

TEST(ScanReportBrowser, ConsoleScanDetectsErrors) {
  REQUIRE_CHROMIUM();
  // The control for the two tests below: a page that logs an error and throws must be caught.
  const fs::path out = browser_output_dir("control");
  write_file_atomic((out / "broken.html").string(),
                    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>x</title></head>"
                    "<body><p>broken</p><script>console.error('repbench-canary');"
                    "undefined_function_repbench();</script></body></html>\n");
  const BrowserRun run = load_in_chromium(out / "broken.html", out);
  ASSERT_EQ(run.console.size(), 2u)
      << "chromium's console log format changed? see " << (out / "chromium.log");
  EXPECT_THAT(run.console[0], HasSubstr("repbench-canary"));
  EXPECT_THAT(run.console[1], HasSubstr("undefined_function_repbench is not defined"));
  EXPECT_TRUE(Contains(run.dom, "<p>broken</p>"));
}

TEST(ScanReportBrowser, ScanPageLoadsCleanAndShowsEveryPair) {
  REQUIRE_CHROMIUM();
  const fs::path out = browser_output_dir("scan");
  const json rec = photo_record(out / "gen");
  write_scan_report(rec, out);
  const BrowserRun run = load_in_chromium(out / "report.html", out);
  EXPECT_TRUE(run.console.empty()) << "console: " << run.console.front();
  const long declared = data_pairs_attribute(run.dom);
  ASSERT_GE(declared, 0) << "no pairs container in the DOM";
  const size_t shown = pair_count(run.dom);
  EXPECT_EQ(shown, static_cast<size_t>(declared));
  EXPECT_EQ(shown, rec["pairs"].size());
  EXPECT_TRUE(Contains(run.dom, "Showing 10 of 10 pairs"));
  expect_only_inline_resources(run.dom);
  expect_real_screenshot(run.screenshot);
}

// A copying experiment of two sizes whose scans are photo records, rendered into `out`.
void write_copying_fixture(const fs::path& out) {
  json sizes = json::array();
  for (int n : {10, 40}) {
    const std::string folder = fmt::format("n{:02d}", n);
    const json scan = photo_record(out / folder / "gen");
    write_file_atomic((out / folder / "scan" / "scan.json").string(), scan.dump());
    json top = json::array();
    for (size_t i = 0; i < 4; ++i)
      top.push_back({{"generated", scan["pairs"][i]["generated"]},
                     {"train", scan["pairs"][i]["train"]},
                     {"score", scan["pairs"][i]["score"]}});
    sizes.push_back({{"n", n},
                     {"folder", folder},
                     {"training", {{"steps_done", 1500}, {"loss_last", 0.031}}},
                     {"samples", {{"count", scan["generated"]["count"]}, {"folder", folder + "/gen"}}},
                     {"scan", folder + "/scan/scan.json"},
                     {"generations_top1", scan["generations_top1"]},
                     {"baseline_top1", scan["baseline"]["top1"]},
                     {"generations_summary", {{"median", 0.7}, {"p95", 0.99}}},
                     {"baseline_summary", {{"median", 0.4}}},
                     {"above", scan["above"]},
                     {"top_pairs", top}});
  }
  const json rec = {{"kind", "copying-experiment"},
                    {"model", "builtin:tiny?flip=1"},
                    {"images", {{"source", "pool/"}, {"count", 51}}},
                    {"options", {{"steps", 1500}}},
                    {"thresholds", {0.5, 0.9}},  // as photo_record's
                    {"protocol", {"Subsets are nested."}},
                    {"sizes", sizes}};
  write_copying_report(rec, out);
}

// The copying experiment's page (report/copying_report.h) over two sizes whose scans are photo
// records: each size's scan page is rendered from its scan.json, the page shows each size's top
// pairs, links only to those pages, and loads clean.
TEST(ScanReportBrowser, CopyingPageLoadsCleanWithEachSizesPairs) {
  REQUIRE_CHROMIUM();
  const fs::path out = browser_output_dir("copying");
  write_copying_fixture(out);
  for (const char* f : {"n10/scan/report.html", "n40/scan/report.html",
                        "plots/top1_by_size.png", "plots/above_by_size.svg"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  const BrowserRun run = load_in_chromium(out / "report.html", out);
  EXPECT_TRUE(run.console.empty()) << "console: " << run.console.front();
  EXPECT_EQ(pair_count(run.dom), 8u);
  EXPECT_TRUE(Contains(run.dom, "data-size=\"10\" data-pairs=\"4\""));
  EXPECT_TRUE(Contains(run.dom, "data-size=\"40\" data-pairs=\"4\""));
  // Images inline; the only links are to the sizes' scan pages, which exist beside it.
  for (size_t at = run.dom.find(" src=\""); at != std::string::npos;
       at = run.dom.find(" src=\"", at + 1))
    EXPECT_EQ(run.dom.compare(at + 6, 5, "data:"), 0) << run.dom.substr(at, 80);
  size_t links = 0;
  for (size_t at = run.dom.find(" href=\""); at != std::string::npos;
       at = run.dom.find(" href=\"", at + 1)) {
    const size_t v = at + 7;
    const std::string target = run.dom.substr(v, run.dom.find('"', v) - v);
    EXPECT_TRUE(fs::exists(out / target)) << target;
    ++links;
  }
  EXPECT_EQ(links, 4u);  // table and pairs heading, per size
  expect_real_screenshot(run.screenshot);
}

TEST(ScanReportBrowser, LeaderboardPageLoadsCleanWithItsCharts) {
  REQUIRE_CHROMIUM();
  const fs::path out = browser_output_dir("leaderboard");
  std::vector<ScoreEntry> entries;
  const std::vector<std::pair<std::string, std::string>> models = {
      {"SSCD, ResNet-50", "CD/IR"},
      {"DINO ViT-B/16", "SSL"},
      {"CLIP ViT-B/32", "PT"},
      {"builtin:colorhist", "baseline"}};
  const std::vector<std::string> sets = {"rOxford5k (M)", "rParis6k (M)", "GPR1200"};
  for (size_t i = 0; i < models.size(); ++i)
    for (size_t j = 0; j < sets.size(); ++j) {
      ScoreEntry e;
      e.model = models[i].first;
      e.category = models[i].second;
      e.dataset = sets[j];
      e.map_percent = 80.0 - 17.0 * static_cast<double>(i) - 6.0 * static_cast<double>(j);
      if (i == 0) e.ci95_percent = {{e.map_percent - 4, e.map_percent + 3}};
      if (i == 3 && j == 2) e.skipped_reason = "out of memory";
      entries.push_back(e);
    }
  write_file_atomic((out / "leaderboard.html").string(),
                    render(build_leaderboard(entries), Format::kHtml));
  const BrowserRun run = load_in_chromium(out / "leaderboard.html", out);
  EXPECT_TRUE(run.console.empty()) << "console: " << run.console.front();
  EXPECT_EQ(count(run.dom, "<table"), 1u);
  EXPECT_EQ(count(run.dom, "<figure"), sets.size());  // one bar chart per dataset
  EXPECT_EQ(count(run.dom, "<rect "), models.size() * sets.size() - 1);  // less the skipped
  expect_only_inline_resources(run.dom);
  expect_real_screenshot(run.screenshot);
}

// 30 per-query APs of model i on dataset j (lower for later models, varying by query) and their
// mean as the entry's mAP: the leaderboard tests' rank statistics need per-query results.
void set_synthetic_aps(ScoreEntry& e, size_t i, size_t j) {
  std::vector<double> ap;
  for (size_t q = 0; q < 30; ++q)
    ap.push_back(std::clamp(0.9 - 0.15 * static_cast<double>(i) +
                                0.2 * std::sin(static_cast<double>(q * (i + 3) + j)),
                            0.0, 1.0));
  double sum = 0;
  for (double v : ap) sum += v;
  e.map_percent = 100 * sum / static_cast<double>(ap.size());
  e.per_query = QueryAps{ap, ""};
}

// With per-query APs for every model on every dataset, the page has the rank-interval column and
// the critical-difference diagram (models, CD scale bar, group bars), and still loads clean.
TEST(ScanReportBrowser, LeaderboardPageShowsTheCriticalDifferenceDiagram) {
  REQUIRE_CHROMIUM();
  const fs::path out = browser_output_dir("leaderboard_cd");
  std::vector<ScoreEntry> entries;
  const std::vector<std::string> models = {"SSCD, ResNet-50", "DINO ViT-B/16", "CLIP ViT-B/32",
                                           "Swin-B", "builtin:colorhist"};
  const std::vector<std::string> sets = {"rOxford5k (M)", "rParis6k (M)", "GPR1200", "INSTRE"};
  for (size_t j = 0; j < sets.size(); ++j)
    for (size_t i = 0; i < models.size(); ++i) {
      ScoreEntry e;
      e.model = models[i];
      e.category = i < 2 ? "CD/IR" : "PT";
      e.dataset = sets[j];
      set_synthetic_aps(e, i, j);
      entries.push_back(e);
    }
  Leaderboard board = build_leaderboard(entries);
  add_rank_statistics(board, {500, 0, 0});
  ASSERT_TRUE(board.rank_statistics);
  write_file_atomic((out / "leaderboard.html").string(), render(board, Format::kHtml));
  const BrowserRun run = load_in_chromium(out / "leaderboard.html", out);
  EXPECT_TRUE(run.console.empty()) << "console: " << run.console.front();
  EXPECT_TRUE(Contains(run.dom, "<th>Rank 95% CI</th>"));
  EXPECT_TRUE(Contains(run.dom, "Critical-difference diagram"));
  EXPECT_EQ(count(run.dom, "class=\"cd-diagram\""), 1u);
  EXPECT_TRUE(Contains(run.dom, fmt::format("data-models=\"{}\"", models.size())));
  EXPECT_TRUE(
      Contains(run.dom, fmt::format("data-groups=\"{}\"", board.rank_statistics->groups.size())));
  EXPECT_TRUE(
      Contains(run.dom, fmt::format("CD = {:.2f}", board.rank_statistics->critical_difference)));
  for (const auto& m : models) EXPECT_TRUE(Contains(run.dom, html_escape(m) + "  ")) << m;
  expect_only_inline_resources(run.dom);
  expect_real_screenshot(run.screenshot);
}

// The bounding box (x0, y0, x1, y1; inclusive) of the pixels of `img` that `is` accepts, or
// nullopt when there is none.
template <typename Pred>
std::optional<cv::Rect> pixels_where(const cv::Mat& img, Pred is) {
  int x0 = img.cols, y0 = img.rows, x1 = -1, y1 = -1;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      const cv::Vec3b p = img.at<cv::Vec3b>(y, x);  // B, G, R
      if (!is(p[0], p[1], p[2])) continue;
      x0 = std::min(x0, x);
      y0 = std::min(y0, y);
      x1 = std::max(x1, x);
      y1 = std::max(y1, y);
    }
  if (x1 < 0) return std::nullopt;
  return cv::Rect(x0, y0, x1 - x0 + 1, y1 - y0 + 1);
}

TEST(ScanReportBrowser, FailurePageLoadsCleanWithThumbnailsAndTheCropBox) {
  REQUIRE_CHROMIUM();
  const fs::path out = browser_output_dir("failures");
  const testing_fixture::FailureFixture fx = testing_fixture::make_failure_fixture(out / "fixture");
  const datasets::RetrievalSet set = datasets::load_set({fx.set_dir.string(), "", "", ""});
  write_failure_page(fx.record.string(), set, (out / "failures.html").string());
  const BrowserRun run = load_in_chromium(out / "failures.html", out);
  EXPECT_TRUE(run.console.empty()) << "console: " << run.console.front();
  EXPECT_EQ(count(run.dom, "<section class=\"failure\""), 3u);
  // Queries 0, 3, 1: query + positive + 2, 3 and 0 false positives.
  EXPECT_EQ(count(run.dom, "<img src=\"data:image/jpeg;base64,"), 4u + 5u + 2u);
  EXPECT_EQ(count(run.dom, "class=\"item fp\""), 5u);
  expect_only_inline_resources(run.dom);
  expect_real_screenshot(run.screenshot);
  // The crop box is drawn where the protocol crops: the pure-blue query (200x150, shown at
  // 140x105) carries the magenta outline of columns 10..130 and rows 6..80 of the image.
  const cv::Mat shot = cv::imread(run.screenshot.string());
  ASSERT_FALSE(shot.empty());
  const auto blue = pixels_where(shot, [](int b, int g, int r) { return b > 200 && g < 60 && r < 60; });
  const auto magenta =
      pixels_where(shot, [](int b, int g, int r) { return b > 200 && r > 200 && g < 80; });
  ASSERT_TRUE(blue && magenta) << "no query image or no crop box in " << run.screenshot;
  EXPECT_NEAR(blue->width, 140, 1);
  EXPECT_NEAR(blue->height, 105, 1);
  const double sx = blue->width / 200.0, sy = blue->height / 150.0;
  EXPECT_NEAR(magenta->x - blue->x, 10 * sx, 1.5);
  EXPECT_NEAR(magenta->y - blue->y, 6 * sy, 1.5);
  EXPECT_NEAR(magenta->x + magenta->width - blue->x, 131 * sx, 1.5);
  EXPECT_NEAR(magenta->y + magenta->height - blue->y, 81 * sy, 1.5);
}

// ---------------------------------------------------------------------------------------------
// Pages that fit the screen

// What the page-fit harness checks in each page it frames at each width (the page's own window):
// the document is no wider than the window; every SVG stays inside its card; and on a leaderboard
// (a table with a model column) every column header, centred by scrollIntoView, is in view and
// not covered, and the model header stays visible whichever column is shown. One line per page
// and width: "NAME WIDTH: ok" or "NAME WIDTH: problem; problem".
constexpr const char* kFitScript = R"js(
const out = document.getElementById('fit');
function check(frame, name, width) {
  const d = frame.contentDocument, de = d.documentElement, vw = de.clientWidth;
  const problems = [];
  if (de.scrollWidth > vw) problems.push('the page is ' + de.scrollWidth + ' px wide');
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.left < -0.5 || r.right > vw + 0.5) return false;
    const e = d.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    return e !== null && el.contains(e);
  };
  const model = d.querySelector('th.model');
  if (model) {
    for (const th of d.querySelectorAll('table thead th')) {
      th.scrollIntoView({block: 'center', inline: 'center'});
      if (!visible(th)) problems.push('header "' + th.textContent + '" cannot be brought into view');
      else if (!visible(model)) problems.push('the model column is hidden when "' + th.textContent + '" is shown');
    }
  }
  for (const svg of d.querySelectorAll('svg')) {
    const r = svg.getBoundingClientRect(), c = svg.parentElement.getBoundingClientRect();
    if (r.right > c.right + 0.5) problems.push('an SVG is wider than its card (' + Math.round(r.width) + ' px)');
  }
  out.textContent += name + ' ' + width + ': ' + (problems.length ? problems.join('; ') : 'ok') + '\n';
}
for (const [name, url] of PAGES)
  for (const width of [1000, 1400, 1920]) {
    const f = document.createElement('iframe');
    f.style.cssText = 'display:block;border:0;height:900px;width:' + width + 'px';
    f.onload = () => check(f, name, width);
    f.src = url;
    document.body.appendChild(f);
  }
)js";

// Opens every page at 1000, 1400 and 1920 px in one headless chromium (each page in a frame of
// that width, the harness above) and returns the harness's lines, name -> width -> verdict.
std::map<std::string, std::map<int, std::string>> fit_in_chromium(
    const std::vector<std::pair<std::string, fs::path>>& pages, const fs::path& out_dir) {
  std::map<std::string, std::map<int, std::string>> verdicts;
  const std::optional<std::string> chromium = find_program("chromium");
  if (!chromium) return verdicts;
  std::string list = "const PAGES = [";
  for (const auto& [name, page] : pages)
    list += fmt::format("[{}, {}], ", json(name).dump(), json(file_url(page)).dump());
  list += "];";
  const fs::path harness = out_dir / "fit.html";
  write_file_atomic(harness.string(),
                    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>"
                    "<pre id=\"fit\"></pre><script>" + list + kFitScript +
                        "</script></body></html>\n");
  const ProcessResult r = run_process(
      {*chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
       "--no-first-run", "--no-default-browser-check", "--disable-extensions",
       "--disable-background-networking", "--disable-component-update", "--disable-sync",
       "--allow-file-access-from-files", "--user-data-dir=" + (out_dir / "profile").string(),
       "--window-size=2000,1000", "--dump-dom", file_url(harness)},
      {}, 180);
  fs::remove_all(out_dir / "profile");
  EXPECT_FALSE(r.timed_out) << "chromium did not finish within 180 s";
  EXPECT_EQ(r.exit_code, 0) << first_line(r.err);
  const size_t begin = r.out.find("<pre id=\"fit\">"), end = r.out.find("</pre>", begin);
  if (begin == std::string::npos || end == std::string::npos) {
    ADD_FAILURE() << "no verdicts in chromium's DOM:\n" << r.out.substr(0, 2000);
    return verdicts;
  }
  std::istringstream lines(r.out.substr(begin + 14, end - begin - 14));
  for (std::string line; std::getline(lines, line);) {
    const size_t colon = line.find(": "), space = line.rfind(' ', colon);
    if (colon == std::string::npos || space == std::string::npos) continue;
    verdicts[line.substr(0, space)][std::stoi(line.substr(space + 1, colon - space - 1))] =
        line.substr(colon + 2);
  }
  return verdicts;
}

// A leaderboard wider than any of the three windows: ten datasets with long names, long model
// names, rank intervals and the critical-difference diagram.
Leaderboard wide_leaderboard() {
  std::vector<ScoreEntry> entries;
  const std::vector<std::string> models = {
      "SSCD ResNet-50 (DISC mixup, 512-d, score-normalised)", "DINO ViT-B/16 (ImageNet, CLS)",
      "CLIP ViT-B/16 (LAION-2B, open_clip weights)", "Swin-B (patch 4, window 7)",
      "builtin:colorhist"};
  const std::vector<std::string> sets = {
      "rOxford5k (Medium)", "rParis6k (Medium)", "GPR1200", "INSTRE-S1", "CUB-200-2011 (dcr)",
      "in-cutmix (ImageNet)", "mscoco-segmix", "voc-segmix", "in-dif-patch", "in-dif-diagonal"};
  for (size_t j = 0; j < sets.size(); ++j)
    for (size_t i = 0; i < models.size(); ++i) {
      ScoreEntry e;
      e.model = models[i];
      e.category = i < 1 ? "Copy detection" : i < 4 ? "Pretrained" : "builtin";
      e.dataset = sets[j];
      e.metric = "mAP with trapezoid AP (revisitop compute_map)";
      set_synthetic_aps(e, i, j);
      entries.push_back(e);
    }
  Leaderboard board = build_leaderboard(entries);
  add_rank_statistics(board, {200, 0, 0});
  return board;
}

// Every page repbench writes fits 1000, 1400 and 1920 px windows: no sideways scrolling of the
// page (wide tables scroll in their own box, SVGs scale to their card), and on the leaderboards
// every column header can be scrolled into view with the model column still shown. The demo's
// committed leaderboard is one of them.
TEST(PagesFit, EveryPageFitsThreeWindowWidths) {
  const std::optional<std::string> chromium = find_program("chromium");
  SKIP_OR_FAIL_WITHOUT_FIXTURE(chromium ? "" : "chromium is not installed (scripts/setup.sh installs it)");
  const fs::path out = browser_output_dir("fit");
  write_file_atomic((out / "leaderboard.html").string(), render(wide_leaderboard(), Format::kHtml));
  write_scan_report(photo_record(out / "scan" / "gen"), out / "scan");
  write_copying_fixture(out / "copying");
  const testing_fixture::FailureFixture fx = testing_fixture::make_failure_fixture(out / "fixture");
  write_failure_page(fx.record.string(), datasets::load_set({fx.set_dir.string(), "", "", ""}),
                     (out / "failures.html").string());
  const std::vector<std::pair<std::string, fs::path>> pages = {
      {"leaderboard", out / "leaderboard.html"},
      {"demo-leaderboard", fs::path(REPBENCH_SOURCE_DIR) / "results/demo/leaderboard.html"},
      {"scan", out / "scan/report.html"},
      {"copying", out / "copying/report.html"},
      {"failures", out / "failures.html"}};
  const auto verdicts = fit_in_chromium(pages, out);
  for (const auto& [name, page] : pages)
    for (int width : {1000, 1400, 1920}) {
      const auto p = verdicts.find(name);
      const bool seen = p != verdicts.end() && p->second.count(width);
      EXPECT_TRUE(seen) << name << " at " << width << " px was not checked (" << page << ")";
      if (seen) {
        EXPECT_EQ(p->second.at(width), "ok") << name << " at " << width << " px: " << page;
      }
    }
}

}  // namespace
}  // namespace repbench::report
