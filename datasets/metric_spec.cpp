#include "datasets/metric_spec.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"

namespace repbench::datasets {

namespace {

using nlohmann::json;

const char* recall_kind_name(metrics::RecallKind k) {
  return k == metrics::RecallKind::kHit ? "hit" : "fraction";
}

std::vector<int> positive_ints(const json& v, const std::string& what) {
  if (!v.is_array()) fail("{} is {}, expected an array of positive integers", what, v.dump());
  std::vector<int> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number_integer() || v[i].get<int64_t>() < 1 || v[i].get<int64_t>() > 1000000)
      fail("{}[{}] = {} is not a positive integer", what, i, v[i].dump());
    out.push_back(v[i].get<int>());
  }
  return out;
}

std::string text(const json& v, const std::string& what) {
  if (!v.is_string()) fail("{} is {}, expected a string", what, v.dump());
  return v.get<std::string>();
}

}  // namespace

metrics::ApKind parse_ap_kind(const std::string& name, const std::string& what) {
  if (name == "trapezoid") return metrics::ApKind::kTrapezoid;
  if (name == "non-interpolated") return metrics::ApKind::kNonInterpolated;
  fail("{} '{}' is not known; expected trapezoid or non-interpolated", what, name);
}

const char* ap_kind_name(metrics::ApKind kind) {
  return kind == metrics::ApKind::kTrapezoid ? "trapezoid" : "non-interpolated";
}

json MetricSpec::to_json() const {
  json j = {{"name", name},
          {"ap", ap_kind_name(ap)},
          {"mp_ks", mp_ks},
          {"recall_ks", recall_ks},
          {"recall", recall_kind_name(recall)},
          {"recall_empty_queries", recall_empty_is_miss ? "miss" : "excluded"},
          {"mrr", mrr},
          {"self_match", self_match},
          {"queries", queries},
          {"source", source},
          {"ap_from", ap_from},
          {"summary", summary()}};
  if (copy_detection)
    j["copy_detection"] = {{"micro_ap", copy_detection->micro_ap == metrics::MicroApKind::kIsc2021 ? "isc2021" : "trapezoid"},
                           {"k", copy_detection->k},
                           {"ids", copy_detection->stem_ids ? "stem" : "path"},
                           {"source", copy_detection->source}};
  return j;
}

std::string MetricSpec::summary() const {
  std::string s;
  if (copy_detection)
    s = fmt::format("\u00b5AP ({} AP over the top-{} predictions of every query, pooled; {}); ",
                    copy_detection->micro_ap == metrics::MicroApKind::kIsc2021
                        ? "isc2021 step"
                        : "trapezoid",
                    copy_detection->k, copy_detection->source);
  s += fmt::format("mAP with {} AP", ap_kind_name(ap));
  if (!recall_ks.empty())
    s += fmt::format(", Recall@{} ({}{})", fmt::join(recall_ks, "/"),
                     recall == metrics::RecallKind::kHit ? "a positive within K"
                                                         : "share of positives within K",
                     recall_empty_is_miss ? "; a query without positive is a miss" : "");
  if (mrr) s += ", MRR";
  s += source.empty() ? fmt::format(" ({})", name) : fmt::format(" ({}; {})", name, source);
  if (ap_from == "override") s += "; AP kind overridden";
  return s;
}

MetricSpec metric_from_json(const json& j, const std::string& where) {
  const std::string w = where + ": metric";
  if (!j.is_object()) fail("{} is {}, expected an object", w, j.dump());
  static const std::vector<std::string> kKeys = {
      "name", "ap", "mp_ks", "recall_ks", "recall", "recall_empty_queries",
      "mrr", "self_match", "queries", "source", "ap_from", "summary", "copy_detection"};
  for (const auto& [key, value] : j.items())
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end())
      fail("{} has an unknown key '{}'", w, key);
  // "summary" is derived from the other keys (to_json writes it for readers); it is not read.
  if (!j.contains("ap")) fail("{} has no \"ap\" (trapezoid or non-interpolated)", w);
  MetricSpec m;
  m.name = "gnd.json";
  m.source = "";
  m.ap = parse_ap_kind(text(j.at("ap"), w + ".ap"), w + ".ap");
  if (j.contains("name")) m.name = text(j.at("name"), w + ".name");
  if (j.contains("mp_ks")) m.mp_ks = positive_ints(j.at("mp_ks"), w + ".mp_ks");
  if (j.contains("recall_ks")) m.recall_ks = positive_ints(j.at("recall_ks"), w + ".recall_ks");
  if (j.contains("recall")) {
    const std::string r = text(j.at("recall"), w + ".recall");
    if (r != "hit" && r != "fraction") fail("{}.recall '{}' is not hit or fraction", w, r);
    m.recall = r == "hit" ? metrics::RecallKind::kHit : metrics::RecallKind::kFraction;
  }
  if (j.contains("recall_empty_queries")) {
    const std::string r = text(j.at("recall_empty_queries"), w + ".recall_empty_queries");
    if (r != "miss" && r != "excluded")
      fail("{}.recall_empty_queries '{}' is not miss or excluded", w, r);
    m.recall_empty_is_miss = r == "miss";
  }
  if (j.contains("mrr")) {
    if (!j.at("mrr").is_boolean()) fail("{}.mrr is {}, expected true or false", w, j.at("mrr").dump());
    m.mrr = j.at("mrr").get<bool>();
  }
  if (j.contains("self_match")) m.self_match = text(j.at("self_match"), w + ".self_match");
  if (j.contains("queries")) m.queries = text(j.at("queries"), w + ".queries");
  if (j.contains("source")) m.source = text(j.at("source"), w + ".source");
  if (j.contains("ap_from")) {
    m.ap_from = text(j.at("ap_from"), w + ".ap_from");
    if (m.ap_from != "set" && m.ap_from != "override")
      fail("{}.ap_from '{}' is not set or override", w, m.ap_from);
  }
  if (j.contains("copy_detection")) {
    const json& c = j.at("copy_detection");
    const std::string wc = w + ".copy_detection";
    if (!c.is_object()) fail("{} is {}, expected an object", wc, c.dump());
    for (const auto& [key, value] : c.items())
      if (key != "micro_ap" && key != "k" && key != "ids" && key != "source")
        fail("{} has an unknown key '{}'", wc, key);
    CopyDetectionMetric cd;
    const std::string kind = c.contains("micro_ap") ? text(c.at("micro_ap"), wc + ".micro_ap")
                                                    : "isc2021";
    if (kind != "isc2021" && kind != "trapezoid")
      fail("{}.micro_ap '{}' is not isc2021 or trapezoid", wc, kind);
    cd.micro_ap = kind == "isc2021" ? metrics::MicroApKind::kIsc2021
                                    : metrics::MicroApKind::kTrapezoid;
    if (c.contains("k")) cd.k = positive_ints(json::array({c.at("k")}), wc + ".k")[0];
    const std::string ids = c.contains("ids") ? text(c.at("ids"), wc + ".ids") : "stem";
    if (ids != "stem" && ids != "path") fail("{}.ids '{}' is not stem or path", wc, ids);
    cd.stem_ids = ids == "stem";
    if (c.contains("source")) cd.source = text(c.at("source"), wc + ".source");
    m.copy_detection = cd;
  }
  return m;
}

MetricSpec with_ap_override(MetricSpec spec, std::optional<metrics::ApKind> ap) {
  if (ap && *ap != spec.ap) {
    spec.ap = *ap;
    spec.ap_from = "override";
  }
  return spec;
}

MetricSpec revisitop_metric(const std::string& source_note) {
  MetricSpec m;
  m.name = "revisitop compute_map";
  m.ap = metrics::ApKind::kTrapezoid;
  m.self_match = "queries are not database images";
  m.queries = "queries with no positive under the protocol are left out of every mean";
  m.source = "filipradenovic/revisitop python/evaluate.py compute_map" + source_note;
  return m;
}

MetricSpec gpr1200_metric() {
  MetricSpec m;
  m.name = "GPR1200 mAP";
  m.ap = metrics::ApKind::kNonInterpolated;
  m.self_match =
      "every image queries all images including itself; the self-match is one of its positives";
  m.queries =
      "every image; mAP over all and over each of the six subsets (2,000 images, 200 categories, "
      "in category order); mP@k is repbench's addition";
  m.source =
      "Visual-Computing/GPR1200 eval/utils.py get_average_precision_score (hits so far / rank, "
      "summed over the positives, over the number of positives) and eval/GPR1200.py evaluate";
  return m;
}

MetricSpec dml_recall_metric() {
  MetricSpec m;
  m.name = "deep-metric-learning Recall@K";
  m.ap = metrics::ApKind::kNonInterpolated;
  m.recall_ks = {1, 2, 4, 8};
  m.recall = metrics::RecallKind::kHit;
  m.recall_empty_is_miss = true;
  m.self_match = "the query's own image is left out of its ranking";
  m.queries =
      "every test image; Recall@K over all of them (a query whose class has no other image is a "
      "miss); mAP (mean precision at each positive, repbench's addition) over queries with a "
      "positive";
  m.source =
      "Recall@K as deep-metric-learning code computes it, e.g. tjddus9597/Proxy-Anchor-CVPR2020 "
      "code/utils.py calc_recall_at_k (a hit when one of the K nearest other images shares the "
      "query's class, divided by the number of queries)";
  return m;
}

MetricSpec dcr_metric(const std::string& note) {
  MetricSpec m;
  m.name = "DCR compute_map";
  m.ap = metrics::ApKind::kTrapezoid;
  m.recall_ks = {1, 5, 10};
  m.recall = metrics::RecallKind::kFraction;
  m.recall_empty_is_miss = false;
  m.mrr = true;
  m.self_match = "queries are not database images";
  m.queries =
      "mAP, mP@k and recall@k over queries with a positive; MRR (first positive's raw rank, "
      "before junk removal) divided by all queries";
  m.source = "somepago/DCR utils_ret.py compute_map, ks = 1, 5, 10 as hsouri/bob-retrieval "
             "retrieval/main_ret.py calls it" + note;
  return m;
}

namespace {

// A copy-detection set's metric: micro-AP of `kind` over the top-k predictions of every query,
// and beside it mAP (non-interpolated) and mP@1/10 over the queries with a copy.
MetricSpec copy_detection_metric(const std::string& name, metrics::MicroApKind kind, int k,
                                 bool stem_ids, const std::string& self_match,
                                 const std::string& queries, const std::string& source,
                                 const std::string& predictions_source) {
  MetricSpec m;
  m.name = name;
  m.ap = metrics::ApKind::kNonInterpolated;
  m.mp_ks = {1, 10};
  m.self_match = self_match;
  m.queries = queries;
  m.source = source;
  m.copy_detection = CopyDetectionMetric{
      kind, k, stem_ids, fmt::format("{}, k = {} as {}", source, k, predictions_source)};
  return m;
}

}  // namespace

MetricSpec disc21_metric() {
  return copy_detection_metric(
      "DISC21 micro-AP", metrics::MicroApKind::kIsc2021, 10, true,
      "queries are not reference images",
      "\u00b5AP pools the predictions of every query (a query without a match only adds incorrect "
      "predictions) over the number of ground-truth pairs; mAP and mP@k (repbench's addition) "
      "over queries with a match",
      "facebookresearch/isc2021 isc/metrics.py evaluate",
      "facebookresearch/sscd-copy-detection sscd/datasets/disc.py knn_match_and_make_predictions");
}

MetricSpec copydays_metric() {
  return copy_detection_metric(
      "Copydays overall uAP", metrics::MicroApKind::kTrapezoid, 100, false,
      "the originals are both queries and database images (each finds itself)",
      "\u00b5AP pools the top-100 predictions of all 3,212 queries of the 20 blocks over the "
      "number of ground-truth pairs; mAP and mP@k (repbench's addition) over queries with an "
      "original",
      "facebookresearch/sscd-copy-detection sscd/datasets/copydays.py score_macro_AP",
      "sscd/copydays_eval.py evaluate");
}

}  // namespace repbench::datasets
