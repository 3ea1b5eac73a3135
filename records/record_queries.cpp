#include "records/record_queries.h"

#include <cmath>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "core/error.h"
#include "core/npy.h"
#include "records/per_query.h"
#include "records/record.h"

namespace fs = std::filesystem;

namespace repbench::records {

std::string set_queries_sha256(const datasets::RetrievalSet& set) {
  std::vector<std::string> images;
  for (const datasets::Query& q : set.queries) images.push_back(q.image);
  const datasets::RetrievalSet::Lists lists = set.evaluation_lists();
  return queries_sha256(images, lists.ok, lists.junk);
}

RecordQueries read_record_queries(const std::string& record_path) {
  const nlohmann::json r = read_record(record_path);
  RecordQueries rq;
  rq.record_path = record_path;
  rq.model = r["model"]["name"].get<std::string>();
  rq.dataset = r["dataset"].get<std::string>();
  rq.set = r.value("set", std::string());
  rq.protocol = r.value("protocol", std::string());
  if (r.value("status", std::string("ok")) == "skipped")
    fail("{}: a skipped record ({}) has no per-query data", record_path,
         r["skipped_reason"].get<std::string>());
  const std::optional<PerQuery> pq = read_per_query(r, record_path);
  if (!pq)
    fail("{}: record has no per-query data (schema {}); evaluate again with this repbench to "
         "write it",
         record_path, r["schema"].dump());
  for (double v : pq->ap) rq.ap.push_back(std::isnan(v) ? std::nullopt : std::optional(v));
  rq.images = pq->images;
  rq.queries_sha256 = pq->queries_sha256;
  rq.top_ids_path = (fs::path(record_path).parent_path() / pq->top_ids_file).string();
  std::error_code ec;
  if (!fs::is_regular_file(rq.top_ids_path, ec))
    fail("{}: its top-ids file {} is missing", record_path, rq.top_ids_path);
  std::vector<int64_t> shape;
  rq.top_ids = read_npy_int64(rq.top_ids_path, &shape);
  if (shape.size() != 2 || shape[0] != static_cast<int64_t>(rq.ap.size()) || shape[1] < 1)
    fail("{}: top ids of shape [{}] where [{}, k] was expected (one row per query of {})",
         rq.top_ids_path, fmt::join(shape, ", "), rq.ap.size(), record_path);
  rq.k = shape[1];
  return rq;
}

void check_same_queries(const RecordQueries& rq, const datasets::RetrievalSet& set) {
  const std::string where = set.source.empty() ? set.name : set.source;
  if (rq.ap.size() != set.queries.size())
    fail("{}: {} queries, but the set loaded from {} ({}) has {}", rq.record_path, rq.ap.size(),
         where, set.protocol, set.queries.size());
  const std::string sha = set_queries_sha256(set);
  if (rq.queries_sha256 != sha)
    fail("{}: scored on other queries (queries_sha256 {}) than the set loaded from {} ({}: {}); "
         "another set, protocol or ground truth",
         rq.record_path, rq.queries_sha256.substr(0, 12), where, set.protocol, sha.substr(0, 12));
  const int64_t nb = static_cast<int64_t>(set.db.size());
  for (size_t i = 0; i < rq.top_ids.size(); ++i)
    if (rq.top_ids[i] < 0 || rq.top_ids[i] >= nb)
      fail("{}: id {} (query {}) is outside the database of {} images", rq.top_ids_path,
           rq.top_ids[i], i / rq.k, nb);
}

}  // namespace repbench::records
