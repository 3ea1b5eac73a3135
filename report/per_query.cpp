#include "report/per_query.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "core/error.h"
#include "core/npy.h"
#include "core/sha256.h"
#include "report/impl/record_fields.h"
#include "report/record.h"

namespace fs = std::filesystem;

namespace repbench::report {

using nlohmann::json;

namespace {

std::string join_ids(const std::vector<int64_t>& ids) {
  return fmt::format("{}", fmt::join(ids, ","));
}

}  // namespace

std::string queries_sha256(const datasets::RetrievalSet& set) {
  Sha256 h;
  for (const datasets::Query& q : set.queries)
    h.update(q.image + "\t" + join_ids(q.ok) + "\t" + join_ids(q.junk) + "\n");
  return h.hex_digest();
}

PerQuery read_per_query(const std::string& record_path) {
  const json r = read_record(record_path);
  PerQuery pq;
  pq.record_path = record_path;
  pq.model = r["model"]["name"].get<std::string>();
  pq.dataset = r["dataset"].get<std::string>();
  pq.set = r.value("set", std::string());
  pq.protocol = r.value("protocol", std::string());
  if (r.value("status", std::string("ok")) == "skipped")
    fail("{}: a skipped record ({}) has no per-query data", record_path,
         r["skipped_reason"].get<std::string>());
  const auto block = r.find("per_query");
  if (block == r.end() || block->is_null())
    fail("{}: record has no per-query data (schema {}); evaluate again with this repbench to "
         "write it",
         record_path, r["schema"].dump());
  const impl::RecordFields f(record_path);
  const json& ap = f.field(*block, "ap", "per_query.");
  if (!ap.is_array()) fail("{}: 'per_query.ap' is not an array", record_path);
  for (size_t i = 0; i < ap.size(); ++i) {
    if (ap[i].is_null()) {
      pq.ap.emplace_back();
      continue;
    }
    const double v = f.number(ap[i], fmt::format("per_query.ap[{}]", i));
    if (!(v >= 0 && v <= 1))
      fail("{}: 'per_query.ap[{}]' = {} is not in [0, 1]", record_path, i, v);
    pq.ap.emplace_back(v);
  }
  const json& images = f.field(*block, "images", "per_query.");
  if (!images.is_array() || images.size() != ap.size())
    fail("{}: 'per_query.images' is not an array of {} paths (one per AP)", record_path,
         ap.size());
  for (size_t i = 0; i < images.size(); ++i)
    pq.images.push_back(f.string(images[i], fmt::format("per_query.images[{}]", i)));
  pq.queries_sha256 =
      f.string(f.field(*block, "queries_sha256", "per_query."), "per_query.queries_sha256");
  const json& top = f.field(*block, "top_ids", "per_query.");
  const std::string file = f.string(f.field(top, "file", "per_query.top_ids."),
                                    "per_query.top_ids.file");
  if (file.empty() || fs::path(file).is_absolute() || file.find("..") != std::string::npos)
    fail("{}: 'per_query.top_ids.file' must name a file beside the record (found \"{}\")",
         record_path, file);
  pq.top_ids_path = (fs::path(record_path).parent_path() / file).string();
  std::error_code ec;
  if (!fs::is_regular_file(pq.top_ids_path, ec))
    fail("{}: its top-ids file {} is missing", record_path, pq.top_ids_path);
  std::vector<int64_t> shape;
  pq.top_ids = read_npy_int64(pq.top_ids_path, &shape);
  if (shape.size() != 2 || shape[0] != static_cast<int64_t>(pq.ap.size()) || shape[1] < 1)
    fail("{}: top ids of shape [{}] where [{}, k] was expected (one row per query of {})",
         pq.top_ids_path, fmt::join(shape, ", "), pq.ap.size(), record_path);
  pq.k = shape[1];
  return pq;
}

void check_same_queries(const PerQuery& pq, const datasets::RetrievalSet& set) {
  const std::string where = set.source.empty() ? set.name : set.source;
  if (pq.ap.size() != set.queries.size())
    fail("{}: {} queries, but the set loaded from {} ({}) has {}", pq.record_path, pq.ap.size(),
         where, set.protocol, set.queries.size());
  const std::string sha = queries_sha256(set);
  if (pq.queries_sha256 != sha)
    fail("{}: scored on other queries (queries_sha256 {}) than the set loaded from {} ({}: {}); "
         "another set, protocol or ground truth",
         pq.record_path, pq.queries_sha256.substr(0, 12), where, set.protocol, sha.substr(0, 12));
  const int64_t nb = static_cast<int64_t>(set.db.size());
  for (size_t i = 0; i < pq.top_ids.size(); ++i)
    if (pq.top_ids[i] < 0 || pq.top_ids[i] >= nb)
      fail("{}: id {} (query {}) is outside the database of {} images", pq.top_ids_path,
           pq.top_ids[i], i / pq.k, nb);
}

}  // namespace repbench::report
