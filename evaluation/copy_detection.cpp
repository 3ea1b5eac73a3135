#include "evaluation/copy_detection.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/descriptors.h"
#include "core/error.h"
#include "core/sha256.h"
#include "metrics/descriptor_scores.h"
#include "metrics/predictions.h"
#include "metrics/score_norm.h"

namespace fs = std::filesystem;

namespace repbench::evaluation {

namespace {

using nlohmann::json;

json metrics_json(const metrics::MicroApResult& r, const std::string& suffix) {
  return {{"micro_ap" + suffix, r.micro_ap},
          {"recall_at_p90" + suffix, r.recall_at_p90},
          {"recall_at_p90_threshold" + suffix,
           r.reaches_p90 ? json(r.threshold_at_p90) : json(nullptr)},
          {"recall_at_rank1" + suffix, r.recall_at_rank1},
          {"recall_at_rank10" + suffix, r.recall_at_rank10},
          {"predictions" + suffix, r.predictions},
          {"predictions_correct" + suffix, r.correct}};
}

std::string summary_line(const std::string& label, const metrics::MicroApResult& r) {
  return fmt::format("  {:<14} {:>7.2f}  recall@P90 {:>6.2f}{}  recall@rank1 {:>6.2f}  "
                     "recall@rank10 {:>6.2f}\n",
                     label, 100 * r.micro_ap, 100 * r.recall_at_p90,
                     r.reaches_p90 ? fmt::format(" (score >= {:.6g})", r.threshold_at_p90)
                                   : std::string(" (P90 not reached)"),
                     100 * r.recall_at_rank1, 100 * r.recall_at_rank10);
}

// The id the official CSV gives an image: its file stem, or its path without extension.
std::string csv_id(const std::string& image, bool stem) {
  const fs::path p(image);
  return stem ? p.stem().string() : (p.parent_path() / p.stem()).generic_string();
}

}  // namespace

void CopyDetectionOptions::Check() const {
  if (candidates != "knn" && candidates != "global")
    fail("--candidates '{}' is not known; expected knn (k per query) or global (--max-results "
         "best pairs)",
         candidates);
  if (k < 0) fail("--candidates-k {} must be at least 1 (0 = the set's default)", k);
  if (max_results < 1) fail("--max-results {} must be at least 1", max_results);
  if (!score_norm_train.empty()) metrics::parse_score_norm(score_norm, "--score-norm");
}

CopyDetectionResult evaluate_copy_detection(const metrics::ScoreSource& scores,
                                            const FloatView& queries, bool split,
                                            const datasets::RetrievalSet& set,
                                            const CopyDetectionOptions& o,
                                            const metrics::EvalResult* evaluated) {
  if (!set.metric.copy_detection)
    fail("set {} is not a copy-detection set (its metric has no micro-AP)", set.name);
  o.Check();
  const datasets::CopyDetectionMetric& cd = *set.metric.copy_detection;
  const int64_t k = o.k > 0 ? o.k : cd.k;
  std::vector<std::pair<int64_t, int64_t>> gt;
  for (size_t q = 0; q < set.queries.size(); ++q)
    for (int64_t b : set.queries[q].ok) gt.emplace_back(static_cast<int64_t>(q), b);

  CopyDetectionResult res;
  res.options = {{"candidates", o.candidates}};
  if (o.candidates == "knn")
    res.options["k"] = k;
  else
    res.options["max_results"] = o.max_results;
  auto predict = [&](const metrics::ScoreSource& s) {
    return o.candidates == "knn" ? metrics::knn_predictions(s, k, o.threads)
                                 : metrics::global_predictions(s, o.max_results, o.threads);
  };
  // evaluate() already found each query's best ids (k = min(its top_k, nb)): reuse them.
  const int64_t k_found = std::min<int64_t>(k, scores.nb());
  const bool reuse = o.candidates == "knn" && evaluated && k_found >= 1 &&
                     evaluated->top_k >= k_found;
  res.predictions = reuse ? metrics::knn_predictions_from(scores, evaluated->top_ids,
                                                          evaluated->top_k, k_found)
                          : predict(scores);
  const metrics::MicroApResult plain = metrics::micro_ap(res.predictions, gt, cd.micro_ap);
  res.metrics = metrics_json(plain, "");
  res.metrics["ground_truth_pairs"] = plain.ground_truth_pairs;
  res.summary = fmt::format("  {:<14} {:>7}\n", "", "\u00b5AP") + summary_line("raw", plain);

  if (!o.score_norm_train.empty()) {
    const metrics::ScoreNormSpec spec = metrics::parse_score_norm(o.score_norm, "--score-norm");
    FloatArray train = read_descriptors(
        o.score_norm_train, {-1, "any order (training images, e.g. DISC21's training/)", true});
    if (o.transform_train) o.transform_train(train, o.score_norm_train);
    if (train.shape.size() != queries.shape.size() || train.row_size() != queries.row_size() ||
        (train.shape.size() == 3 && train.shape[1] != queries.shape[1]))
      fail("{}: training descriptors of shape [{}] do not match the queries' [{}]",
           o.score_norm_train, fmt::join(train.shape, ", "), fmt::join(queries.shape, ", "));
    if (o.l2_normalize_train || split) l2_normalize_rows(train);
    const std::unique_ptr<metrics::ScoreSource> to_train =
        metrics::descriptor_scores(queries, train, split);
    std::vector<float> offset;
    try {
      offset = metrics::score_norm_offsets(*to_train, spec, o.threads);
    } catch (const Error& e) {
      fail("{}: {}", o.score_norm_train, e.what());
    }
    if (o.candidates == "knn") {
      // A per-query constant keeps each query's order: the same k pairs, shifted.
      res.predictions_sn = metrics::offset_predictions(res.predictions, offset);
    } else {
      const metrics::OffsetScores shifted(scores, offset);
      res.predictions_sn = predict(shifted);
    }
    const metrics::MicroApResult sn = metrics::micro_ap(res.predictions_sn, gt, cd.micro_ap);
    res.metrics.update(metrics_json(sn, "_sn"));
    res.options["score_norm"] = {{"spec", spec.text},
                                 {"form", spec.form},
                                 {"weight", spec.weight},
                                 {"first_rank", spec.first},
                                 {"last_rank", spec.last},
                                 {"training_descriptors", train.rows()}};
    res.inputs["score_norm_train"] = {{"path", o.score_norm_train},
                                      {"sha256", sha256_file(o.score_norm_train)}};
    res.summary += summary_line("SN " + spec.text, sn);
  }
  return res;
}

json write_predictions_csv(const CopyDetectionResult& result, const datasets::RetrievalSet& set,
                           const std::string& record_path) {
  const bool stem = set.metric.copy_detection ? set.metric.copy_detection->stem_ids : true;
  const fs::path rec(record_path);
  const std::string base = (rec.parent_path() / rec.stem()).string();
  auto write = [&](const std::vector<metrics::Prediction>& preds, const std::string& path) {
    std::string out = "query_id,reference_id,score\n";
    out.reserve(preds.size() * 32 + out.size());
    for (const metrics::Prediction& p : preds)
      // Full float precision: the official scorer then sees the ties repbench saw.
      out += fmt::format("{},{},{:.9g}\n", csv_id(set.queries[p.query].image, stem),
                         csv_id(set.db[p.ref], stem), p.score);
    write_file_atomic(path, out);
    return fs::path(path).filename().string();
  };
  json files = {{"csv", write(result.predictions, base + ".predictions.csv")}};
  if (!result.predictions_sn.empty())
    files["csv_sn"] = write(result.predictions_sn, base + ".predictions_sn.csv");
  return files;
}

}  // namespace repbench::evaluation
