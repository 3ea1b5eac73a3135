#include "evaluation/descriptor_eval.h"

#include <filesystem>

#include <fmt/format.h>

#include "core/elapsed.h"
#include "core/error.h"
#include "core/sha256.h"
#include "datasets/set_inputs.h"
#include "datasets/set_registry.h"

namespace fs = std::filesystem;

namespace repbench::evaluation {

nlohmann::json file_input(const std::string& path) {
  return {{"path", path}, {"sha256", sha256_file(path)}};
}

nlohmann::json array_input(const void* data, size_t bytes, const std::string& description) {
  return {{"array", description},
          {"sha256", sha256_hex(std::string_view(static_cast<const char*>(data), bytes))}};
}

DescriptorExpectation EvalSetup::queries() const {
  return {static_cast<int64_t>(first.queries.size()), "queries of " + first.name, true};
}

DescriptorExpectation EvalSetup::database() const {
  return {static_cast<int64_t>(first.db.size()), "database of " + first.name, true};
}

EvalSetup setup_evaluation(const DescriptorEvalRequest& r) {
  EvalSetup s;
  s.start = std::chrono::steady_clock::now();
  if (r.protocol == "all") {
    s.protocols = datasets::protocols_for(r.set);
  } else {
    s.protocols.push_back(r.protocol);
  }
  s.rerank = r.rerank.empty() ? metrics::RerankSpec{} : metrics::parse_rerank(r.rerank);
  r.copy_detection.Check();
  // All protocols share the image lists, so descriptors are read and checked once.
  s.first = datasets::load_set({r.set, s.protocols.front(), r.root, r.gnd});
  if (s.protocols.front().empty()) s.protocols.front() = s.first.protocol;
  // The set's own metric (its official evaluator's), with --ap overriding the AP definition.
  s.metric = datasets::with_ap_override(s.first.metric, r.ap);
  if (!s.metric.copy_detection && !r.copy_detection.score_norm_train.empty())
    fail("--score-norm-train applies to copy-detection sets (disc21, copydays); {} is scored by "
         "mAP",
         s.first.name);
  return s;
}

DescriptorEvaluation evaluate_descriptors(const DescriptorEvalRequest& r, const EvalSetup& setup,
                                          Descriptors q, Descriptors db) {
  DescriptorEvaluation d;
  PairOptions po;
  po.similarity = r.similarity;
  po.l2_normalize = r.l2_normalize;
  po.postprocess = r.postprocess;
  po.rerank = setup.rerank;
  po.threads = r.threads;
  ScoredPair scored = score_pair(std::move(q), std::move(db), po);
  d.pair = std::move(scored.pair);
  const PreparedPair& p = d.pair;
  records::RecordHeader& header = d.header;
  header.model = {{"name", r.model}, {"category", r.category}};
  header.similarity = scored_similarity_name(p.split);
  header.inputs = {{"query_features", p.q.input},
                   {"db_features", p.db.input},
                   {"ground_truth", datasets::ground_truth_input(setup.first)}};
  header.options = {{"l2_normalize", p.normalized},
                    {"query_crop", setup.first.crop_queries && !r.no_query_crop}};
  if (!p.postprocess.options.is_null()) {
    header.options["postprocess"] = p.postprocess.options;
    header.inputs["postprocess_train"] = file_input(r.postprocess.train_file);
    header.timings["postprocess_from_cache"] = p.postprocess.from_cache;
  }
  if (!setup.rerank.empty()) {
    header.options["rerank"] = setup.rerank.to_string();
    header.timings["rerank_seconds"] = p.rerank_seconds;
  }
  header.seed = r.seed;
  // A leave-in set's n x n scores come from SYRK in score_pair, before evaluate(): timed apart.
  header.timings["load_seconds"] = seconds_since(setup.start) - scored.scores_seconds;
  header.timings["scores_seconds"] = scored.scores_seconds;
  const metrics::ScoreSource& scores = *scored.scores;

  SetEvalOptions so;
  so.bootstrap = r.bootstrap;
  so.seed = r.seed;
  so.threads = r.threads;
  so.ap = r.ap;
  so.interrupt_check = r.interrupt_check;
  so.copy_detection = r.copy_detection;
  so.copy_detection.threads = r.threads;
  so.copy_detection.l2_normalize_train = p.normalized;
  if (!r.postprocess.chain.empty())  // the same trained chain (from the cache) as q and db
    so.copy_detection.transform_train = [spec = r.postprocess](FloatArray& train,
                                                               const std::string& name) {
      postprocess::Postprocessor::prepare(
          spec.chain, spec.train_file,
          spec.cache_dir.empty() ? postprocess::default_cache_dir() : spec.cache_dir,
          train.row_size())
          .apply(train, name);
    };
  for (const std::string& protocol : setup.protocols) {
    ProtocolEvaluation pe;
    pe.set = protocol == setup.first.protocol
                 ? setup.first
                 : datasets::load_set({r.set, protocol, r.root, r.gnd});
    pe.evaluation = evaluate_set(pe.set, scores, p.q.view, p.split, so);
    d.protocols.push_back(std::move(pe));
  }
  return d;
}

void DescriptorEvaluation::write_record(size_t i, const std::string& path) const {
  const ProtocolEvaluation& pe = protocols.at(i);
  records::RecordHeader h = header;
  h.set = pe.set.name;
  h.protocol = pe.set.protocol;
  records::write_eval_record(path, make_set_record(h, pe.evaluation, pe.set, path),
                             query_results(pe.evaluation));
}

void SearchRequest::Check() const {
  if (k < 1) fail("-k must be at least 1; got {}", k);
}

}  // namespace repbench::evaluation
