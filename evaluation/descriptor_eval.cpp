#include "evaluation/descriptor_eval.h"

#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"
#include "core/sha256.h"
#include "datasets/set_inputs.h"
#include "datasets/set_registry.h"
#include "metrics/descriptor_scores.h"

namespace fs = std::filesystem;

namespace repbench::evaluation {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The array a step may change: the caller's data are copied once first.
FloatArray& writable(Descriptors& d) {
  if (!d.owned) {
    auto a = std::make_shared<FloatArray>();
    a->shape = d.view.shape;
    a->data.assign(d.view.data, d.view.data + d.view.rows() * d.view.row_size());
    d.owned = std::move(a);
  }
  d.view = *d.owned;
  return *d.owned;
}

// The steps replace an array's values (post-processing changes its row size): views follow.
void refresh(Descriptors& d) {
  if (d.owned) d.view = *d.owned;
}

// Gives `db` its own array when it shares one with `q` (both sides change separately).
void separate(const Descriptors& q, Descriptors& db) {
  if (db.view.data != q.view.data) return;
  db.owned.reset();
  writable(db);
}

}  // namespace

Descriptors Descriptors::from_array(FloatArray a, std::string name, nlohmann::json input) {
  Descriptors d;
  d.owned = std::make_shared<FloatArray>(std::move(a));
  d.view = *d.owned;
  d.name = std::move(name);
  d.input = std::move(input);
  return d;
}

nlohmann::json file_input(const std::string& path) {
  return {{"path", path}, {"sha256", sha256_file(path)}};
}

nlohmann::json array_input(const void* data, size_t bytes, const std::string& description) {
  return {{"array", description},
          {"sha256", sha256_hex(std::string_view(static_cast<const char*>(data), bytes))}};
}

void check_similarity(const std::string& similarity) {
  if (similarity != "auto" && similarity != "inner-product" && similarity != "split-product")
    fail("--similarity '{}' is not known; expected auto, inner-product or split-product",
         similarity);
}

PreparedPair prepare_pair(Descriptors q, Descriptors db, const PairOptions& o) {
  const FloatView& qv = q.view;
  const FloatView& dv = db.view;
  if (qv.shape.size() != dv.shape.size() || qv.row_size() != dv.row_size() ||
      (qv.shape.size() == 3 && qv.shape[1] != dv.shape[1]))
    fail("{}: descriptors of shape [{}] do not match {} of shape [{}]", q.name,
         fmt::join(qv.shape, ", "), db.name, fmt::join(dv.shape, ", "));
  PreparedPair p;
  // Post-processing first (the chain decides its own normalisation: SSCD's ends in L2norm).
  if (!o.postprocess.chain.empty() || !o.postprocess.train_file.empty()) {
    separate(q, db);
    p.postprocess = postprocess::apply_to_both(o.postprocess, writable(q), q.name, writable(db),
                                               db.name);
    refresh(q);
    refresh(db);
  }
  const bool tokens = q.view.shape.size() == 3;
  if (o.similarity == "split-product" && !tokens)
    fail("{}: split-product needs token descriptors [n, tokens, dim]; found [{}]", q.name,
         fmt::join(q.view.shape, ", "));
  if (!o.rerank.empty() && tokens)
    fail("{}: --rerank needs embeddings [n, d]; found [{}]", q.name,
         fmt::join(q.view.shape, ", "));
  // Token outputs are scored by split-product unless inner-product is asked for (then the
  // flattened vectors are compared).
  p.split = tokens && o.similarity != "inner-product";
  // Re-ranking is defined on cosine similarities, so it normalises too; split-product
  // normalises the flattened vector, always.
  p.normalized = o.l2_normalize || p.split || !o.rerank.empty();
  if (p.normalized) {
    const bool same = db.view.data == q.view.data && db.view.shape == q.view.shape;
    l2_normalize_rows(writable(q));
    refresh(q);
    if (same) {
      db.owned = q.owned;
      db.view = q.view;
    } else {
      l2_normalize_rows(writable(db));
      refresh(db);
    }
  }
  if (!o.rerank.empty()) {
    separate(q, db);
    const auto t = std::chrono::steady_clock::now();
    metrics::apply_rerank(o.rerank, writable(q), writable(db), o.threads);
    refresh(q);
    refresh(db);
    p.rerank_seconds = seconds_since(t);
  }
  // Scores that overflow float32 would be ranked silently as infinities.
  check_scores_finite(q.view, q.name, db.view, db.name);
  p.q = std::move(q);
  p.db = std::move(db);
  return p;
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
  if (!r.ap.empty()) datasets::parse_ap_kind(r.ap, "--ap");  // before any file is read
  check_similarity(r.similarity);
  s.rerank = r.rerank.empty() ? metrics::RerankSpec{} : metrics::parse_rerank(r.rerank);
  r.copy_detection.Check();
  // All protocols share the image lists, so descriptors are read and checked once.
  s.first = datasets::load_set({r.set, s.protocols.front(), r.root, r.gnd});
  if (s.protocols.front().empty()) s.protocols.front() = s.first.protocol;
  // The set's own metric (its official evaluator's), with --ap overriding the AP definition.
  s.metric = datasets::with_ap_override(s.first.metric, r.ap, "--ap");
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
  d.pair = prepare_pair(std::move(q), std::move(db), po);
  const PreparedPair& p = d.pair;
  report::RecordHeader& header = d.header;
  header.model = {{"name", r.model}, {"category", r.category}};
  header.similarity = p.split ? "split-product" : "inner-product";
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
  header.timings["load_seconds"] = seconds_since(setup.start);

  // A leave-in set's n x n scores come from SYRK here, before evaluate(): timed apart.
  const auto t_scores = std::chrono::steady_clock::now();
  const std::unique_ptr<metrics::ScoreSource> scores = metrics::descriptor_scores(
      p.q.view, p.db.view, p.split, metrics::ScoreUse::kEveryRow, r.threads);
  header.timings["scores_seconds"] = seconds_since(t_scores);

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
    pe.evaluation = evaluate_set(pe.set, *scores, p.q.view, p.split, so);
    d.protocols.push_back(std::move(pe));
  }
  return d;
}

void DescriptorEvaluation::write_record(size_t i, const std::string& path) const {
  const ProtocolEvaluation& pe = protocols.at(i);
  report::RecordHeader h = header;
  h.set = pe.set.name;
  h.protocol = pe.set.protocol;
  report::write_eval_record(path, make_set_record(h, pe.evaluation, pe.set, path),
                            query_results(pe.evaluation));
}

void SearchRequest::Check() const {
  if (k < 1) fail("-k must be at least 1; got {}", k);
  check_similarity(pair.similarity);
}

}  // namespace repbench::evaluation
