// Tests of the scan at scale: training descriptors streamed from disk in blocks (equal, ids and
// scores, to the in-memory exact scan; memory bounded by the block), descriptors on both sides,
// and the split scan of a job array (partials and their merge).

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/descriptors.h"
#include "core/error.h"
#include "core/npy.h"
#include "demo/demo_pool.h"
#include "descriptors/shards.h"
#include "metrics/topk.h"
#include "scan/descriptor_stream.h"
#include "scan/duplicate_sketch.h"
#include "scan/index.h"
#include "scan/scan.h"
#include "scan/stream_index.h"
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

class ScanScaleTest : public test_support::CommandTest {
 protected:
  ScanScaleTest() : CommandTest("scan_scale") {}
};

// A training set with groups of near-duplicates (so that duplicate counts are not all zero) and
// generations of which every third is a noisy copy of a training row, the rest unrelated.
struct Data {
  FloatArray train, generated;
};

Data make_data(int64_t n, int64_t ng, std::vector<int64_t> row_shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  int64_t row = 1;
  for (int64_t d : row_shape) row *= d;
  Data d;
  d.train.shape = {n};
  d.train.shape.insert(d.train.shape.end(), row_shape.begin(), row_shape.end());
  d.train.data.resize(size_t(n * row));
  for (int64_t i = 0; i < n; ++i) {
    float* r = d.train.data.data() + i * row;
    if (i % 10 >= 7 && i > 0) {
      // Rows 7, 8, 9 of every ten are near-duplicates of the row before them.
      for (int64_t j = 0; j < row; ++j) r[j] = r[j - row] + 0.02f * normal(rng);
    } else {
      for (int64_t j = 0; j < row; ++j) r[j] = normal(rng);
    }
  }
  d.generated.shape = d.train.shape;
  d.generated.shape[0] = ng;
  d.generated.data.resize(size_t(ng * row));
  std::uniform_int_distribution<int64_t> pick(0, n - 1);
  for (int64_t i = 0; i < ng; ++i) {
    float* r = d.generated.data.data() + i * row;
    if (i % 3 == 0) {
      const float* src = d.train.data.data() + pick(rng) * row;
      for (int64_t j = 0; j < row; ++j) r[j] = src[j] + 0.2f * normal(rng);
    } else {
      for (int64_t j = 0; j < row; ++j) r[j] = normal(rng);
    }
  }
  return d;
}

FloatArray rows_of(const FloatArray& a, int64_t begin, int64_t end) {
  FloatArray s;
  s.shape = a.shape;
  s.shape[0] = end - begin;
  s.data.assign(a.row(begin), a.row(begin) + (end - begin) * a.row_size());
  return s;
}

// Writes `a` as plain .npy files cut at `cuts` (row counts), as float32 or float16; returns the
// paths, and through `as_read` the rows as a reader sees them (float16 rounded).
std::vector<std::string> write_pieces(const FloatArray& a, const std::vector<int64_t>& cuts,
                                      NpyDType dtype, const std::string& stem,
                                      FloatArray* as_read) {
  std::vector<std::string> paths;
  int64_t begin = 0;
  as_read->shape = a.shape;
  as_read->data.clear();
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const int64_t end = i < cuts.size() ? begin + cuts[i] : a.rows();
    const FloatArray piece = rows_of(a, begin, end);
    const std::string p = fmt::format("{}-{}.npy", stem, i);
    write_npy(p, piece.data.data(), piece.shape, dtype);
    const FloatArray back = read_npy_float(p);
    as_read->data.insert(as_read->data.end(), back.data.begin(), back.data.end());
    paths.push_back(p);
    begin = end;
  }
  return paths;
}

// 400 training rows in two float16 files (stem-0.npy, stem-1.npy) and 30 generations (float32,
// at `generated`): the scan options that name them.
std::string descriptor_inputs(const std::string& train_stem, const std::string& generated) {
  const Data d = make_data(400, 30, {16}, 9);
  FloatArray unused;
  const std::vector<std::string> train =
      write_pieces(d.train, {150}, NpyDType::kFloat16, train_stem, &unused);
  write_npy(generated, d.generated.data.data(), d.generated.shape);
  return " --generated-descriptors " + generated + " --train-descriptors " + train[0] + " " +
         train[1];
}

std::vector<std::string> index_names(int64_t n) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < n; ++i) names.push_back(std::to_string(i));
  return names;
}

ScanParams exact_params(bool split = false) {
  ScanParams p;
  p.k = 4;
  // Split-product scores of 3 tokens are at most about 1/3 for these data.
  p.thresholds = split ? std::vector<double>{0.1, 0.3} : std::vector<double>{0.5, 0.9};
  p.dup_threshold = split ? 0.3 : 0.95;
  p.baseline_sample = 150;
  p.seed = 7;
  p.index.kind = IndexKind::kExact;
  return p;
}

// Every field of the two records but the timings (and the stream's own counters).
void expect_same_scan(const json& streamed, const json& in_memory) {
  for (const char* key : {"similarity", "k", "thresholds", "dup_threshold", "generations_top1",
                          "baseline", "above", "pairs", "duplicates", "identical_sets", "notes"})
    EXPECT_EQ(streamed[key], in_memory[key]) << key;
  EXPECT_EQ(streamed["search"]["method"], in_memory["search"]["method"]);
  EXPECT_EQ(streamed["search"]["params"], in_memory["search"]["params"]);
  EXPECT_EQ(streamed["search"]["train_size"], in_memory["search"]["train_size"]);
}

// 20000 training rows in files cut at `cuts` (row counts), read in blocks of 8192 rows cut at
// file boundaries: the sgemm tiles differ from the in-memory search's, the results must not.
void check_streamed_equals_in_memory(const std::string& stem, std::vector<int64_t> row_shape,
                                     NpyDType dtype, std::vector<int64_t> cuts = {8192, 8192},
                                     int64_t blocks = 3, int64_t duplicate_sample = 1000) {
  const Data d = make_data(20000, 90, row_shape, 11);
  FloatArray train;
  const std::vector<std::string> files = write_pieces(d.train, cuts, dtype, stem, &train);
  FloatArray g = d.generated;
  l2_normalize_rows(g);
  l2_normalize_rows(train);
  const bool split = row_shape.size() == 2;
  ScanParams params = exact_params(split);
  params.duplicate_sample = duplicate_sample;
  // With a sample: a lowest threshold that the near-copies pass and the others do not.
  if (duplicate_sample < 90 && !split) params.thresholds = {0.8, 0.9};
  const std::vector<std::string> gp = index_names(g.rows());
  metrics::TopKResult mem_matches, stream_matches;
  const json mem = scan_descriptors(g, gp, train, index_names(train.rows()), split, params,
                                    &mem_matches);
  const DescriptorStream stream = DescriptorStream::open(files);
  StreamOptions so;
  so.block_rows = 5000;  // rounded up to 8192
  const json str = scan_streamed(g, gp, stream, split, params, so, &stream_matches);
  expect_same_scan(str, mem);
  EXPECT_EQ(stream_matches.ids, mem_matches.ids);
  EXPECT_EQ(stream_matches.scores, mem_matches.scores);
  // The data are what the test means them to be: copies found, duplicates counted.
  EXPECT_GT(mem["above"][1]["generations"].get<int64_t>(), 20);
  int64_t with_dups = 0, counted_below = 0;
  std::set<std::string> below_counted;
  for (const auto& p : mem["pairs"]) {
    // Every generation above the lowest threshold has its match's count; of the others, those
    // sampled (and any whose match is another one's).
    if (p["score"].get<double>() > params.thresholds[0]) {
      ASSERT_TRUE(p["train_duplicates"].is_number()) << p;
    } else if (p["train_duplicates"].is_number()) {
      ++counted_below;
      below_counted.insert(p["train"].get<std::string>());
    }
    with_dups += p["train_duplicates"].is_number() && p["train_duplicates"].get<int64_t>() > 0;
  }
  EXPECT_GT(with_dups, 5);
  if (duplicate_sample < 90) {
    EXPECT_GT(counted_below, 0);
    EXPECT_LE(int64_t(below_counted.size()), duplicate_sample);
    EXPECT_EQ(mem["duplicates"]["sample"], duplicate_sample);
  } else {
    for (const auto& p : mem["pairs"]) EXPECT_TRUE(p["train_duplicates"].is_number()) << p;
  }
  EXPECT_EQ(str["stream"]["block_rows"], 8192);
  EXPECT_EQ(str["stream"]["blocks"], 2 * blocks);
  EXPECT_EQ(str["stream"]["duplicate_sketch"], nullptr);  // 24 values a row: too short for 64

  if (split) return;  // the sketch's bound is for inner products
  // Duplicates counted from a sketch of half the dimensions: one pass over the files, the same
  // counts; a sketch of 2 dimensions prunes too little and the second pass takes over.
  for (const int64_t dims : {12, 2}) {
    const DescriptorStream again = DescriptorStream::open(files);
    so.sketch_dims = dims;
    so.scratch_dir = stem + "-scratch";
    const json sk = scan_streamed(g, gp, again, split, params, so);
    expect_same_scan(sk, mem);
    const bool used = dims == 12;
    EXPECT_EQ(sk["stream"]["duplicate_sketch"]["used"], used) << dims;
    EXPECT_EQ(sk["stream"]["duplicate_sketch"]["bytes"], 20000 * (2 * dims + 4));
    EXPECT_EQ(sk["stream"]["passes"], used ? 1 : 2);
    EXPECT_EQ(sk["stream"]["blocks"], (used ? 1 : 2) * blocks);
    if (used) {
      EXPECT_LT(sk["stream"]["duplicate_sketch"]["rows_read"].get<int64_t>(), 20000 / 10);
      EXPECT_GE(sk["stream"]["duplicate_sketch"]["candidates"].get<int64_t>(),
                mem["duplicates"]["counted"].get<int64_t>());
    }
    // The scratch file has no name: nothing is left in the folder.
    EXPECT_TRUE(fs::is_empty(so.scratch_dir));
  }
}

TEST_F(ScanScaleTest, StreamedScanEqualsInMemoryFloat32) {
  check_streamed_equals_in_memory(path("t32"), {24}, NpyDType::kFloat32);
}

TEST_F(ScanScaleTest, StreamedScanEqualsInMemoryFloat16) {
  check_streamed_equals_in_memory(path("t16"), {24}, NpyDType::kFloat16);
}

TEST_F(ScanScaleTest, StreamedScanEqualsInMemorySplitProduct) {
  check_streamed_equals_in_memory(path("tsp"), {3, 8}, NpyDType::kFloat16);
}

// Duplicates counted for the matches above the lowest threshold and 6 sampled others: the
// streamed scan picks the same ones.
TEST_F(ScanScaleTest, StreamedScanEqualsInMemoryWithASampleOfDuplicateCounts) {
  check_streamed_equals_in_memory(path("tds"), {24}, NpyDType::kFloat32, {8192, 8192}, 3, 6);
}

TEST_F(ScanScaleTest, StreamedScanEqualsInMemoryWhereverTheFilesAreCut) {
  // Files of 250, 1, 9000 and 10749 rows: blocks [0, 250), [250, 251), [251, 8192),
  // [8192, 9251), [9251, 16384), [16384, 20000).
  check_streamed_equals_in_memory(path("tcut"), {24}, NpyDType::kFloat32, {250, 1, 9000}, 6);
}

// Duplicate counts from the sketch where they are hard to decide: every training row of a group
// lies at a cosine drawn from [0.968, 0.985] from the group's centre, so pairs of them straddle
// the 0.95 threshold closely; the counts must equal the in-memory scan's, pair for pair.
TEST_F(ScanScaleTest, SketchDuplicateCountsEqualInMemoryNearTheThreshold) {
  const int64_t n = 20000, d = 64, ng = 200;
  std::mt19937_64 rng(5);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> cosine(0.968f, 0.985f);
  auto unit = [&](float* v) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += double(v[j]) * v[j];
    for (int64_t j = 0; j < d; ++j) v[j] = float(v[j] / std::sqrt(s));
  };
  FloatArray train{std::vector<int64_t>{n, d}, std::vector<float>(size_t(n * d))};
  std::vector<float> centre(d), u(d);
  for (int64_t i = 0; i < n; ++i) {
    float* r = train.data.data() + i * d;
    if (i % 8 == 0) {
      for (float& v : centre) v = normal(rng);
      unit(centre.data());
    }
    // centre * c + sqrt(1 - c^2) * (a unit vector orthogonal to it)
    for (float& v : u) v = normal(rng);
    double dot = 0;
    for (int64_t j = 0; j < d; ++j) dot += double(u[j]) * centre[j];
    for (int64_t j = 0; j < d; ++j) u[j] -= float(dot) * centre[j];
    unit(u.data());
    const float c = cosine(rng);
    for (int64_t j = 0; j < d; ++j) r[j] = c * centre[j] + std::sqrt(1 - c * c) * u[j];
  }
  FloatArray g{std::vector<int64_t>{ng, d}, std::vector<float>(size_t(ng * d))};
  for (int64_t i = 0; i < ng; ++i)
    for (int64_t j = 0; j < d; ++j) g.data[size_t(i * d + j)] = train.row(i * 97 % n)[j] + 0.05f * normal(rng);
  l2_normalize_rows(g);
  FloatArray as_read;
  const std::vector<std::string> files =
      write_pieces(train, {}, NpyDType::kFloat32, path("near"), &as_read);
  l2_normalize_rows(as_read);
  ScanParams params = exact_params();
  params.duplicate_sample = -1;
  const std::vector<std::string> gp = index_names(ng);
  const json mem = scan_descriptors(g, gp, as_read, index_names(n), false, params);
  const DescriptorStream stream = DescriptorStream::open(files);
  StreamOptions so;
  so.sketch_dims = 24;
  so.scratch_dir = path("near-scratch");
  const json sk = scan_streamed(g, gp, stream, false, params, so);
  ASSERT_EQ(sk["stream"]["duplicate_sketch"]["used"], true);
  EXPECT_EQ(sk["stream"]["passes"], 1);
  expect_same_scan(sk, mem);
  // The data are what the test means them to be: counts between none and the whole group.
  std::set<int64_t> counts;
  for (const auto& p : mem["pairs"]) counts.insert(p["train_duplicates"].get<int64_t>());
  EXPECT_GE(counts.size(), 4u);
  EXPECT_LT(sk["stream"]["duplicate_sketch"]["rows_read"].get<int64_t>(), n / 4);

  // The sketch alone, against a brute-force count: survivors read 7 rows at a time or all at
  // once give the same counts, and a cap below the survivors gives none.
  DuplicateSketch sketch(d, 24, path("near-scratch"));
  for (int64_t b0 = 0; b0 < n; b0 += 5000) sketch.add(rows_of(as_read, b0, std::min(n, b0 + 5000)));
  std::vector<int64_t> self;
  for (int64_t i = 0; i < 300; ++i) self.push_back(i * 61 % n);
  FloatArray q;
  q.shape = {int64_t(self.size()), d};
  for (int64_t r : self) q.data.insert(q.data.end(), as_read.row(r), as_read.row(r) + d);
  std::vector<int64_t> brute(self.size(), 0);
  for (size_t i = 0; i < self.size(); ++i)
    for (int64_t r = 0; r < n; ++r)
      brute[i] += r != self[i] && reference_score(q.row(int64_t(i)), as_read.row(r), 1, d) > 0.95f;
  const auto small = sketch.count(stream, q, self, 0.95, n, 7, 0);
  const auto whole = sketch.count(stream, q, self, 0.95, n, n, 0);
  ASSERT_TRUE(small && whole);
  EXPECT_EQ(small->counts, brute);
  EXPECT_EQ(whole->counts, brute);
  EXPECT_GT(*std::max_element(brute.begin(), brute.end()), 0);
  EXPECT_FALSE(sketch.count(stream, q, self, 0.95, small->rows_read - 1, n, 0));
}

TEST_F(ScanScaleTest, StreamedScanHoldsTwoBlocksOfTrainingRows) {
  const Data d = make_data(100000, 30, {32}, 3);
  FloatArray train;
  const std::vector<std::string> files = write_pieces(d.train, {}, NpyDType::kFloat32, path("t"), &train);
  FloatArray g = d.generated;
  l2_normalize_rows(g);
  const DescriptorStream stream = DescriptorStream::open(files);
  StreamOptions so;
  so.block_rows = 8192;
  const json rec = scan_streamed(g, index_names(g.rows()), stream, false, exact_params(), so);
  // Two passes of ceil(100000 / 8192) blocks, never more than two blocks of rows (and their raw
  // bytes) held, the one searched and the one read meanwhile: far less than the 100000 x 32 x 4
  // bytes of the whole set.
  EXPECT_EQ(stream.stats().blocks, 2 * 13);
  EXPECT_EQ(stream.stats().peak_rows, 8192);
  EXPECT_LE(stream.stats().peak_bytes, 2 * 2 * 8192 * 32 * 4);
  EXPECT_LT(stream.stats().peak_bytes, 100000 * 32 * 4 / 3);
  EXPECT_EQ(rec["stream"]["peak_rows"], 8192);
  EXPECT_EQ(rec["search"]["train_size"], 100000);
}

TEST_F(ScanScaleTest, StreamSkipsRowsOfFailedImagesLikeTheInMemoryScan) {
  const Data d = make_data(300, 40, {16}, 5);
  descriptors::ShardedDescriptors s;
  s.features = d.train;
  for (int64_t i = 0; i < 300; ++i) s.paths.push_back(fmt::format("img/{:04d}.png", i));
  for (int64_t bad : {0, 41, 42, 150, 299}) {
    s.failed.push_back({bad, s.paths[bad], "cannot decode"});
    std::fill(s.features.data.begin() + bad * 16, s.features.data.begin() + (bad + 1) * 16, 0.0f);
  }
  s.model = "builtin:test";
  s.source = "list.txt";
  s.list_sha256 = descriptors::path_list_sha256(s.paths);
  s.total = 300;
  s.end = 300;
  descriptors::write_merged(s, path("merged.npy"));

  FloatArray kept;
  kept.shape = {300 - 5, 16};
  std::vector<std::string> kept_paths;
  for (int64_t i = 0; i < 300; ++i) {
    if (i == 0 || i == 41 || i == 42 || i == 150 || i == 299) continue;
    kept.data.insert(kept.data.end(), d.train.row(i), d.train.row(i) + 16);
    kept_paths.push_back(s.paths[i]);
  }
  l2_normalize_rows(kept);
  FloatArray g = d.generated;
  l2_normalize_rows(g);
  const std::vector<std::string> gp = index_names(g.rows());
  const json mem = scan_descriptors(g, gp, kept, kept_paths, false, exact_params());
  const DescriptorStream stream = DescriptorStream::open({path("merged.npy")});
  EXPECT_EQ(stream.rows(), 295);
  EXPECT_EQ(stream.list_index(0), 1);
  EXPECT_EQ(stream.list_index(39), 40);
  EXPECT_EQ(stream.list_index(40), 43);
  StreamOptions so;
  so.block_rows = 41;
  expect_same_scan(scan_streamed(g, gp, stream, false, exact_params(), so), mem);
}

// ---------------------------------------------------------------------------------------------
// An approximate index over descriptors on disk (scan/stream_index.h): trained on the same
// sample, filled block by block, it gives the in-memory scan's results.

ScanParams approximate_params(const std::string& index, int64_t train_sample) {
  ScanParams p = exact_params();
  p.index.kind = parse_index_kind(index);
  if (p.index.kind == IndexKind::kFactory) p.index.factory = index;
  p.index.train_sample = train_sample;
  p.index.recall_sample = 60;
  p.duplicate_cap = 20;
  return p;
}

void check_streamed_index_equals_in_memory(const std::string& stem, NpyDType dtype) {
  // Files cut at 8192 rows, read in blocks of 8192: FAISS assigns rows to lists with sgemm
  // tiles of 4096 rows, cut alike in memory and streamed.
  const Data d = make_data(20000, 90, {24}, 11);
  FloatArray train;
  const std::vector<std::string> files = write_pieces(d.train, {8192, 8192}, dtype, stem, &train);
  FloatArray g = d.generated;
  l2_normalize_rows(g);
  l2_normalize_rows(train);
  const std::vector<std::string> gp = index_names(g.rows());
  // ivf: 512 lists, trained on 16 a list drawn as FAISS draws them; factory strings on a
  // sample of 4000 or 3000 rows, or (IVF16,PQ8x4's default) on the whole set; a transform in
  // front (OPQ's path: IndexPreTransform; PCA trains in seconds where OPQ takes minutes here).
  const std::vector<std::pair<std::string, int64_t>> configs{
      {"ivf", 0}, {"IVF16,Flat", 4000}, {"IVF16,PQ8x4", 0}, {"PCA16,IVF16,PQ8x4", 3000}};
  for (const auto& [index, sample] : configs) {
    SCOPED_TRACE(index);
    const ScanParams params = approximate_params(index, sample);
    metrics::TopKResult mem_matches, stream_matches;
    const json mem =
        scan_descriptors(g, gp, train, index_names(train.rows()), false, params, &mem_matches);
    const DescriptorStream stream = DescriptorStream::open(files);
    StreamOptions so;
    so.block_rows = 5000;  // rounded up to 8192
    const json str = scan_streamed_approximate(g, gp, stream, params, so, &stream_matches);
    expect_same_scan(str, mem);
    EXPECT_EQ(str["search"]["recall_at_1"], mem["search"]["recall_at_1"]);
    EXPECT_EQ(str["search"]["tuning"], mem["search"]["tuning"]);
    EXPECT_EQ(stream_matches.ids, mem_matches.ids);
    EXPECT_EQ(stream_matches.scores, mem_matches.scores);
    const int64_t want_sample = index == "ivf" ? 16 * 512 : sample > 0 ? sample : 20000;
    EXPECT_EQ(str["search"]["params"]["train_sample"], want_sample);
    EXPECT_EQ(str["duplicates"]["method"], "index");
    // One pass of 3 blocks; the sample, the baseline and the counted matches read row by row.
    EXPECT_EQ(str["stream"]["passes"], 1);
    EXPECT_EQ(stream.stats().blocks, 3);
    EXPECT_EQ(str["stream"]["rows_read_singly"],
              want_sample + 150 + str["duplicates"]["counted"].get<int64_t>());
    // The data are what the test means them to be: copies found, duplicates among neighbours
    // (with the exact scores of a flat index; PQ's approximate ones are lower).
    if (index == "ivf" || index == "IVF16,Flat") {
      EXPECT_GT(mem["above"][1]["generations"].get<int64_t>(), 20);
      int64_t with_dups = 0;
      for (const auto& p : mem["pairs"])
        with_dups += p["train_duplicates"].is_number() && p["train_duplicates"].get<int64_t>() > 0;
      EXPECT_GT(with_dups, 5);
      EXPECT_GE(str["search"]["recall_at_1"].get<double>(), 0.9);
    }
  }
}

TEST_F(ScanScaleTest, StreamedApproximateIndexEqualsInMemoryFloat32) {
  check_streamed_index_equals_in_memory(path("a32"), NpyDType::kFloat32);
}

TEST_F(ScanScaleTest, StreamedApproximateIndexEqualsInMemoryFloat16) {
  check_streamed_index_equals_in_memory(path("a16"), NpyDType::kFloat16);
}

// HNSW inserts in parallel (not deterministic, in memory or not): the streamed one is checked
// against exact search, and it trains on nothing.
TEST_F(ScanScaleTest, StreamedHnswReachesItsRecall) {
  const Data d = make_data(6000, 60, {16}, 12);
  FloatArray train;
  const std::vector<std::string> files =
      write_pieces(d.train, {}, NpyDType::kFloat16, path("h"), &train);
  FloatArray g = d.generated;
  l2_normalize_rows(g);
  l2_normalize_rows(train);
  const DescriptorStream stream = DescriptorStream::open(files);
  StreamOptions so;
  so.block_rows = 1;  // 8192: one block
  metrics::TopKResult m;
  const json rec = scan_streamed_approximate(g, index_names(g.rows()), stream,
                                             approximate_params("hnsw", 0), so, &m);
  EXPECT_EQ(rec["search"]["method"], "hnsw");
  EXPECT_EQ(rec["search"]["params"]["train_sample"], 0);
  EXPECT_GE(rec["search"]["recall_at_1"].get<double>(), 0.98);
  const metrics::TopKResult exact = exact_search(train, false, g.data.data(), g.rows(), 4, 0);
  int64_t same = 0;
  for (int64_t i = 0; i < g.rows(); ++i) same += m.ids[i * 4] == exact.ids[i * 4];
  EXPECT_GE(same, g.rows() - 2);
}

// IVF-PQ over 100000 rows: one pass of blocks, never more than two blocks of rows held, and
// only the training sample (and the baseline and counted matches) read row by row: the float
// matrix (100000 x 32 x 4 bytes) is never in memory.
TEST_F(ScanScaleTest, StreamedIvfPqHoldsTwoBlocksOfTrainingRows) {
  const Data d = make_data(100000, 30, {32}, 3);
  FloatArray unused;
  const std::vector<std::string> files =
      write_pieces(d.train, {}, NpyDType::kFloat32, path("t"), &unused);
  FloatArray g = d.generated;
  l2_normalize_rows(g);
  const DescriptorStream stream = DescriptorStream::open(files);
  StreamOptions so;
  so.block_rows = 8192;
  const json rec = scan_streamed_approximate(g, index_names(g.rows()), stream,
                                             approximate_params("IVF64,PQ8x4", 5000), so);
  EXPECT_EQ(stream.stats().blocks, 13);
  EXPECT_EQ(stream.stats().peak_rows, 8192);
  EXPECT_LE(stream.stats().peak_bytes, 2 * 2 * 8192 * 32 * 4);
  EXPECT_EQ(rec["stream"]["passes"], 1);
  EXPECT_EQ(rec["stream"]["rows_read_singly"],
            5000 + 150 + rec["duplicates"]["counted"].get<int64_t>());
  EXPECT_LT(rec["stream"]["rows_read_singly"].get<int64_t>(), 100000 / 10);
  EXPECT_EQ(rec["search"]["params"]["train_sample"], 5000);
  EXPECT_EQ(rec["search"]["params"]["nlist"], 64);
  EXPECT_EQ(rec["search"]["train_size"], 100000);
  EXPECT_TRUE(rec["search"]["recall_at_1"].is_number());
}

// Through the command line: --train-descriptors with an approximate index stream (the record
// says one pass), the training sample is recorded, and a sample or set too small for the
// index's lists is one line quoting the string.
TEST_F(ScanScaleTest, ApproximateIndexOverDescriptorFilesStreams) {
  const std::string both = descriptor_inputs(path("t"), path("g.npy")) + " --k 3";
  Run r = repbench("scan" + both + " --index IVF8,Flat --index-train-sample 320 --out " +
                   path("a"));
  ASSERT_EQ(r.status, 0) << r.err;
  const json a = json::parse(slurp(path("a/scan.json")));
  EXPECT_EQ(a["search"]["method"], "faiss");
  EXPECT_EQ(a["search"]["params"]["factory"], "IVF8,Flat");
  EXPECT_EQ(a["search"]["params"]["train_sample"], 320);
  EXPECT_EQ(a["stream"]["passes"], 1);
  EXPECT_EQ(a["stream"]["blocks"], 2);  // one per file
  EXPECT_EQ(a["train"]["count"], 400);
  EXPECT_EQ(a["pairs"].size(), 30u);
  // With the training rows' groups: the same matches, and the record's per-group counts.
  {
    std::ofstream groups(path("tg.csv"));
    for (int i = 0; i < 400; ++i) groups << i << "," << (i % 2 ? "odd" : "even") << "\n";
  }
  r = repbench("scan" + both + " --index IVF8,Flat --index-train-sample 320 --train-groups " +
               path("tg.csv") + " --out " + path("g"));
  ASSERT_EQ(r.status, 0) << r.err;
  const json g = json::parse(slurp(path("g/scan.json")));
  EXPECT_EQ(g["stream"]["passes"], 1);
  EXPECT_TRUE(g["groups"].is_object() || g["groups"].is_array()) << g["groups"];
  EXPECT_EQ(slurp(path("g/matches.csv")), slurp(path("a/matches.csv")));
  EXPECT_BAD_INPUT(
      repbench("scan" + both + " --index IVF64,Flat --index-train-sample 10 --out " + path("b")),
      "--index 'IVF64,Flat'", "10 training rows for 64 lists", path("b"));
  EXPECT_BAD_INPUT(repbench("scan" + both + " --index IVF1024,Flat --out " + path("b")),
                   "--index 'IVF1024,Flat'", "400 training rows for 1024 lists", path("b"));
  EXPECT_BAD_INPUT(
      repbench("scan" + both + " --index ivf --index-train-sample -1 --out " + path("b")),
      "--index-train-sample", "-1 is negative", path("b"));
}

TEST(MergeTopKTest, SliceBySliceEqualsOneSearch) {
  // Ties across slices: equal scores keep the smaller id first, whichever slice it came from.
  metrics::TopKResult a{1, 3, {0, 2, -1}, {0.9f, 0.5f, -INFINITY}};
  const metrics::TopKResult b{1, 3, {1, 0, 4}, {0.9f, 0.5f, 0.1f}};
  metrics::merge_topk(a, b, 10);
  EXPECT_EQ(a.ids, (std::vector<int64_t>{0, 11, 2}));
  EXPECT_EQ(a.scores, (std::vector<float>{0.9f, 0.9f, 0.5f}));
  metrics::TopKResult c{1, 3, {-1, -1, -1}, {-INFINITY, -INFINITY, -INFINITY}};
  metrics::merge_topk(c, metrics::TopKResult{1, 1, {3}, {0.2f}}, 5);
  EXPECT_EQ(c.ids, (std::vector<int64_t>{8, -1, -1}));
}

TEST(ExactSearchTest, FloorPrunedRescoringEqualsFullRescoringBlockByBlock) {
  // Training rows that tie with each other within float rounding: each query has 40 rows that are
  // the query itself plus noise of 1e-6 to 1e-7 spread over all blocks (the sgemm's and the
  // reference's orders of them differ), exact copies of earlier rows (equal scores: the smaller
  // id must stay first) and unrelated rows. Merged block by block with each query's running k-th
  // score as the floor, the lists equal those merged without it, and those of one search over
  // all rows (every candidate within the bound is rescored, however many tie).
  const int64_t d = 96, nq = 24, k = 5, per_query = 40, n = 3000, block = 250;
  std::mt19937_64 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  FloatArray q, t;
  q.shape = {nq, d};
  q.data.resize(size_t(nq * d));
  for (float& v : q.data) v = normal(rng);
  l2_normalize_rows(q);
  t.shape = {n, d};
  t.data.resize(size_t(n * d));
  for (float& v : t.data) v = normal(rng);
  std::uniform_int_distribution<int64_t> pick(0, n - 1);
  for (int64_t i = 0; i < nq; ++i)
    for (int64_t c = 0; c < per_query; ++c) {
      float* r = t.data.data() + pick(rng) * d;
      const float scale = c % 2 == 0 ? 1e-6f : 1e-7f;
      for (int64_t j = 0; j < d; ++j) r[j] = q.data[size_t(i * d + j)] + scale * normal(rng);
    }
  for (int64_t i = 0; i < 200; ++i) {  // exact copies of rows earlier in the set
    const int64_t to = 1 + pick(rng) % (n - 1), from = pick(rng) % to;
    std::copy(t.row(from), t.row(from) + d, t.data.data() + to * d);
  }
  l2_normalize_rows(t);
  auto empty = [&] {
    metrics::TopKResult r{nq, k, std::vector<int64_t>(size_t(nq * k), -1),
                          std::vector<float>(size_t(nq * k), -INFINITY)};
    return r;
  };
  metrics::TopKResult pruned = empty(), full = empty();
  for (int64_t b0 = 0; b0 < n; b0 += block) {
    const FloatArray part = rows_of(t, b0, std::min(n, b0 + block));
    std::vector<float> kth(static_cast<size_t>(nq));
    for (int64_t i = 0; i < nq; ++i) kth[size_t(i)] = pruned.scores[size_t(i * k + k - 1)];
    metrics::merge_topk(pruned, exact_search(part, false, q.data.data(), nq, k, 2, kth.data()),
                        b0);
    metrics::merge_topk(full, exact_search(part, false, q.data.data(), nq, k, 2), b0);
  }
  EXPECT_EQ(pruned.ids, full.ids);
  EXPECT_EQ(pruned.scores, full.scores);
  const metrics::TopKResult whole = exact_search(t, false, q.data.data(), nq, k, 2);
  EXPECT_EQ(pruned.ids, whole.ids);
  EXPECT_EQ(pruned.scores, whole.scores);
}

// ---------------------------------------------------------------------------------------------
// Through the command line: descriptors on both sides, float16 extraction, partials and merge.

TEST_F(ScanScaleTest, PlainNumpyDescriptorsOnBothSidesNeedNoModelOrImages) {
  const std::string both = descriptor_inputs(path("t"), path("g.npy")) + " --index exact --k 3";
  Run r = repbench("scan" + both + " --block-rows 64 --out " + path("a"));
  ASSERT_EQ(r.status, 0) << r.err;
  r = repbench("scan" + both + " --block-rows 100000 --out " + path("b"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(path("a/matches.csv")), slurp(path("b/matches.csv")));
  const json a = json::parse(slurp(path("a/scan.json")));
  EXPECT_EQ(a["train"]["count"], 400);
  EXPECT_EQ(a["train"]["shards"], 2);
  EXPECT_EQ(a["stream"]["blocks"], 2 * 2);  // one block per file and pass
  EXPECT_EQ(a["pairs"].size(), 30u);
  // Rows are named by their index; the report is drawn without images (placeholders).
  EXPECT_EQ(a["pairs"][0]["generated"], "0");
  EXPECT_TRUE(fs::exists(path("a/report.html")));
  // Duplicates counted from a sketch of 8 of the 16 dimensions: one pass, the same record.
  r = repbench("scan" + both + " --sketch-dims 8 --out " + path("s"));
  ASSERT_EQ(r.status, 0) << r.err;
  const json sk = json::parse(slurp(path("s/scan.json")));
  EXPECT_EQ(sk["stream"]["duplicate_sketch"]["dims"], 8);
  EXPECT_EQ(sk["stream"]["blocks"], 2 * (sk["stream"]["duplicate_sketch"]["used"] ? 1 : 2));
  EXPECT_EQ(sk["pairs"], a["pairs"]);
  EXPECT_EQ(sk["duplicates"], a["duplicates"]);
  EXPECT_EQ(slurp(path("s/matches.csv")), slurp(path("a/matches.csv")));
  EXPECT_BAD_INPUT(repbench("scan" + both + " --sketch-dims -1 --out " + path("e")),
                   "--sketch-dims", "-1 must be >= 0", path("e"));

  // Names from list files, one a line.
  std::ofstream names(path("names.txt"));
  for (int i = 0; i < 30; ++i) names << "gen/" << i << ".png\n";
  names.close();
  r = repbench("scan" + both + " --generated-list " + path("names.txt") + " --out " + path("c"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(slurp(path("c/scan.json")))["pairs"][29]["generated"], "gen/29.png");
  EXPECT_BAD_INPUT(
      repbench("scan" + both + " --train-list " + path("names.txt") + " --out " + path("d")),
      path("names.txt"), "30 names, but the descriptors have 400 rows", path("d"));
  EXPECT_BAD_INPUT(
      repbench("scan --generated-descriptors " + path("g.npy") + " --train-descriptors " +
               path("t-0.npy") + " --out " + path("e") + " --generated " + path("g.npy")),
      "--generated-descriptors", "give either --generated", path("e"));
  EXPECT_BAD_INPUT(
      repbench("scan --generated-descriptors " + path("g.npy") + " --train-descriptors " +
               path("t-0.npy") + " --index IVF16,Bogus --out " + path("f")),
      "--index 'IVF16,Bogus'", "is not a FAISS index_factory string", path("f"));
}

// Progress of the passes over training descriptors, on stderr: off a terminal a line per group
// of blocks with the rows done, rows/s and the time left, then a summary; --quiet silences it;
// a bad input is still the only line; `scan merge` reports its pass the same way.
TEST_F(ScanScaleTest, StreamedPassesShowProgressUnlessQuiet) {
  const Data d = make_data(20000, 12, {8}, 5);  // 3 blocks of 8192 rows
  descriptors::ShardedDescriptors t;
  t.features = d.train;
  for (int64_t i = 0; i < t.features.rows(); ++i) t.paths.push_back(fmt::format("t/{}.png", i));
  t.source = "t";
  t.list_sha256 = descriptors::path_list_sha256(t.paths);
  t.total = t.end = t.features.rows();
  descriptors::write_merged(t, path("train.npy"));
  write_npy(path("gen.npy"), d.generated.data.data(), d.generated.shape);
  const std::string both =
      " --generated-descriptors " + path("gen.npy") + " --train-descriptors " + path("train.npy");

  Run r = repbench("scan" + both + " --index exact --block-rows 8192 --out " + path("a"));
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* line : {"training descriptors, pass 1: 8192/20000 (",
                           "training descriptors, pass 1: 16384/20000 (",
                           "training descriptors, pass 1: 20000 items in "})
    EXPECT_NE(r.err.find(line), std::string::npos) << line << " not in:\n" << r.err;
  EXPECT_NE(r.err.find("/s, "), std::string::npos) << r.err;    // the rate
  EXPECT_NE(r.err.find(" left)"), std::string::npos) << r.err;  // the time left
  // Only progress lines: every line names the pass.
  for (size_t at = 0; at < r.err.size(); at = r.err.find('\n', at) + 1)
    EXPECT_EQ(r.err.compare(at, 22, "training descriptors, "), 0) << r.err.substr(at, 80);

  Run quiet = repbench("scan" + both + " --index exact --quiet --out " + path("q"));
  ASSERT_EQ(quiet.status, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");
  EXPECT_EQ(slurp(path("q/matches.csv")), slurp(path("a/matches.csv")));

  // Bad input: one line, no progress before it.
  EXPECT_BAD_INPUT(repbench("scan --generated-descriptors " + path("gen.npy") +
                            " --train-descriptors " + path("train.npy") + " " + path("nope.npy") +
                            " --out " + path("b")),
                   path("nope.npy"), "", path("b"));

  // A job array of one shard and its merge: the merge's pass over the shards has its progress
  // too (when the merge reads them), and --quiet silences it.
  r = repbench("scan" + both + " --block-rows 8192 --partial " + path("part.json") + " --out " +
               path("p"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("training descriptors, pass 1: 20000 items in "), std::string::npos)
      << r.err;
  r = repbench("scan merge " + path("part.json") + " --block-rows 8192 --out " + path("m"));
  ASSERT_EQ(r.status, 0) << r.err;
  for (size_t at = 0; at < r.err.size(); at = r.err.find('\n', at) + 1)
    EXPECT_EQ(r.err.compare(at, 17, "training shards, "), 0) << r.err.substr(at, 80);
  EXPECT_EQ(slurp(path("m/matches.csv")), slurp(path("a/matches.csv")));
  r = repbench("scan merge " + path("part.json") + " --block-rows 8192 --quiet --out " +
               path("mq"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST_F(ScanScaleTest, DescriptorsOfDifferentModelsAreRefused) {
  const Data d = make_data(50, 10, {16}, 2);
  for (const char* side : {"gen", "train"}) {
    descriptors::ShardedDescriptors s;
    s.features = std::string(side) == "gen" ? d.generated : d.train;
    for (int64_t i = 0; i < s.features.rows(); ++i) s.paths.push_back(fmt::format("{}/{}.png", side, i));
    s.model = std::string(side) == "gen" ? "builtin:dct" : "builtin:tiny";
    s.source = side;
    s.list_sha256 = descriptors::path_list_sha256(s.paths);
    s.total = s.end = s.features.rows();
    descriptors::write_merged(s, path(std::string(side) + ".npy"));
  }
  EXPECT_BAD_INPUT(
      repbench("scan --generated-descriptors " + path("gen.npy") + " --train-descriptors " +
               path("train.npy") + " --out " + path("o")),
      path("gen.npy"),
      "descriptors with model \"builtin:dct\", but " + path("train.npy") + " has \"builtin:tiny\"",
      path("o"));
}

// The job array: 4 training shards (float16, one image unreadable), each scanned by its own task
// into a partial file, merged in any order: the very outputs of one scan over all shards.
TEST_F(ScanScaleTest, PartialScansMergeToTheSingleScan) {
  const std::vector<std::string> photos =
      demo::stage_demo_pool(demo::default_pool_dir(), path("pool"));
  ASSERT_GE(photos.size(), 50u);
  {
    std::ofstream bad(path("pool/broken.png"));
    bad << "not an image";
  }
  std::ofstream train(path("train.txt")), gen(path("gen.txt"));
  for (size_t i = 0; i < 40; ++i) train << photos[i] << "\n";
  train << path("pool/broken.png") << "\n";
  for (size_t i = 0; i < photos.size(); i += 2) gen << photos[i] << "\n";
  train.close();
  gen.close();
  const std::string model = " -m builtin:dct --on-decode-error skip";
  Run r = repbench("extract" + model + " --images " + path("gen.txt") + " --out " + path("g"));
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> shards;
  for (int i = 0; i < 4; ++i) {
    r = repbench(fmt::format("extract{} --images {} --shard {}/4 --dtype float16 --out {}", model,
                             path("train.txt"), i, path("sh")));
    ASSERT_EQ(r.status, 0) << r.err;
    shards.push_back(path(fmt::format("sh/images.shard-{}-of-4.npy", i)));
    EXPECT_EQ(read_npy_header(shards.back()).dtype, NpyDType::kFloat16);
  }
  // float16 is the float32 extraction rounded, nothing else.
  r = repbench("extract" + model + " --images " + path("train.txt") + " --out " + path("f32"));
  ASSERT_EQ(r.status, 0) << r.err;
  const FloatArray full = read_npy_float(path("f32/images.npy"));
  const FloatArray half = read_npy_float(shards[1]);
  ASSERT_EQ(half.rows(), 10);
  for (size_t j = 0; j < half.data.size(); ++j)
    ASSERT_EQ(half.data[j], half_to_float(float_to_half(full.data[10 * full.row_size() + j])));
  // `extract merge` keeps float16 (the bytes of the shards, one at a time), in list order.
  r = repbench("extract merge " + shards[3] + " " + shards[1] + " " + shards[0] + " " + shards[2] +
               " --out " + path("m16.npy"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_npy_header(path("m16.npy")).dtype, NpyDType::kFloat16);
  const FloatArray m16 = read_npy_float(path("m16.npy"));
  ASSERT_EQ(m16.shape, full.shape);
  for (size_t j = 0; j < m16.data.size(); ++j)
    ASSERT_EQ(m16.data[j], half_to_float(float_to_half(full.data[j]))) << j;

  const std::string common = " --generated-descriptors " + path("g/images.npy") +
                             " --threshold 0.5,0.8 --baseline-sample 25 --k 3 --duplicate-sample 4";
  r = repbench("scan" + common + " --index exact --block-rows 7 --train-descriptors " + shards[2] +
               " " + shards[0] + " " + shards[3] + " " + shards[1] + " --out " + path("single"));
  ASSERT_EQ(r.status, 0) << r.err;
  std::string parts;
  for (int i : {2, 0, 3, 1}) {
    r = repbench(fmt::format("scan{} --train-descriptors {} --partial {} --out {}", common,
                             shards[i], path(fmt::format("p{}.json", i)), path("task")));
    ASSERT_EQ(r.status, 0) << r.err;
    parts += " " + path(fmt::format("p{}.json", i));
  }
  r = repbench("scan merge" + parts + " --block-rows 5 --out " + path("merged"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(path("merged/matches.csv")), slurp(path("single/matches.csv")));
  const json a = json::parse(slurp(path("single/scan.json")));
  const json b = json::parse(slurp(path("merged/scan.json")));
  for (const char* key : {"model", "decoding", "similarity", "k", "thresholds", "generations_top1", "baseline",
                          "above", "pairs", "duplicates", "identical_sets", "notes", "generated",
                          "train"})
    EXPECT_EQ(a[key], b[key]) << key;
  EXPECT_EQ(a["train"]["skipped"].size(), 1u);
  EXPECT_EQ(b["stream"]["partials"], 4);
  // One envelope for both: the merge's own context and total time; pass 1's search time is the
  // tasks' (each partial records its context and seconds).
  EXPECT_EQ(b["schema"], a["schema"]);
  EXPECT_EQ(b["context"]["repbench"], a["context"]["repbench"]);
  double tasks = 0;
  for (int i = 0; i < 4; ++i) {
    const json part = json::parse(slurp(path(fmt::format("p{}.json", i))));
    EXPECT_EQ(part["context"]["git_commit"], a["context"]["git_commit"]) << i;
    tasks += part["seconds"].get<double>();
  }
  EXPECT_DOUBLE_EQ(b["timings"]["search_seconds"].get<double>(), tasks);
  EXPECT_TRUE(b["timings"]["total_seconds"].is_number());
  EXPECT_TRUE(fs::exists(path("merged/report.html")));
  EXPECT_EQ(a["baseline"]["sample"], 25);
  EXPECT_EQ(a["decoding"], "full");

  // Descriptors decoded differently on the two sides (--fast-decode on one) are not scanned
  // together, as one task or as a whole; the partials record the mode and merge keeps it.
  r = repbench("extract" + model + " --fast-decode --images " + path("gen.txt") + " --out " +
               path("gfast"));
  ASSERT_EQ(r.status, 0) << r.err;
  // (task/ holds the partials' earlier runs: the partial's own file is what must not appear.)
  for (const auto& [how, out] : std::vector<std::pair<std::string, std::string>>{
           {" --train-descriptors " + shards[0] + " " + shards[1] + " " + shards[2] + " " +
                shards[3] + " --out " + path("y"),
            path("y")},
           {" --train-descriptors " + shards[0] + " --partial " + path("y.json") + " --out " +
                path("task"),
            path("y.json")}})
    EXPECT_BAD_INPUT(repbench("scan --generated-descriptors " + path("gfast/images.npy") + how),
                     path("gfast/images.npy"),
                     "descriptors made with reduced-jpeg decoding, but " + shards[0] + " with full",
                     out);
  EXPECT_EQ(json::parse(slurp(path("p0.json")))["run"]["decoding"], "full");

  // Missing, repeated and foreign partials: one line naming it, nothing written.
  const std::string p0 = path("p0.json"), p1 = path("p1.json"), p2 = path("p2.json"),
                    p3 = path("p3.json");
  EXPECT_BAD_INPUT(repbench("scan merge " + p0 + " " + p1 + " " + p3 + " --out " + path("x")),
                   "shard 2/4", "is missing: 3 of 4 partials given", path("x"));
  EXPECT_BAD_INPUT(repbench("scan merge " + p0 + " " + p1 + " " + p2 + " " + p3 + " " + p1 +
                            " --out " + path("x")),
                   p1, "shard 1/4 is given twice", path("x"));
  r = repbench(fmt::format("scan --generated-descriptors {} --threshold 0.5,0.8 --baseline-sample "
                           "25 --k 4 --duplicate-sample 4 --train-descriptors {} --partial {} --out {}",
                           path("g/images.npy"), shards[2], path("other.json"), path("task")));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_BAD_INPUT(repbench("scan merge " + p0 + " " + p1 + " " + path("other.json") + " " + p3 +
                            " --out " + path("x")),
                   path("other.json"), "a partial of another scan (k differs", path("x"));
  {
    std::ofstream junk(path("junk.json"));
    junk << "{\"format\": \"repbench-scan-partial\", \"format_version\": 1}";
  }
  EXPECT_BAD_INPUT(repbench("scan merge " + path("junk.json") + " --out " + path("x")),
                   path("junk.json"), "malformed partial scan", path("x"));
  EXPECT_BAD_INPUT(repbench("scan" + common + " --train-descriptors " + shards[0] + " " +
                            shards[1] + " --partial " + path("y.json") + " --out " + path("task")),
                   "--partial", "one training shard", path("y.json"));
}

// `scan merge` reads the partials only: each carries its shard's part of the baseline and the
// rows that hold every duplicate of the counted matches (scan/partial.h). The shard files moved
// away after the tasks, the merge gives the single scan's outputs; where a count is not covered
// (--duplicate-sample of generations below every threshold with a low --dup-threshold) it reads
// the shards for it, and says so.
TEST_F(ScanScaleTest, MergeCountsDuplicatesFromThePartialsWithoutTheShards) {
  const Data d = make_data(400, 60, {16}, 5);
  std::vector<std::string> names;
  for (int64_t i = 0; i < d.train.rows(); ++i) names.push_back(fmt::format("img/{:04d}.png", i));
  const std::vector<std::string> shards =
      test_support::write_shard_files(d.train, names, 4, path("feats"));
  write_npy(path("g.npy"), d.generated.data.data(), d.generated.shape);
  struct Case {
    std::string name, options;
    bool reads_shards;
  };
  for (const Case& c : {Case{"covered", " --threshold 0.5,0.8 --duplicate-sample 0", false},
                        Case{"sampled", " --threshold 0.8,0.9 --dup-threshold 0.5 --duplicate-sample -1", true}}) {
    SCOPED_TRACE(c.name);
    const std::string common = " --generated-descriptors " + path("g.npy") + c.options +
                               " --baseline-sample 30 --k 3";
    Run r = repbench("scan" + common + " --index exact --block-rows 7 --train-descriptors " +
                     shards[0] + " " + shards[1] + " " + shards[2] + " " + shards[3] + " --out " +
                     path(c.name + "/single"));
    ASSERT_EQ(r.status, 0) << r.err;
    std::string parts;
    for (int i : {3, 1, 0, 2}) {
      const std::string part = path(fmt::format("{}/p{}.json", c.name, i));
      r = repbench(fmt::format("scan{} --train-descriptors {} --partial {} --out {}", common,
                               shards[i], part, path("task")));
      ASSERT_EQ(r.status, 0) << r.err;
      parts += " " + part;
    }
    if (!c.reads_shards) fs::rename(path("feats"), path("feats.away"));
    r = repbench("scan merge" + parts + " --out " + path(c.name + "/merged"));
    if (!c.reads_shards) fs::rename(path("feats.away"), path("feats"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(slurp(path(c.name + "/merged/matches.csv")), slurp(path(c.name + "/single/matches.csv")));
    const json a = json::parse(slurp(path(c.name + "/single/scan.json")));
    const json b = json::parse(slurp(path(c.name + "/merged/scan.json")));
    for (const char* key : {"generations_top1", "baseline", "above", "pairs", "duplicates", "train"})
      EXPECT_EQ(a[key], b[key]) << key;
    // Not vacuous: near-duplicates counted, the baseline sampled across shards.
    int64_t most = 0;
    for (const auto& pair : b["pairs"])
      if (pair["train_duplicates"].is_number()) most = std::max<int64_t>(most, pair["train_duplicates"]);
    EXPECT_GE(most, 1);
    EXPECT_EQ(b["baseline"]["sample"], 30);
    const json& st = b["stream"];
    EXPECT_EQ(st["shards_read"], c.reads_shards);
    EXPECT_EQ(st["passes"], c.reads_shards ? 1 : 0);
    EXPECT_GT(st["duplicates_from_partials"].get<int64_t>(), 0);
    if (c.reads_shards)
      EXPECT_GT(st["duplicates_from_shards"].get<int64_t>(), 0);
    else
      EXPECT_EQ(st["duplicates_from_shards"], 0);
    EXPECT_EQ(st["duplicates_from_partials"].get<int64_t>() + st["duplicates_from_shards"].get<int64_t>(),
              b["duplicates"]["counted"].get<int64_t>());
  }
  // The shards gone where the merge needs them: one line naming the file.
  fs::rename(path("feats"), path("feats.away"));
  std::string parts;
  for (int i = 0; i < 4; ++i) parts += " " + path(fmt::format("sampled/p{}.json", i));
  EXPECT_BAD_INPUT(repbench("scan merge" + parts + " --out " + path("x")), shards[0], "", path("x/scan.json"));
  EXPECT_FALSE(fs::exists(path("x/scan.json")));
  // A scan task needs every shard of the list (the baseline sample is drawn from all of them).
  fs::create_directories(path("feats"));
  fs::copy(path("feats.away/images.shard-1-of-4.npy"), path("feats/images.shard-1-of-4.npy"));
  fs::copy(path("feats.away/images.shard-1-of-4.shard.json"), path("feats/images.shard-1-of-4.shard.json"));
  EXPECT_BAD_INPUT(repbench("scan --generated-descriptors " + path("g.npy") + " --train-descriptors " +
                            shards[1] + " --partial " + path("y.json") + " --out " + path("task")),
                   path("feats/images.shard-0-of-4.npy"), "is not there yet", path("y.json"));
  EXPECT_FALSE(fs::exists(path("y.json")));
}

// --index as a FAISS index_factory string: built, tuned by measured recall, recorded as given.
TEST(ScanFactoryIndexTest, FactoryStringsRoundTripIntoTheRecord) {
  const Data d = make_data(4000, 200, {32}, 4);
  FloatArray t = d.train, g = d.generated;
  l2_normalize_rows(t);
  l2_normalize_rows(g);
  std::vector<std::string> tp = index_names(t.rows()), gp = index_names(g.rows());
  for (const std::string factory : {"IVF16,Flat", "HNSW16", "IVF16,PQ8x4"}) {
    ScanParams p = exact_params();
    p.index.kind = parse_index_kind(factory);
    ASSERT_EQ(p.index.kind, IndexKind::kFactory);
    p.index.factory = factory;
    p.index.recall_sample = 100;
    const json rec = scan_descriptors(g, gp, t, tp, false, p);
    EXPECT_EQ(rec["search"]["method"], "faiss") << factory;
    EXPECT_EQ(rec["search"]["params"]["factory"], factory);
    EXPECT_FALSE(rec["search"]["tuning"].empty()) << factory;
    EXPECT_EQ(rec["duplicates"]["method"], "index");
    if (factory == "IVF16,Flat") {
      // Probing all 16 lists is exhaustive: the tuning reaches its target.
      EXPECT_GE(rec["search"]["recall_at_1"].get<double>(), 0.98);
      EXPECT_EQ(rec["search"]["params"]["nlist"], 16);
    }
    if (factory == "HNSW16") {
      EXPECT_TRUE(rec["search"]["params"].contains("efSearch"));
    }
  }
  IndexOptions bad;
  bad.kind = IndexKind::kFactory;
  bad.factory = "IVF16,Bogus";
  EXPECT_ERROR_CONTAINS(bad.Check(), "--index 'IVF16,Bogus' is not a FAISS index_factory string");
  // PQ64 needs a dimension that 64 divides: checked against the descriptors' own.
  bad.factory = "IVF16,PQ64";
  bad.Check();
  ScanParams p = exact_params();
  p.index = bad;
  EXPECT_ERROR_CONTAINS(scan_descriptors(g, gp, t, tp, false, p),
                        "'IVF16,PQ64' is not a FAISS index_factory string FAISS "
                        "can build for 32-d descriptors");
}

}  // namespace
