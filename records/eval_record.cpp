#include "records/eval_record.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/commit_group.h"
#include "core/error.h"
#include "core/npy.h"
#include "records/per_query.h"
#include "records/record.h"
#include "records/record_envelope.h"

namespace fs = std::filesystem;

namespace repbench::records {

namespace {

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nullptr; }

nlohmann::json base_record(const RecordHeader& h) {
  nlohmann::json rec = record_envelope(kRecordSchema, h.timings);
  rec["model"] = h.model;
  rec["set"] = h.set;
  rec["protocol"] = h.protocol;
  rec["dataset"] = dataset_label(h.set, h.protocol);
  rec["similarity"] = h.similarity;
  rec["inputs"] = h.inputs;
  rec["options"] = h.options;
  rec["seed"] = h.seed;
  return rec;
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
  const std::vector<metrics::GroupMean> groups = metrics::mean_by_group(r.ap, query_groups);
  if (!groups.empty()) {
    nlohmann::json by_group = nlohmann::json::array();
    for (const metrics::GroupMean& g : groups)
      by_group.push_back(
          {{"group", g.group}, {"map", number_or_null(g.mean)}, {"queries", g.members}});
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

void write_eval_record(const std::string& path, nlohmann::json record, const QueryResults& q) {
  REPBENCH_ASSERT(q.result && q.options && q.images && q.ok && q.junk);
  const metrics::EvalResult& r = *q.result;
  const metrics::EvalOptions& opt = *q.options;
  const std::vector<std::string>& images = *q.images;
  const int64_t nq = static_cast<int64_t>(r.ap.size());
  if (static_cast<int64_t>(images.size()) != nq)
    fail("{}: {} queries scored but {} query images named", path, nq, images.size());
  if (r.top_k <= 0 && nq > 0)
    fail("{}: the evaluation kept no top ids (EvalOptions::top_k is 0)", path);
  // Widest id: int32 holds every id of a database below 2^31 images (and -1 for "none").
  int64_t widest = -1;
  for (int64_t id : r.top_ids) widest = std::max(widest, id);
  const std::string top_path = top_ids_path(path);
  CommitGroup files;  // the top ids and the record become visible together (core/commit_group.h)
  const std::vector<int64_t> shape = {nq, r.top_k};
  if (widest < std::numeric_limits<int32_t>::max()) {
    std::vector<int32_t> narrow(r.top_ids.begin(), r.top_ids.end());
    write_npy(top_path, narrow.data(), shape);
  } else {
    write_npy(top_path, r.top_ids.data(), shape);
  }

  nlohmann::json block = nlohmann::json::object();
  block["images"] = images;
  auto column = [&](auto value_of) {
    nlohmann::json a = nlohmann::json::array();
    for (int64_t i = 0; i < nq; ++i) a.push_back(number_or_null(value_of(i)));
    return a;
  };
  block["ap"] = column([&](int64_t j) { return r.ap[j]; });
  for (size_t i = 0; i < opt.ks.size(); ++i)
    block[fmt::format("p@{}", opt.ks[i])] =
        column([&](int64_t j) { return r.precision_at_k[j][i]; });
  for (size_t i = 0; i < opt.recall_ks.size(); ++i)
    block[fmt::format("recall@{}", opt.recall_ks[i])] =
        column([&](int64_t j) { return r.recall_at_k[j][i]; });
  block["queries_sha256"] = queries_sha256(images, *q.ok, *q.junk);
  block["top_ids"] = {{"file", fs::path(top_path).filename().string()}, {"k", r.top_k}};
  record["per_query"] = std::move(block);
  write_record(path, record);
  files.commit();
}

}  // namespace repbench::records
