// The one path from descriptors to scores: the typed scoring spec (similarity, normalisation,
// post-processing, re-ranking), the pair prepared as the spec says (shape checks, post-processing,
// normalisation, re-ranking) and its scores. `eval`, the suite runner behind `run`, `search`
// (scan/search_descriptors), `explain` and the Python module all score through it, so that a
// record is explained with the scores it was made with.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/float_view.h"
#include "core/npy.h"
#include "metrics/descriptor_scores.h"
#include "metrics/rerank.h"
#include "metrics/score_source.h"
#include "postprocess/postprocess.h"

namespace repbench::evaluation {

// How two sides are compared. kAuto: split-product for token descriptors [n, tokens, d], else
// the inner product; kInnerProduct on tokens compares the flattened vectors.
enum class Similarity { kAuto, kInnerProduct, kSplitProduct };

// "auto" | "inner-product" | "split-product"; throws Error "WHAT 'TEXT' is not known; expected
// auto, inner-product or split-product" (`what` names the option or the file's field).
Similarity parse_similarity(const std::string& text, const std::string& what = "--similarity");
const char* similarity_name(Similarity s);
// The name a record stores for the similarity a pair was scored by.
inline const char* scored_similarity_name(bool split) {
  return split ? "split-product" : "inner-product";
}

// One side of a comparison as the caller hands it over.
struct Descriptors {
  FloatView view;  // what is scored: into `owned`, or into memory the caller keeps alive
  // The array `view` points into when the caller gives it away (the verbs' files); null when
  // the data are the caller's (a Python array): a step that changes the values (normalisation,
  // post-processing, re-ranking) then copies them once, and the caller's data stay as they were.
  std::shared_ptr<FloatArray> owned;
  std::string name;  // in messages: the file's path, or what the caller calls the array
  nlohmann::json input = nlohmann::json::object();  // the record's inputs entry for it

  static Descriptors from_array(FloatArray a, std::string name, nlohmann::json input);
};

// How both sides are compared: the options eval, run, search and explain share.
struct PairOptions {
  Similarity similarity = Similarity::kAuto;
  bool l2_normalize = false;
  postprocess::Spec postprocess;
  metrics::RerankSpec rerank;  // empty = none (search takes none)
  int threads = 0;
};

// Both sides ready to be scored.
struct PreparedPair {
  Descriptors q, db;  // as scored (their views into the changed copies, if changed)
  bool split = false;      // scored by split-product
  bool normalized = false; // rows were L2-normalised
  postprocess::Applied postprocess;
  double rerank_seconds = 0;
};

// Checks that the shapes match, then post-processes, normalises and re-ranks as eval does
// (docs: `repbench eval --help`); errors name q.name / db.name. When q and db are the same data
// (a leave-in set's one file or array) and only normalisation changes them, they stay one array.
PreparedPair prepare_pair(Descriptors q, Descriptors db, const PairOptions& o);

// A prepared pair and its scores [q rows x db rows].
struct ScoredPair {
  PreparedPair pair;
  std::unique_ptr<metrics::ScoreSource> scores;
  double scores_seconds = 0;  // the scores' own time (a leave-in set's SYRK runs here)
};
ScoredPair score_pair(Descriptors q, Descriptors db, const PairOptions& o,
                      metrics::ScoreUse use = metrics::ScoreUse::kEveryRow);

// The options a record (records/record.h) was scored with: its similarity, options.l2_normalize,
// options.postprocess and options.rerank. The chain is trained on `files.train_file`, else on
// the record's inputs.postprocess_train (the file must have the record's train_sha256), and kept
// in `files.cache_dir` ("" = the default); `files.chain` is not used. Throws Error naming
// `record_path` when the record lacks what it needs.
PairOptions record_pair_options(const nlohmann::json& record, const std::string& record_path,
                                const postprocess::Spec& files = {});

}  // namespace repbench::evaluation
