#include "report/eval_record.h"

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "report/record.h"

namespace repbench::report {

namespace {

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nullptr; }

nlohmann::json base_record(const RecordHeader& h) {
  return {{"schema", kRecordSchema},
          {"model", h.model},
          {"set", h.set},
          {"protocol", h.protocol},
          {"dataset", dataset_label(h.set, h.protocol)},
          {"similarity", h.similarity},
          {"inputs", h.inputs},
          {"options", h.options},
          {"timings", h.timings},
          {"seed", h.seed},
          {"context", record_context()}};
}

}  // namespace

nlohmann::json eval_metrics_json(const metrics::EvalResult& r, const metrics::EvalOptions& opt,
                                 const std::vector<std::string>& query_groups) {
  nlohmann::json m = {{"map", number_or_null(r.map)},
                      {"map_ci95", {number_or_null(r.map_ci_low), number_or_null(r.map_ci_high)}},
                      {"queries_scored", r.queries_scored},
                      {"queries_empty", r.queries_empty}};
  for (size_t i = 0; i < opt.ks.size(); ++i)
    m[fmt::format("mp@{}", opt.ks[i])] = number_or_null(r.mp_at_k[i]);
  for (size_t i = 0; i < opt.recall_ks.size(); ++i)
    m[fmt::format("recall@{}", opt.recall_ks[i])] = number_or_null(r.mrecall_at_k[i]);
  if (opt.mrr) m["mrr"] = number_or_null(r.mrr);
  std::vector<std::string> order;
  std::map<std::string, std::vector<int64_t>> members;
  for (size_t i = 0; i < query_groups.size(); ++i) {
    const std::string& g = query_groups[i];
    if (g.empty()) continue;
    if (!members.count(g)) order.push_back(g);
    members[g].push_back(static_cast<int64_t>(i));
  }
  if (!order.empty()) {
    nlohmann::json by_group = nlohmann::json::array();
    for (const auto& g : order)
      by_group.push_back({{"group", g},
                          {"map", number_or_null(metrics::mean_ignoring_nan(r.ap, &members[g]))},
                          {"queries", members[g].size()}});
    m["map_by_group"] = by_group;
  }
  return m;
}

nlohmann::json make_eval_record(const RecordHeader& header, const nlohmann::json& metrics_block) {
  nlohmann::json rec = base_record(header);
  rec["status"] = "ok";
  rec["metrics"] = metrics_block;
  return rec;
}

nlohmann::json make_skipped_record(const RecordHeader& header, const std::string& reason) {
  nlohmann::json rec = base_record(header);
  rec["status"] = "skipped";
  rec["skipped_reason"] = reason;
  rec["metrics"] = nlohmann::json::object();
  return rec;
}

}  // namespace repbench::report
