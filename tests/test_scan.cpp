// Tests of scan/ (the replication scan): planted copies of real photographs found at rank 1,
// approximate search against exact search, the self-similarity baseline, duplicate counts,
// shards and their merge, and bad input through the command line.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/descriptors.h"
#include "core/error.h"
#include "demo/demo_pool.h"
#include "descriptors/shards.h"
#include "imaging/image_list.h"
#include "models/pipeline.h"
#include "models/registry.h"
#include "records/record_envelope.h"
#include "scan/baseline.h"
#include "scan/duplicates.h"
#include "scan/index.h"
#include "scan/scan.h"
#include "support/bad_input.h"
#include "support/command_test.h"

namespace fs = std::filesystem;
using namespace repbench;        // NOLINT
using namespace repbench::scan;  // NOLINT
using nlohmann::json;
using repbench::test_support::slurp;

namespace {

class ScanTest : public test_support::CommandTest {
 protected:
  ScanTest() : CommandTest("scan") {}
  // The bad-input contract (tests/support/bad_input.h); a scan reports the extractions it
  // finished before the bad input (one summary line each) first.
  void expect_bad_input(const Run& r, const std::string& input, const std::string& problem,
                        const std::vector<std::string>& outputs) const {
    EXPECT_BAD_INPUT_AFTER_PROGRESS(r, input, problem, outputs);
  }

  // The demo pool (real photographs of opencv-doc), staged once per test under dir_/pool.
  std::vector<std::string> pool() const {
    return demo::stage_demo_pool(demo::default_pool_dir(), path("pool"));
  }
};

// ---------------------------------------------------------------------------------------------
// Planted copies

// The training set: the first 40 pool photographs (all view pairs and 14 distractors). The
// generated set: 8 altered copies of training photographs (2 each of exact copy, centre crop to
// 80% x 80%, horizontal flip, colour cast) and the 13 remaining pool photographs, which are in
// no way derived from the training set.
struct Planted {
  std::string train_dir, gen_dir;
  std::map<std::string, std::string> source_of;  // generated path -> training path
  std::vector<std::string> unrelated;
  int total = 0;
};

Planted make_planted(const std::vector<std::string>& photos, const fs::path& root) {
  Planted p;
  p.train_dir = (root / "train").string();
  p.gen_dir = (root / "generated").string();
  fs::create_directories(p.train_dir);
  fs::create_directories(p.gen_dir);
  std::vector<std::string> train;
  for (size_t i = 0; i < 40; ++i) {
    const fs::path dst = fs::path(p.train_dir) / fs::path(photos[i]).filename();
    fs::copy_file(photos[i], dst, fs::copy_options::overwrite_existing);
    train.push_back(dst.string());
  }
  const int sources[8] = {1, 5, 9, 14, 20, 27, 31, 36};
  const char* kinds[4] = {"copy", "crop", "flip", "colour"};
  for (int s = 0; s < 8; ++s) {
    const cv::Mat im = cv::imread(train[sources[s]], cv::IMREAD_COLOR);
    cv::Mat out;
    switch (s % 4) {
      case 0: out = im.clone(); break;
      case 1: out = im(cv::Rect(im.cols / 10, im.rows / 10, im.cols * 8 / 10, im.rows * 8 / 10)).clone(); break;
      case 2: cv::flip(im, out, 1); break;
      default: {
        // A colour cast: each channel's gain and offset moved (blue down, red up).
        std::vector<cv::Mat> ch;
        cv::split(im, ch);
        ch[0].convertTo(ch[0], -1, 0.85, 25);
        ch[1].convertTo(ch[1], -1, 1.0, -15);
        ch[2].convertTo(ch[2], -1, 1.15, 10);
        cv::merge(ch, out);
      }
    }
    const std::string g = (fs::path(p.gen_dir) / fmt::format("g{}-{}.png", s, kinds[s % 4])).string();
    cv::imwrite(g, out);
    p.source_of[g] = train[sources[s]];
  }
  for (size_t i = 40; i < photos.size(); ++i) {
    const fs::path dst = fs::path(p.gen_dir) / ("u-" + fs::path(photos[i]).filename().string());
    fs::copy_file(photos[i], dst, fs::copy_options::overwrite_existing);
    p.unrelated.push_back(dst.string());
  }
  p.total = int(p.source_of.size() + p.unrelated.size());
  return p;
}

// No built-in extractor of raw pixels, colour or frequencies is invariant to a horizontal flip
// (tiny, dct and randcnn all match a flipped Suzanne to its sibling view or score a flip below
// unrelated photographs; colorhist misses both colour casts). builtin:tiny?flip=1 averages the
// thumbnail with its mirror (the group average over {identity, mirror}), which makes it flip
// invariant (up to the thumbnail's resampling) and finds all 8 copies at rank 1 here. Its scores
// are raw-pixel cosines, not SSCD's, so no absolute threshold carries over from the paper: the
// test asserts what needs none (each copy finds its source, and every copy scores above every
// unrelated photograph), and checks the record's threshold counts against its own pairs at
// thresholds spread over the whole range.
const char* kModel = "builtin:tiny?flip=1";
const std::vector<double> kThresholds = {0.2, 0.4, 0.6, 0.8};

TEST_F(ScanTest, FlipInvariantTinyGivesAMirrorTheSameDescriptor) {
  // Sides that are multiples of 32: the area resize then commutes with the mirror exactly.
  cv::Mat im(64, 96, CV_8UC3);
  cv::randu(im, 0, 255);
  cv::Mat mirrored;
  cv::flip(im, mirrored, 1);
  cv::imwrite(path("a.png"), im);
  cv::imwrite(path("b.png"), mirrored);
  std::vector<models::ImageItem> items{{path("a.png"), std::nullopt}, {path("b.png"), std::nullopt}};
  models::PipelineOptions quiet;
  quiet.progress = ProgressMode::kOff;
  auto cosine = [&](const std::string& spec) {
    auto ex = models::create_extractor(spec);
    const FloatArray f = models::extract_features(*ex, items, quiet).features;
    double dot = 0;
    for (int64_t j = 0; j < f.row_size(); ++j) dot += double{f.row(0)[j]} * f.row(1)[j];
    return dot;
  };
  EXPECT_NEAR(cosine("builtin:tiny?flip=1"), 1.0, 1e-6);
  EXPECT_LT(cosine("builtin:tiny"), 0.5);  // random pixels: the plain one does not see the copy
  EXPECT_EQ(models::canonical_spec("builtin:tiny?flip=0"), "builtin:tiny");
}

TEST_F(ScanTest, FindsEveryPlantedCopyAtRankOne) {
  const Planted p = make_planted(pool(), dir_);
  ScanOptions o;
  o.generated = p.gen_dir;
  o.train = p.train_dir;
  o.model = kModel;
  o.out = path("out");
  o.params.thresholds = kThresholds;
  o.params.k = 3;
  o.progress = ProgressMode::kOff;
  const json rec = run_scan(o);
  ASSERT_EQ(rec["pairs"].size(), size_t(p.total));
  EXPECT_EQ(rec["generated"]["count"], p.total);
  EXPECT_EQ(rec["train"]["count"], 40);
  EXPECT_EQ(rec["search"]["method"], "exact");
  EXPECT_TRUE(rec["search"]["recall_at_1"].is_null());
  double lowest_copy = 2, highest_unrelated = -2;
  std::vector<double> scores;
  for (const auto& pair : rec["pairs"]) {
    const std::string g = pair["generated"];
    const double score = pair["score"];
    scores.push_back(score);
    if (p.source_of.count(g)) {
      EXPECT_EQ(pair["train"], p.source_of.at(g)) << g;
      lowest_copy = std::min(lowest_copy, score);
    } else {
      highest_unrelated = std::max(highest_unrelated, score);
    }
  }
  EXPECT_GT(lowest_copy, highest_unrelated) << "a copy scores below an unrelated photograph";
  ASSERT_EQ(rec["above"].size(), kThresholds.size());
  for (size_t i = 0; i < kThresholds.size(); ++i) {
    const double t = kThresholds[i];
    // In float, the scores' precision, as the scan compares them.
    const int64_t n =
        std::count_if(scores.begin(), scores.end(), [&](double s) { return float(s) > float(t); });
    EXPECT_EQ(rec["above"][i]["threshold"].get<double>(), t);
    EXPECT_EQ(rec["above"][i]["generations"].get<int64_t>(), n) << t;
    EXPECT_DOUBLE_EQ(rec["above"][i]["fraction"].get<double>(), double(n) / p.total) << t;
  }
  EXPECT_FALSE(rec["identical_sets"].get<bool>());
  // The baseline: every training image against its nearest other one, never itself.
  EXPECT_EQ(rec["baseline"]["sample"], 40);
  for (const auto& s : rec["baseline"]["top1"]) EXPECT_LT(s.get<double>(), 0.9999);
  // matches.csv: header + k lines per generation, rank 1 = the record's pair.
  std::ifstream csv(path("out/matches.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "generated,rank,train,score");
  int lines = 0;
  while (std::getline(csv, line)) ++lines;
  EXPECT_EQ(lines, 3 * p.total);
  // A rerun reads the descriptors from the cache and writes the same record.
  const json again = run_scan(o);
  EXPECT_EQ(again["pairs"], rec["pairs"]);
}

// ---------------------------------------------------------------------------------------------
// Command line: shards, merge and bad input

TEST_F(ScanTest, ShardsMergeToTheUnshardedFileByteForByte) {
  const std::vector<std::string> photos = pool();
  std::ofstream list(path("train.txt"));
  for (size_t i = 0; i < 20; ++i) list << photos[i] << "\n";
  list.close();
  Run r = repbench("extract -m builtin:dct --images " + path("train.txt") + " --out " + path("full"));
  ASSERT_EQ(r.status, 0) << r.err;
  std::string shards;
  for (int i = 0; i < 3; ++i) {
    r = repbench(fmt::format("extract -m builtin:dct --images {} --shard {}/3 --out {}",
                             path("train.txt"), i, path("sh")));
    ASSERT_EQ(r.status, 0) << r.err;
    shards += " " + path(fmt::format("sh/images.shard-{}-of-3.npy", 2 - i));  // any order
  }
  r = repbench("extract merge" + shards + " --out " + path("merged.npy"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(path("merged.npy")), slurp(path("full/images.npy")));
  const descriptors::ShardedDescriptors m = descriptors::read_shard(path("merged.npy"));
  EXPECT_EQ(m.paths, std::vector<std::string>(photos.begin(), photos.begin() + 20));
  EXPECT_EQ(m.shards_merged, 3);

  // A scan over the shards equals a scan that extracts the training images itself.
  r = repbench("scan -g " + path("train.txt") + " --train-descriptors" + shards +
               " -m builtin:dct --out " + path("s1"));
  ASSERT_EQ(r.status, 0) << r.err;
  r = repbench("scan -g " + path("train.txt") + " -t " + path("train.txt") + " -m builtin:dct --out " +
               path("s2"));
  ASSERT_EQ(r.status, 0) << r.err;
  const json a = json::parse(slurp(path("s1/scan.json"))), b = json::parse(slurp(path("s2/scan.json")));
  EXPECT_EQ(a["pairs"], b["pairs"]);
  EXPECT_EQ(a["train"]["shards"], 3);

  // Missing, repeated, foreign shards: one line, status 2, nothing written.
  const std::string s0 = path("sh/images.shard-0-of-3.npy"), s1 = path("sh/images.shard-1-of-3.npy");
  expect_bad_input(repbench("extract merge " + s0 + " " + s1 + " --out " + path("x.npy")),
                   "shard 2/3", "is missing: 2 of 3 shard files given", {path("x.npy")});
  expect_bad_input(
      repbench("extract merge " + s0 + " " + s1 + " " + s1 + " --out " + path("x.npy")), s1,
      "given twice", {path("x.npy")});
  r = repbench(fmt::format("extract -m builtin:tiny --images {} --shard 2/3 --out {}",
                           path("train.txt"), path("other")));
  ASSERT_EQ(r.status, 0) << r.err;
  expect_bad_input(repbench("extract merge " + s0 + " " + s1 + " " +
                            path("other/images.shard-2-of-3.npy") + " --out " + path("x.npy")),
                   path("other/images.shard-2-of-3.npy"), "the model", {path("x.npy")});
  expect_bad_input(repbench("scan -g " + path("train.txt") + " --train-descriptors " + s0 + " " +
                            s1 + " -m builtin:dct --out " + path("s3")),
                   "shard 2/3", "is missing: 2 of 3 shard files given", {path("s3")});
  // Shards of another decoding mode (--fast-decode) are not merged or scanned with full ones.
  r = repbench(fmt::format("extract -m builtin:dct --images {} --shard 2/3 --fast-decode --out {}",
                           path("train.txt"), path("fast")));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(slurp(path("fast/images.shard-2-of-3.shard.json")))["decoding"],
            "reduced-jpeg");
  EXPECT_EQ(json::parse(slurp(path("sh/images.shard-2-of-3.shard.json")))["decoding"], "full");
  expect_bad_input(repbench("extract merge " + s0 + " " + s1 + " " +
                            path("fast/images.shard-2-of-3.npy") + " --out " + path("x.npy")),
                   path("fast/images.shard-2-of-3.npy"), "the decoding", {path("x.npy")});
  expect_bad_input(repbench("scan -g " + path("train.txt") + " --train-descriptors" + shards +
                            " -m builtin:dct --fast-decode --out " + path("s3")),
                   "shard",
                   "descriptors made with full decoding, but this scan decodes with "
                   "reduced-jpeg",
                   {path("s3")});
  expect_bad_input(repbench("extract -m builtin:dct --images " + path("train.txt") +
                            " --shard 3/3 --out " + path("sh3")),
                   "--shard '3/3'", "need 0 <= I < N", {path("sh3")});
}

TEST_F(ScanTest, BadInputIsOneLineAndWritesNoRecord) {
  const std::vector<std::string> photos = pool();
  fs::create_directories(path("empty"));
  fs::create_directories(path("train"));
  for (size_t i = 0; i < 6; ++i)
    fs::copy_file(photos[i], path("train") + "/" + fs::path(photos[i]).filename().string());
  const std::string train = " -t " + path("train") + " -m builtin:tiny --out " + path("out");
  const std::vector<std::string> out = {path("out")};
  expect_bad_input(repbench("scan -g " + path("empty") + train), path("empty"), "no images", out);
  expect_bad_input(repbench("scan -g " + path("nowhere") + train), path("nowhere"),
                   "no such folder", out);
  expect_bad_input(repbench("scan -g " + path("train") + " -t " + path("empty") +
                            " -m builtin:tiny --out " + path("out")),
                   path("empty"), "no images", out);
  expect_bad_input(repbench("scan -g " + path("train") + train + " --threshold 1.5"), "--threshold",
                   "1.5 is outside [-1, 1]", out);
  expect_bad_input(repbench("scan -g " + path("train") + train + " --threshold 0.5,-2"),
                   "--threshold", "-2 is outside [-1, 1]", out);
  expect_bad_input(repbench("scan -g " + path("train") + train + " --dup-threshold 7"),
                   "--dup-threshold", "7 is outside [-1, 1]", out);
  expect_bad_input(repbench("scan -g " + path("train") + train + " --index kd"), "--index 'kd'",
                   "is not a FAISS index_factory string", out);
  // Only unreadable generations: named in the one line, no record.
  fs::create_directories(path("broken"));
  std::ofstream(path("broken/a.jpg")) << "not a jpeg";
  expect_bad_input(repbench("scan -g " + path("broken") + train), path("broken/a.jpg"),
                   "none of the 1 generated images could be read", out);

  // Unreadable images among readable ones: named, skipped, counted; the scan goes on.
  fs::create_directories(path("gen"));
  fs::copy_file(photos[10], path("gen/b.jpg"));
  std::ofstream(path("gen/c.png")) << "truncated";
  Run r = repbench("scan -g " + path("gen") + train);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("skipped " + path("gen/c.png")), std::string::npos) << r.out;
  json rec = json::parse(slurp(path("out/scan.json")));
  // The record envelope (records/record_envelope.h): schema, the run's context, the timings of the
  // search and of the whole run; the search block holds no timing.
  EXPECT_EQ(rec["schema"], records::kScanSchema);
  EXPECT_EQ(rec["kind"], "replication-scan");
  for (const char* key : {"repbench", "git_commit", "libtorch", "opencv", "faiss", "compiler",
                          "date", "host"})
    EXPECT_TRUE(rec["context"][key].is_string()) << key;
  EXPECT_EQ(rec["context"]["omp_wait_policy"], "passive");  // ctest's, kept by the binary
  for (const char* key : {"build_seconds", "tune_seconds", "search_seconds", "total_seconds"})
    EXPECT_TRUE(rec["timings"][key].is_number()) << key;
  EXPECT_GE(rec["timings"]["total_seconds"].get<double>(),
            rec["timings"]["search_seconds"].get<double>());
  for (const char* key : {"created", "repbench_version", "git_commit", "seconds"})
    EXPECT_FALSE(rec.contains(key)) << key;
  EXPECT_FALSE(rec["search"].contains("search_seconds"));
  EXPECT_EQ(rec["generated"]["count"], 1);
  EXPECT_EQ(rec["generated"]["listed"], 2);
  ASSERT_EQ(rec["generated"]["skipped"].size(), 1u);
  EXPECT_EQ(rec["generated"]["skipped"][0]["path"], path("gen/c.png"));

  // The training set scanned against itself: all 1.0 is a valid result, said plainly.
  r = repbench("scan -g " + path("train") + train);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("valid result"), std::string::npos) << r.out;
  rec = json::parse(slurp(path("out/scan.json")));
  EXPECT_TRUE(rec["identical_sets"].get<bool>());
  for (const auto& pair : rec["pairs"]) {
    EXPECT_NEAR(pair["score"].get<double>(), 1.0, 1e-5);
    EXPECT_EQ(pair["generated"], pair["train"]);
  }
  EXPECT_DOUBLE_EQ(rec["above"][0]["fraction"].get<double>(), 1.0);
}

// ---------------------------------------------------------------------------------------------
// Search, baseline, duplicates (descriptors in memory)

// Descriptors shaped like real ones: a mixture of clusters with noise, L2-normalised. Returns
// [n, d]; row i belongs to cluster i % clusters.
FloatArray clustered(int64_t n, int64_t d, int64_t clusters, float noise, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0, 1);
  std::vector<float> centres(clusters * d);
  for (auto& c : centres) c = g(rng);
  FloatArray a;
  a.shape = {n, d};
  a.data.resize(n * d);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j)
      a.data[i * d + j] = centres[(i % clusters) * d + j] + noise * g(rng);
  l2_normalize_rows(a);
  return a;
}

TEST(ScanIndexTest, ApproximateIndexesReachRecallOfExactSearch) {
  const FloatArray train = clustered(20000, 64, 200, 0.8f, 1);
  const FloatArray queries = clustered(1000, 64, 200, 0.8f, 2);
  const metrics::TopKResult exact = exact_search(train, false, queries.data.data(), 1000, 1, 0);
  for (IndexKind kind : {IndexKind::kIvf, IndexKind::kHnsw}) {
    IndexOptions o;
    o.kind = kind;
    o.recall_sample = 400;
    SearchOutcome r = search_train(train, queries, false, 5, o);
    EXPECT_EQ(r.method, kind == IndexKind::kIvf ? "ivf-flat" : "hnsw");
    ASSERT_TRUE(r.recall_at_1.has_value());
    EXPECT_EQ(r.recall_sample, 200);
    // Recall over all queries (not only the sample the index reported on).
    metrics::TopKResult top1;
    top1.nq = 1000;
    top1.k = 1;
    for (int64_t q = 0; q < 1000; ++q) {
      top1.ids.push_back(r.topk.ids[q * 5]);
      top1.scores.push_back(r.topk.scores[q * 5]);
    }
    const double all = recall_at_1(top1, exact);
    EXPECT_GE(all, 0.95) << r.method << " " << r.params.dump();
    EXPECT_NEAR(*r.recall_at_1, all, 0.05) << r.method;
    // Not a disguised exhaustive search: IVF probes a fraction of its lists.
    if (kind == IndexKind::kIvf) {
      EXPECT_LT(r.params["nprobe"].get<int>(), r.params["nlist"].get<int>());
    }
  }
  // auto: exact up to exact_max; the record says so and has no recall.
  IndexOptions o;
  SearchOutcome r = search_train(train, queries, false, 5, o);
  EXPECT_EQ(r.method, "exact");
  EXPECT_FALSE(r.recall_at_1.has_value());
  EXPECT_EQ(r.topk.ids, exact_search(train, false, queries.data.data(), 1000, 5, 0).ids);
  o.exact_max = 1000;
  EXPECT_EQ(search_train(train, queries, false, 1, o).method, "hnsw");
  o.hnsw_max = 10000;
  EXPECT_EQ(search_train(train, queries, false, 1, o).method, "ivf-flat");
}

// The list-by-list IVF search computes the same dot products as exact search: probing every list
// it must return exactly the exact top-k (ids; scores to float rounding of the two sgemm
// shapes), including queries whose k exceeds a list and duplicate rows (ties by lower id).
TEST(ScanIndexTest, IvfProbingEveryListIsExactSearch) {
  FloatArray train = clustered(3000, 32, 30, 0.8f, 5);
  // Rows 10 and 11 identical: a tie the search must order by id.
  std::copy_n(train.data.data() + 10 * 32, 32, train.data.data() + 11 * 32);
  const FloatArray queries = clustered(700, 32, 30, 0.8f, 6);
  IndexOptions o;
  o.kind = IndexKind::kIvf;
  o.ivf_nlist = 16;
  std::unique_ptr<TrainIndex> index = build_index(train, false, o);
  while (index->widen()) {
  }
  EXPECT_EQ(index->params()["nprobe"], 16);
  for (int64_t k : {1, 7}) {
    std::vector<float> q(queries.data.begin(), queries.data.end());
    std::copy_n(train.data.data() + 10 * 32, 32, q.data());  // query 0 = the duplicated row
    const metrics::TopKResult got = index->search(q.data(), 700, k);
    const metrics::TopKResult want = exact_search(train, false, q.data(), 700, k, 0);
    ASSERT_EQ(got.ids.size(), want.ids.size());
    int64_t same = 0;
    for (size_t i = 0; i < got.ids.size(); ++i) {
      EXPECT_NEAR(got.scores[i], want.scores[i], 1e-5) << i;
      same += got.ids[i] == want.ids[i];
    }
    // Ids may differ only where two scores tie to float rounding.
    EXPECT_GE(same, static_cast<int64_t>(got.ids.size()) - 2) << "k " << k;
    EXPECT_EQ(got.ids[0], 10);
    if (k > 1) {
      EXPECT_EQ(got.ids[1], 11);
    }
  }
}

TEST(ScanIndexTest, RecallCountsTiesAsHits) {
  metrics::TopKResult a, e;
  a.nq = e.nq = 3;
  a.k = e.k = 1;
  a.ids = {0, 7, 9};
  a.scores = {0.9f, 0.8f, 0.5f};
  e.ids = {0, 3, 4};
  e.scores = {0.9f, 0.8f, 0.7f};  // 7 ties with 3: as good an answer; 9 is worse than 4
  EXPECT_NEAR(recall_at_1(a, e), 2.0 / 3, 1e-12);
}

TEST(ScanBaselineTest, ExcludesSelfMatches) {
  FloatArray train = clustered(300, 32, 30, 0.5f, 3);
  // Row 10 is an exact duplicate of row 200: its nearest other image is that copy, at 1.0.
  std::copy(train.row(200), train.row(200) + 32, train.data.begin() + 10 * 32);
  for (IndexKind kind : {IndexKind::kExact, IndexKind::kHnsw}) {
    IndexOptions o;
    o.kind = kind;
    const auto index = build_index(train, false, o);
    const Baseline b = self_similarity_baseline(*index, train, 1000, 0);
    ASSERT_EQ(b.rows.size(), 300u);
    for (size_t i = 0; i < b.rows.size(); ++i) {
      EXPECT_NE(b.nearest[i], b.rows[i]) << "row " << b.rows[i] << " matched itself";
      if (b.rows[i] == 10 || b.rows[i] == 200) {
        EXPECT_EQ(b.nearest[i], b.rows[i] == 10 ? 200 : 10);
        EXPECT_NEAR(b.top1[i], 1.0, 1e-5);
      } else {
        EXPECT_LT(b.top1[i], 0.999);  // no other row has a copy: a self-match would give 1.0
      }
    }
    const Baseline s = self_similarity_baseline(*index, train, 50, 7);
    EXPECT_EQ(s.rows.size(), 50u);
    EXPECT_TRUE(std::is_sorted(s.rows.begin(), s.rows.end()));
    EXPECT_EQ(self_similarity_baseline(*index, train, 50, 7).rows, s.rows);  // seeded
  }
}

TEST(ScanDuplicatesTest, CountsOtherTrainingImagesAboveThreshold) {
  FloatArray train = clustered(500, 32, 50, 1.0f, 4);
  // Row 0 gets three near-copies (cosine > 0.99) at rows 100, 200, 300; row 1 an exact copy.
  std::mt19937_64 rng(5);
  std::normal_distribution<float> g(0, 0.01f);
  for (int64_t r : {100, 200, 300})
    for (int64_t j = 0; j < 32; ++j) train.data[r * 32 + j] = train.data[j] + g(rng);
  std::copy(train.row(1), train.row(1) + 32, train.data.begin() + 400 * 32);
  l2_normalize_rows(train);
  for (IndexKind kind : {IndexKind::kExact, IndexKind::kHnsw}) {
    IndexOptions o;
    o.kind = kind;
    const auto index = build_index(train, false, o);
    const std::vector<int64_t> c =
        count_duplicates(train, false, {0, 1, 2, 100}, 0.95, *index, 100, 0);
    EXPECT_EQ(c, (std::vector<int64_t>{3, 1, 0, 3})) << index->method();
    // -1 counts everything but the image itself; the approximate index stops at its cap.
    const std::vector<int64_t> all = count_duplicates(train, false, {0}, -1, *index, 50, 0);
    EXPECT_EQ(all[0], kind == IndexKind::kExact ? 499 : 50);
  }
}

// The seeded samples a scan draws, pinned: they come from core/rng, so these rows are the same
// on every standard library (scan.json schema 3; schema 2 drew them with std::shuffle).
TEST(ScanSamplesTest, BaselineDuplicateAndRecallSamplesArePinned) {
  EXPECT_EQ(baseline_rows(1000, 8, 0),
            (std::vector<int64_t>{98, 119, 280, 290, 338, 411, 570, 958}));
  EXPECT_EQ(baseline_rows(1000, 8, 7),
            (std::vector<int64_t>{14, 183, 246, 247, 399, 488, 570, 964}));
  EXPECT_EQ(baseline_rows(5, 8, 7), (std::vector<int64_t>{0, 1, 2, 3, 4}));  // all of a small set
  EXPECT_TRUE(baseline_rows(1, 8, 7).empty());
  metrics::TopKResult topk;
  topk.nq = 12;
  topk.k = 1;
  for (int64_t i = 0; i < 12; ++i) {
    topk.ids.push_back(100 + i);
    topk.scores.push_back(i < 2 ? 0.9f : 0.1f);  // two above the threshold, always counted
  }
  ScanParams p;
  p.thresholds = {0.5};
  p.duplicate_sample = 3;
  p.seed = 7;
  EXPECT_EQ(duplicate_rows(topk, p), (std::vector<int64_t>{100, 101, 105, 107, 111}));
  IndexOptions o;
  o.recall_sample = 6;
  o.seed = 7;
  const RecallSample r = recall_sample(100, o);
  EXPECT_EQ(r.tune, (std::vector<int64_t>{59, 62, 38}));
  EXPECT_EQ(r.report, (std::vector<int64_t>{43, 7, 51}));
}

TEST(ScanPiecesTest, AboveCountsAndThresholdParsing) {
  const auto a = count_above({0.9f, 0.5f, 0.2f, 0.7f}, {0.1f, 0.6f}, {0.5, 0.6});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].generations, 2);  // strictly above: 0.5 is not
  EXPECT_DOUBLE_EQ(a[0].fraction, 0.5);
  EXPECT_EQ(a[0].baseline, 1);
  EXPECT_DOUBLE_EQ(a[0].baseline_fraction, 0.5);
  EXPECT_EQ(a[1].generations, 2);
  EXPECT_EQ(a[1].baseline, 0);
  EXPECT_EQ(parse_thresholds({"0.5,0.7", "-1"}), (std::vector<double>{0.5, 0.7, -1}));
  EXPECT_ERROR_CONTAINS(parse_thresholds({"0.5,"}), "--threshold '0.5,' is not a number");
  EXPECT_ERROR_CONTAINS(parse_thresholds({"half"}), "--threshold 'half' is not a number");
  ScanParams p;
  p.thresholds = {1.5};
  EXPECT_ERROR_CONTAINS(p.Check(), "--threshold 1.5 is outside [-1, 1]");
  p.thresholds = {std::nan("")};
  EXPECT_ERROR_CONTAINS(p.Check(), "--threshold nan is outside [-1, 1]");
  p.thresholds = {-1, 1};
  EXPECT_NO_THROW(p.Check());
}

TEST(ScanShardsTest, RangesTileTheList) {
  for (int64_t n : {1, 7, 10, 1000})
    for (int64_t count : {1, 2, 3, 7}) {
      if (count > n) continue;
      int64_t next = 0;
      for (int64_t i = 0; i < count; ++i) {
        const descriptors::ShardRange r = descriptors::shard_range(n, i, count);
        EXPECT_EQ(r.begin, next);
        EXPECT_GT(r.end, r.begin);
        EXPECT_LE(r.end - r.begin, n / count + 1);
        next = r.end;
      }
      EXPECT_EQ(next, n);
    }
  EXPECT_EQ(descriptors::parse_shard("2/8").index, 2);
  EXPECT_EQ(descriptors::parse_shard("2/8").count, 8);
  for (const char* bad : {"8/8", "-1/4", "1/0"})
    EXPECT_ERROR_CONTAINS(descriptors::parse_shard(bad), std::string("--shard '") + bad + "': need 0 <= I < N");
  for (const char* bad : {"1", "a/b", "1/4x"})
    EXPECT_ERROR_CONTAINS(descriptors::parse_shard(bad), std::string("--shard '") + bad + "' is not I/N");
}

TEST_F(ScanTest, ListFilesResolveRelativeToTheirFolder) {
  fs::create_directories(path("imgs/sub"));
  cv::imwrite(path("imgs/sub/a.png"), cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)));
  std::ofstream(path("imgs/list.txt")) << "# generations\n  sub/a.png  \n\n" << path("imgs/sub/a.png") << "\n";
  const imaging::ImageList s = imaging::read_image_list(path("imgs/list.txt"));
  EXPECT_TRUE(s.is_list);
  EXPECT_EQ(s.paths, (std::vector<std::string>{path("imgs/sub/a.png"), path("imgs/sub/a.png")}));
  const imaging::ImageList f = imaging::read_image_list(path("imgs"));
  EXPECT_FALSE(f.is_list);
  EXPECT_EQ(f.paths, (std::vector<std::string>{path("imgs/sub/a.png")}));
  fs::create_directories(path("empty"));
  EXPECT_ERROR_CONTAINS(imaging::read_image_list(path("empty")), path("empty") + ": no images");
  std::ofstream(path("empty.txt")) << "# nothing\n";
  EXPECT_ERROR_CONTAINS(imaging::read_image_list(path("empty.txt")),
                        path("empty.txt") + ": the list file names no images");
  EXPECT_ERROR_CONTAINS(imaging::read_image_list(path("missing")),
                        path("missing") + ": no such folder or list file");
}

}  // namespace
