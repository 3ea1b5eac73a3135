#include "app/eval_summary.h"

#include <fmt/format.h>

#include "metrics/evaluate.h"
#include "postprocess/postprocess.h"

namespace repbench::app {

void print_eval_header(const evaluation::DescriptorEvalRequest& request,
                       const evaluation::EvalSetup& setup,
                       const evaluation::DescriptorEvaluation& evaluation) {
  const evaluation::PreparedPair& p = evaluation.pair;
  const datasets::RetrievalSet& first = setup.first;
  fmt::print("{} — model {} — {} queries, {} database images, {} {}\n", first.name, request.model,
             first.queries.size(), first.db.size(),
             p.split ? fmt::format("{} tokens x {}", p.q.view.shape[1], p.q.view.shape[2])
                     : fmt::format("d = {}", p.q.view.row_size()),
             evaluation.header.similarity);
  fmt::print("metric: {}\n", setup.metric.summary());
  if (!p.postprocess.options.is_null())
    fmt::print("{}\n", postprocess::describe(request.postprocess, p.postprocess));
  if (!setup.rerank.empty()) fmt::print("rerank: {}\n", setup.rerank.to_string());
  std::string mp_header;
  metrics::EvalOptions columns;  // the mP@k cut-offs of the set's metric
  metrics::apply_metric(setup.metric, columns);
  for (int k : columns.ks) mp_header += fmt::format(" {:>7}", fmt::format("mP@{}", k));
  fmt::print("{:<10} {:>7} {:>17}{} {:>8}\n", "protocol", "mAP", "95% CI", mp_header, "queries");
}

void print_eval_protocol(const std::string& protocol, const evaluation::SetEvaluation& e) {
  const metrics::EvalResult& res = e.result;
  const nlohmann::json& m = e.metrics;
  std::string mp;
  for (double v : res.mp_at_k) mp += fmt::format(" {:>7.2f}", 100 * v);
  fmt::print("{:<10} {:>7.2f} {:>17}{} {:>8}\n", protocol, 100 * res.map,
             fmt::format("[{:.2f}, {:.2f}]", 100 * res.map_ci_low, 100 * res.map_ci_high), mp,
             res.queries_scored);
  if (m.contains("map_by_group"))
    for (const auto& g : m["map_by_group"])
      fmt::print("  {:<16} mAP {:>6.2f}  ({} queries)\n", g["group"].get<std::string>(),
                 100 * g["map"].get<double>(), g["queries"].get<int64_t>());
  for (size_t j = 0; j < e.options.recall_ks.size(); ++j)
    fmt::print("  Recall@{:<2} {:>6.2f}\n", e.options.recall_ks[j], 100 * res.mrecall_at_k[j]);
  if (e.options.mrr) fmt::print("  MRR       {:>6.2f}\n", 100 * res.mrr);
  if (e.copy_detection) fmt::print("{}", e.copy_detection->summary);
}

}  // namespace repbench::app
