#include "scan/scan.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/descriptors.h"
#include "core/error.h"
#include "core/version.h"
#include "metrics/inner_product.h"
#include "metrics/parallel.h"
#include "metrics/split_product.h"
#include "models/feature_cache.h"
#include "scan/image_source.h"
#include "scan/shards.h"

namespace fs = std::filesystem;

namespace repbench::scan {

namespace {

// A top-1 score this close to 1 is an identical image (float rounding of a unit vector's norm).
constexpr float kIdentical = 1.0f - 1e-5f;

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Rows of `a` that are not listed in `failed` (sorted by index), and their original indices.
FloatArray keep_rows(FloatArray a, const std::vector<models::FailedImage>& failed,
                     std::vector<int64_t>* kept) {
  std::set<int64_t> bad;
  for (const auto& f : failed) bad.insert(f.index);
  const int64_t row = a.row_size();
  kept->clear();
  int64_t w = 0;
  for (int64_t i = 0; i < a.rows(); ++i) {
    if (bad.count(i)) continue;
    if (w != i) std::copy(a.row(i), a.row(i) + row, a.data.begin() + w * row);
    kept->push_back(i);
    ++w;
  }
  a.data.resize(static_cast<size_t>(w * row));
  a.shape[0] = w;
  return a;
}

nlohmann::json skipped_json(const std::vector<models::FailedImage>& failed) {
  nlohmann::json s = nlohmann::json::array();
  for (const auto& f : failed) s.push_back({{"path", f.path}, {"error", f.reason}});
  return s;
}

}  // namespace

void ScanParams::Check() const {
  if (k < 1) fail("--k {} must be >= 1", k);
  if (thresholds.empty()) fail("give at least one --threshold");
  for (double t : thresholds)
    if (!(t >= -1 && t <= 1))
      fail("--threshold {} is outside [-1, 1] (scores are cosine similarities)", t);
  if (!(dup_threshold >= -1 && dup_threshold <= 1))
    fail("--dup-threshold {} is outside [-1, 1] (scores are cosine similarities)", dup_threshold);
  if (baseline_sample < 0) fail("--baseline-sample {} is negative", baseline_sample);
  if (duplicate_cap < 1) fail("duplicate cap {} must be >= 1", duplicate_cap);
  index.Check();
}

void ScanOptions::Check() const {
  if (generated.empty()) fail("give --generated DIR_OR_LIST");
  if (train.empty() == train_descriptors.empty())
    fail("give either --train DIR_OR_LIST or --train-descriptors SHARD.npy...");
  if (model.empty()) fail("give --model SPEC");
  if (out.empty()) fail("give --out DIR");
  if (batch_size < 1) fail("--batch-size {} must be >= 1", batch_size);
  extractor.Check();
  params.Check();
}

std::vector<double> parse_thresholds(const std::vector<std::string>& texts) {
  std::vector<double> out;
  for (const auto& text : texts) {
    size_t start = 0;
    while (start <= text.size()) {
      const size_t comma = std::min(text.find(',', start), text.size());
      const std::string item = text.substr(start, comma - start);
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(item, &used);
      } catch (const std::exception&) {
        used = std::string::npos;
      }
      if (item.empty() || used != item.size())
        fail("--threshold '{}' is not a number (or a comma-separated list of numbers)", text);
      out.push_back(v);
      start = comma + 1;
    }
  }
  return out;
}

Baseline self_similarity_baseline(const TrainIndex& index, const FloatArray& train,
                                  int64_t sample, uint64_t seed) {
  Baseline b;
  const int64_t n = train.rows(), row = train.row_size();
  if (sample >= n) {
    b.rows.resize(n);
    std::iota(b.rows.begin(), b.rows.end(), 0);
  } else {
    std::vector<int64_t> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    std::mt19937_64 rng(seed ^ 0x5ca1ab1eULL);
    std::shuffle(perm.begin(), perm.end(), rng);
    b.rows.assign(perm.begin(), perm.begin() + sample);
    std::sort(b.rows.begin(), b.rows.end());
  }
  if (b.rows.empty() || n < 2) {
    b.top1.assign(b.rows.size(), -std::numeric_limits<float>::infinity());
    b.nearest.assign(b.rows.size(), -1);
    if (n < 2) b.rows.clear(), b.top1.clear(), b.nearest.clear();
    return b;
  }
  std::vector<float> q(b.rows.size() * row);
  for (size_t i = 0; i < b.rows.size(); ++i)
    std::copy(train.row(b.rows[i]), train.row(b.rows[i]) + row, q.begin() + i * row);
  // Two neighbours: the image itself is normally the first; the other one is the baseline.
  const metrics::TopKResult r = index.search(q.data(), int64_t(b.rows.size()), 2);
  for (size_t i = 0; i < b.rows.size(); ++i) {
    int64_t j = 0;
    if (r.ids[i * 2] == b.rows[i]) j = 1;
    b.nearest.push_back(r.ids[i * 2 + j]);
    b.top1.push_back(r.scores[i * 2 + j]);
  }
  return b;
}

std::vector<int64_t> count_duplicates(const FloatArray& train, bool split_product,
                                      const std::vector<int64_t>& rows, double threshold,
                                      const TrainIndex& index, int64_t cap, int threads) {
  const int64_t row = train.row_size(), n = train.rows();
  std::vector<int64_t> counts(rows.size(), 0);
  if (rows.empty()) return counts;
  std::vector<float> q(rows.size() * row);
  for (size_t i = 0; i < rows.size(); ++i)
    std::copy(train.row(rows[i]), train.row(rows[i]) + row, q.begin() + i * row);
  const float t = static_cast<float>(threshold);
  if (!index.exact()) {
    const int64_t kk = std::min(cap + 1, n);
    const metrics::TopKResult r = index.search(q.data(), int64_t(rows.size()), kk);
    for (size_t i = 0; i < rows.size(); ++i)
      for (int64_t j = 0; j < kk; ++j)
        if (r.ids[i * kk + j] >= 0 && r.ids[i * kk + j] != rows[i] && r.scores[i * kk + j] > t)
          counts[i] = std::min(counts[i] + 1, cap);
    return counts;
  }
  std::unique_ptr<metrics::ScoreSource> s;
  if (split_product)
    s = std::make_unique<metrics::SplitProductScores>(q.data(), int64_t(rows.size()),
                                                      train.data.data(), n, train.shape[1],
                                                      train.shape[2]);
  else
    s = std::make_unique<metrics::InnerProductScores>(q.data(), int64_t(rows.size()),
                                                      train.data.data(), n, row);
  // Blocks of 64 queries x 8192 training rows, one thread each, single-threaded BLAS inside
  // (the layout search_topk measured fastest).
  const int64_t bq = 64, bn = 8192;
  const int64_t qblocks = (int64_t(rows.size()) + bq - 1) / bq;
  const int team = metrics::resolve_threads(threads);
  metrics::BlasThreadsScope blas(1);
  std::vector<std::vector<float>> bufs(team, std::vector<float>(bq * bn));
  metrics::parallel_for(qblocks, team, [&](int64_t b, int thread) {
    const int64_t q0 = b * bq, qn = std::min(bq, int64_t(rows.size()) - q0);
    float* buf = bufs[thread].data();
    for (int64_t b0 = 0; b0 < n; b0 += bn) {
      const int64_t m = std::min(bn, n - b0);
      s->compute(q0, qn, b0, m, buf, m);
      for (int64_t i = 0; i < qn; ++i) {
        int64_t c = 0;
        for (int64_t j = 0; j < m; ++j) c += buf[i * m + j] > t;
        // The image itself is not its own duplicate.
        const int64_t self = rows[q0 + i];
        if (self >= b0 && self < b0 + m && buf[i * m + (self - b0)] > t) --c;
        counts[q0 + i] += c;
      }
    }
  });
  return counts;
}

std::vector<AboveThreshold> count_above(const std::vector<float>& generations_top1,
                                        const std::vector<float>& baseline_top1,
                                        const std::vector<double>& thresholds) {
  std::vector<AboveThreshold> out;
  for (double t : thresholds) {
    AboveThreshold a;
    a.threshold = t;
    // Compared in float, the scores' precision: 0.6f must not count as above 0.6.
    const float tf = static_cast<float>(t);
    for (float s : generations_top1) a.generations += s > tf;
    for (float s : baseline_top1) a.baseline += s > tf;
    a.fraction = generations_top1.empty() ? 0 : double(a.generations) / generations_top1.size();
    a.baseline_fraction = baseline_top1.empty() ? 0 : double(a.baseline) / baseline_top1.size();
    out.push_back(a);
  }
  return out;
}

void write_matches_csv(const std::string& path, const std::vector<std::string>& generated_paths,
                       const std::vector<std::string>& train_paths, const metrics::TopKResult& m) {
  std::string csv = "generated,rank,train,score\n";
  for (int64_t i = 0; i < m.nq; ++i)
    for (int64_t r = 0; r < m.k; ++r) {
      const int64_t id = m.ids[i * m.k + r];
      if (id < 0) continue;
      csv += fmt::format("{},{},{},{:.6f}\n", csv_field(generated_paths[i]), r + 1,
                         csv_field(train_paths[id]), m.scores[i * m.k + r]);
    }
  write_file_atomic(path, csv);
}

nlohmann::json scan_descriptors(const FloatArray& generated,
                                const std::vector<std::string>& generated_paths,
                                const FloatArray& train, const std::vector<std::string>& train_paths,
                                bool split_product, const ScanParams& params,
                                metrics::TopKResult* matches) {
  params.Check();
  REPBENCH_ASSERT(generated.rows() == int64_t(generated_paths.size()));
  REPBENCH_ASSERT(train.rows() == int64_t(train_paths.size()));
  if (generated.rows() == 0) fail("no generated images to scan");
  if (train.rows() == 0) fail("no training images to scan against");
  if (generated.row_size() != train.row_size())
    fail("generated descriptors have {} values per row, training descriptors {}",
         generated.row_size(), train.row_size());

  std::unique_ptr<TrainIndex> index;
  SearchOutcome found = search_train(train, generated, split_product, params.k, params.index, &index);
  const int64_t ng = generated.rows();

  nlohmann::json rec;
  rec["similarity"] = split_product ? "split-product" : "inner-product";
  rec["k"] = params.k;
  rec["thresholds"] = params.thresholds;
  rec["dup_threshold"] = params.dup_threshold;
  rec["search"] = {{"method", found.method},
                   {"params", found.params},
                   {"recall_at_1", found.recall_at_1 ? nlohmann::json(*found.recall_at_1)
                                                     : nlohmann::json(nullptr)},
                   {"recall_sample", found.recall_sample},
                   {"train_size", train.rows()},
                   {"build_seconds", found.build_seconds},
                   {"tune_seconds", found.tune_seconds},
                   {"tuning", found.tuning},
                   {"search_seconds", found.search_seconds}};

  std::vector<float> top1(ng);
  for (int64_t i = 0; i < ng; ++i) top1[i] = found.topk.scores[i * params.k];
  rec["generations_top1"] = top1;

  const Baseline base = self_similarity_baseline(*index, train, params.baseline_sample, params.seed);
  rec["baseline"] = {{"sample", int64_t(base.top1.size())},
                     {"top1", base.top1},
                     {"note", "each sampled training image vs its nearest OTHER training image"}};

  nlohmann::json above = nlohmann::json::array();
  for (const auto& a : count_above(top1, base.top1, params.thresholds))
    above.push_back({{"threshold", a.threshold},
                     {"generations", a.generations},
                     {"fraction", a.fraction},
                     {"baseline", a.baseline},
                     {"baseline_fraction", a.baseline_fraction}});
  rec["above"] = above;

  // Duplicate counts, once per distinct matched training image.
  std::vector<int64_t> distinct;
  for (int64_t i = 0; i < ng; ++i) distinct.push_back(found.topk.ids[i * params.k]);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  const std::vector<int64_t> dups = count_duplicates(
      train, split_product, distinct, params.dup_threshold, *index, params.duplicate_cap,
      params.index.threads);
  std::map<int64_t, int64_t> dup_of;
  for (size_t i = 0; i < distinct.size(); ++i) dup_of[distinct[i]] = dups[i];
  rec["duplicates"] = {{"method", index->exact() ? "exact" : "index"},
                       {"cap", index->exact() ? nlohmann::json(nullptr)
                                              : nlohmann::json(params.duplicate_cap)}};

  nlohmann::json pairs = nlohmann::json::array();
  bool identical = true;
  for (int64_t i = 0; i < ng; ++i) {
    const int64_t id = found.topk.ids[i * params.k];
    pairs.push_back({{"generated", generated_paths[i]},
                     {"train", train_paths[id]},
                     {"score", top1[i]},
                     {"train_duplicates", dup_of[id]}});
    identical = identical && top1[i] >= kIdentical;
  }
  rec["pairs"] = pairs;
  rec["identical_sets"] = identical;

  nlohmann::json notes = nlohmann::json::array();
  if (identical)
    notes.push_back(fmt::format(
        "Every generation's top-1 similarity is 1.0: each of the {} generated images is an exact "
        "copy of a training image (for example, the generated set is the training set). This is "
        "a valid result, not an error.",
        ng));
  if (!index->exact())
    notes.push_back(fmt::format(
        "Approximate search ({}): recall@1 against exact search {:.3f} on {} sampled "
        "generations; duplicate counts look at the {} nearest neighbours of each match.",
        found.method, found.recall_at_1.value_or(0), found.recall_sample, params.duplicate_cap));
  if (split_product && params.index.kind != IndexKind::kExact && params.index.kind != IndexKind::kAuto)
    notes.push_back("Token descriptors (split-product) are always searched exactly.");
  if (train.rows() < 2) notes.push_back("The training set has one image: no baseline.");
  rec["notes"] = notes;
  if (matches) *matches = std::move(found.topk);
  return rec;
}

nlohmann::json run_scan(const ScanOptions& o) {
  o.Check();
  const auto t0 = std::chrono::steady_clock::now();
  const ImageSource gen_src = read_image_source(o.generated);
  ImageSource train_src;
  if (!o.train.empty()) train_src = read_image_source(o.train);
  remove_stale_temporaries(o.out);

  auto ex = models::create_extractor(o.model, o.extractor);
  models::PipelineOptions popt;
  popt.batch_size = o.batch_size;
  popt.load = o.load;
  popt.on_decode_error = models::DecodeErrorPolicy::kSkip;
  popt.progress = o.progress;
  const fs::path cache_dir = fs::path(o.out) / "cache";
  auto extract = [&](const ImageSource& src, const std::string& label) {
    std::vector<models::ImageItem> items;
    for (const auto& p : src.paths) items.push_back({p, std::nullopt});
    popt.label = fmt::format("{} {}", ex->name(), label);
    const std::string npy =
        (cache_dir / models::cache_file_name(label, models::cache_key(*ex, items, popt))).string();
    return models::extract_cached(*ex, items, npy, popt);
  };

  models::CachedExtraction gen = extract(gen_src, "generated");
  std::vector<std::string> train_paths;
  std::vector<models::FailedImage> train_failed;
  FloatArray train;
  int64_t shards = 1;
  std::string train_source = o.train;
  if (!o.train.empty()) {
    models::CachedExtraction t = extract(train_src, "train");
    train = std::move(t.features);
    train_failed = std::move(t.failed);
    train_paths = train_src.paths;
  } else {
    ShardedDescriptors d = merge_shards(o.train_descriptors);
    if (d.model != ex->spec())
      fail("{}: descriptors of model '{}', but --model is '{}'", o.train_descriptors[0], d.model,
           ex->spec());
    // Both sides through one pipeline: generations and training images decoded alike.
    if (d.decoding != models::decoding_name(o.load))
      fail("{}: descriptors made with {} decoding, but this scan decodes with {} (run both with "
           "or both without --fast-decode)",
           o.train_descriptors[0], d.decoding, models::decoding_name(o.load));
    const std::vector<int64_t> want = models::descriptor_shape(*ex, d.features.rows());
    if (d.features.shape != want)
      fail("{}: descriptors of shape [{}], the model gives [{}]", o.train_descriptors[0],
           fmt::join(d.features.shape, ", "), fmt::join(want, ", "));
    if (first_nonfinite_row(d.features) >= 0)
      fail("{}: row {} holds NaN or Inf", o.train_descriptors[0], first_nonfinite_row(d.features));
    train = std::move(d.features);
    train_failed = std::move(d.failed);
    train_paths = std::move(d.paths);
    shards = d.shards_merged;
    train_source = d.source;
  }

  const int64_t gen_total = gen.features.rows(), train_total = train.rows();
  std::vector<int64_t> gen_kept, train_kept;
  FloatArray g = keep_rows(std::move(gen.features), gen.failed, &gen_kept);
  FloatArray t = keep_rows(std::move(train), train_failed, &train_kept);
  auto first_failure = [](const std::vector<models::FailedImage>& f) {
    // The reason names the file already.
    return f.empty() ? std::string() : fmt::format(" (first: {})", f[0].reason);
  };
  if (g.rows() == 0)
    fail("{}: none of the {} generated images could be read{}", o.generated, gen_total,
         first_failure(gen.failed));
  if (t.rows() == 0)
    fail("{}: none of the {} training images could be read{}", train_source, train_total,
         first_failure(train_failed));
  std::vector<std::string> gp, tp;
  for (int64_t i : gen_kept) gp.push_back(gen_src.paths[i]);
  for (int64_t i : train_kept) tp.push_back(train_paths[i]);

  const bool split = g.shape.size() == 3;
  // The paper L2-normalises every descriptor (split-product: the flattened token vector).
  l2_normalize_rows(g);
  l2_normalize_rows(t);
  metrics::TopKResult matches;
  nlohmann::json body = scan_descriptors(g, gp, t, tp, split, o.params, &matches);

  nlohmann::json rec;
  rec["kind"] = "replication-scan";
  rec["schema"] = 1;
  rec["repbench_version"] = version();
  rec["git_commit"] = git_commit();
  rec["created"] = utc_now_iso8601();
  rec["model"] = ex->spec();
  rec["decoding"] = models::decoding_name(o.load);
  rec["generated"] = {{"source", o.generated},
                      {"count", g.rows()},
                      {"listed", gen_total},
                      {"skipped", skipped_json(gen.failed)}};
  rec["train"] = {{"source", train_source},
                  {"count", t.rows()},
                  {"listed", train_total},
                  {"skipped", skipped_json(train_failed)},
                  {"shards", shards}};
  for (auto& [key, value] : body.items()) rec[key] = value;
  auto& notes = rec["notes"];
  if (!gen.failed.empty())
    notes.push_back(fmt::format("{} of {} generated images could not be read and were skipped.",
                                gen.failed.size(), gen_total));
  if (!train_failed.empty())
    notes.push_back(fmt::format("{} of {} training images could not be read and were skipped.",
                                train_failed.size(), train_total));
  if (o.load.reduced_decoding)
    notes.push_back(
        "Descriptors were computed with --fast-decode (large JPEGs decoded at reduced size), so "
        "they differ slightly from the model's reference pipeline, which decodes at full size.");
  rec["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  write_matches_csv((fs::path(o.out) / "matches.csv").string(), gp, tp, matches);
  // Written last: a scan.json means the scan finished.
  write_file_atomic((fs::path(o.out) / "scan.json").string(), rec.dump(2) + "\n");
  return rec;
}

}  // namespace repbench::scan
