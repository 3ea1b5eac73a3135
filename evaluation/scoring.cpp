#include "evaluation/scoring.h"

#include <chrono>

#include <fmt/format.h>

#include "core/descriptors.h"
#include "core/elapsed.h"
#include "core/error.h"
#include "core/sha256.h"

namespace repbench::evaluation {

namespace {

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

Similarity parse_similarity(const std::string& text, const std::string& what) {
  if (text == "auto") return Similarity::kAuto;
  if (text == "inner-product") return Similarity::kInnerProduct;
  if (text == "split-product") return Similarity::kSplitProduct;
  fail("{} '{}' is not known; expected auto, inner-product or split-product", what, text);
}

const char* similarity_name(Similarity s) {
  switch (s) {
    case Similarity::kInnerProduct:
      return "inner-product";
    case Similarity::kSplitProduct:
      return "split-product";
    case Similarity::kAuto:
      break;
  }
  return "auto";
}

Descriptors Descriptors::from_array(FloatArray a, std::string name, nlohmann::json input) {
  Descriptors d;
  d.owned = std::make_shared<FloatArray>(std::move(a));
  d.view = *d.owned;
  d.name = std::move(name);
  d.input = std::move(input);
  return d;
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
  if (o.similarity == Similarity::kSplitProduct && !tokens)
    fail("{}: split-product needs token descriptors [n, tokens, dim]; found [{}]", q.name,
         fmt::join(q.view.shape, ", "));
  if (!o.rerank.empty() && tokens)
    fail("{}: --rerank needs embeddings [n, d]; found [{}]", q.name,
         fmt::join(q.view.shape, ", "));
  // Token outputs are scored by split-product unless inner-product is asked for (then the
  // flattened vectors are compared).
  p.split = tokens && o.similarity != Similarity::kInnerProduct;
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
    p.rerank_seconds =
        seconds_since(t);
  }
  // Scores that overflow float32 would be ranked silently as infinities.
  check_scores_finite(q.view, q.name, db.view, db.name);
  p.q = std::move(q);
  p.db = std::move(db);
  return p;
}

ScoredPair score_pair(Descriptors q, Descriptors db, const PairOptions& o, metrics::ScoreUse use) {
  ScoredPair s;
  s.pair = prepare_pair(std::move(q), std::move(db), o);
  const auto t = std::chrono::steady_clock::now();
  s.scores = metrics::descriptor_scores(s.pair.q.view, s.pair.db.view, s.pair.split, use, o.threads);
  s.scores_seconds = seconds_since(t);
  return s;
}

PairOptions record_pair_options(const nlohmann::json& record, const std::string& record_path,
                                const postprocess::Spec& files) {
  static const nlohmann::json kNone;
  auto at = [](const nlohmann::json& obj, const char* key) -> const nlohmann::json& {
    return obj.is_object() && obj.contains(key) ? obj.at(key) : kNone;
  };
  auto text = [&](const nlohmann::json& v, const std::string& what) {
    if (!v.is_string()) fail("{}: '{}' is not a string (found {})", record_path, what, v.dump());
    return v.get<std::string>();
  };
  PairOptions o;
  const nlohmann::json& similarity = at(record, "similarity");
  if (!similarity.is_null())
    o.similarity = parse_similarity(text(similarity, "similarity"), record_path + ": similarity");
  const nlohmann::json& options = at(record, "options");
  const nlohmann::json& l2 = at(options, "l2_normalize");
  o.l2_normalize = l2.is_boolean() && l2.get<bool>();
  const nlohmann::json& rerank = at(options, "rerank");
  if (!rerank.is_null()) o.rerank = metrics::parse_rerank(text(rerank, "options.rerank"));
  const nlohmann::json& post = at(options, "postprocess");
  if (!post.is_null()) {
    o.postprocess.chain = text(at(post, "chain"), "options.postprocess.chain");
    const std::string want = text(at(post, "train_sha256"), "options.postprocess.train_sha256");
    o.postprocess.train_file = files.train_file;
    o.postprocess.cache_dir = files.cache_dir;
    if (o.postprocess.train_file.empty()) {
      const nlohmann::json& path = at(at(at(record, "inputs"), "postprocess_train"), "path");
      if (!path.is_string())
        fail("{}: post-processed ({}) with a training file the record does not name; give "
             "--postprocess-train",
             record_path, o.postprocess.chain);
      o.postprocess.train_file = path.get<std::string>();
    }
    if (sha256_file(o.postprocess.train_file) != want)
      fail("{}: not the post-processing training file {} was scored with (its "
           "options.postprocess.train_sha256 is another)",
           o.postprocess.train_file, record_path);
  }
  return o;
}

}  // namespace repbench::evaluation
