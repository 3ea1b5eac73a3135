// Copy-detection scoring of a set whose metric has a copy_detection block (disc21, copydays):
// predictions made as SSCD and isc2021 make them (metrics/predictions.h), optionally with
// query-side score normalisation against training descriptors (metrics/score_norm.h), scored by
// micro-AP (metrics/micro_ap.h), and written as the official predictions CSV beside the record.
// One place, so that `eval` and `run` score copy detection the same way.
#pragma once


#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/float_view.h"
#include "core/npy.h"
#include "datasets/retrieval_set.h"
#include "metrics/evaluate.h"
#include "metrics/micro_ap.h"
#include "metrics/score_source.h"

namespace repbench::evaluation {

struct CopyDetectionOptions {
  std::string candidates = "knn";  // "knn": k best per query; "global": max_results best pairs
  int64_t k = 0;                   // predictions per query; 0 = the set's metric's k
  int64_t max_results = 500000;    // isc2021's cap on global candidates
  std::string score_norm_train;    // training descriptors (.npy); "" = no normalisation
  std::string score_norm = "1.0[0,2]";  // metrics::parse_score_norm spec
  bool l2_normalize_train = false;      // normalise the training rows as the query rows were
  // Applied to the training rows first, as it was to queries and references (the descriptor
  // post-processing of postprocess/postprocess.h); unset = none.
  std::function<void(FloatArray&, const std::string&)> transform_train;
  int threads = 0;

  // Throws Error naming the option on an unknown candidates mode, k or max_results < 1 or a bad
  // score-norm spec; called before any file is read.
  void Check() const;
};

struct CopyDetectionResult {
  nlohmann::json metrics;  // micro_ap, recall_at_p90, recall_at_p90_threshold, recall_at_rank1,
                           // recall_at_rank10, predictions, ground_truth_pairs; *_sn likewise
  nlohmann::json options;  // how the predictions were made (candidates, k or max_results,
                           // score_norm)
  nlohmann::json inputs = nlohmann::json::object();  // {"score_norm_train": {path, sha256}}
  std::vector<metrics::Prediction> predictions, predictions_sn;  // sn: empty when not normalised
  std::string summary;     // lines for the terminal
};

// Scores `set` (its metric must have copy_detection). `scores` compares the set's queries with
// its database; `queries` are the query descriptors `scores` was built from (for the training
// neighbours), `split` whether they are scored by split-product. `evaluated`: the set's
// evaluate() result, whose top ids (when they reach k) give the knn predictions without a second
// pass over the database. Throws Error naming the training file when it cannot be read or its
// rows do not match the queries' shape.
CopyDetectionResult evaluate_copy_detection(const metrics::ScoreSource& scores,
                                            const FloatView& queries, bool split,
                                            const datasets::RetrievalSet& set,
                                            const CopyDetectionOptions& options,
                                            const metrics::EvalResult* evaluated = nullptr);

// Writes the predictions as isc2021's CSV ("query_id,reference_id,score", ids as the metric
// says) to <record path without .json>.predictions.csv, and the normalised ones to
// .predictions_sn.csv, atomically; returns {"csv": name, "csv_sn": name} (file names, beside the
// record) for the record's "predictions" entry.
nlohmann::json write_predictions_csv(const CopyDetectionResult& result,
                                     const datasets::RetrievalSet& set,
                                     const std::string& record_path);

}  // namespace repbench::evaluation
