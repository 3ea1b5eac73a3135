#include "records/per_query.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include <fmt/format.h>

#include "core/error.h"
#include "core/sha256.h"

namespace fs = std::filesystem;

namespace repbench::records {

namespace {

using nlohmann::json;

std::string joined_sorted(std::vector<int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i]);
  }
  return s;
}

// The per-query arrays' keys besides "ap": "p@K" for each mp@K, "recall@K" for each Recall@K.
bool is_score_array_key(const std::string& key) {
  return key == "ap" || key.rfind("p@", 0) == 0 || key.rfind("recall@", 0) == 0;
}

}  // namespace

std::string queries_sha256(const std::vector<std::string>& images,
                           const std::vector<std::vector<int64_t>>& ok,
                           const std::vector<std::vector<int64_t>>& junk) {
  if (ok.size() != images.size() || junk.size() != images.size())
    fail("queries_sha256: {} query images but {} ok and {} junk lists", images.size(), ok.size(),
         junk.size());
  Sha256 h;
  for (size_t i = 0; i < images.size(); ++i)
    h.update(images[i] + "\t" + joined_sorted(ok[i]) + "\t" + joined_sorted(junk[i]) + "\n");
  return h.hex_digest();
}

std::string top_ids_path(const std::string& record_path) {
  fs::path p(record_path);
  const std::string stem = p.extension() == ".json" ? p.stem().string() : p.filename().string();
  return (p.parent_path() / fmt::format("{}.top{}.npy", stem, kTopIds)).string();
}

void validate_per_query(const json& block, const std::string& where) {
  if (!block.is_object())
    fail("{}: record field per_query must be an object, found {}", where, block.type_name());
  auto need = [&](const char* key) -> const json& {
    auto it = block.find(key);
    if (it == block.end()) fail("{}: record has per_query but no per_query.{}", where, key);
    return *it;
  };
  const json& images = need("images");
  if (!images.is_array())
    fail("{}: record field per_query.images must be an array, found {}", where,
         images.type_name());
  for (size_t i = 0; i < images.size(); ++i)
    if (!images[i].is_string())
      fail("{}: record field per_query.images[{}] must be a string, found {}", where, i,
           images[i].type_name());
  need("ap");
  for (const auto& [key, value] : block.items()) {
    if (!is_score_array_key(key)) continue;
    if (!value.is_array() || value.size() != images.size())
      fail("{}: record field per_query.{} must be an array of {} entries (one per query image)",
           where, key, images.size());
    for (size_t i = 0; i < value.size(); ++i) {
      const json& v = value[i];
      if (v.is_null()) continue;
      if (!v.is_number() || !(v.get<double>() >= 0 && v.get<double>() <= 1))
        fail("{}: record field per_query.{}[{}] must be a number in [0, 1] or null, found {}",
             where, key, i, v.dump());
    }
  }
  const json& sha = need("queries_sha256");
  if (!sha.is_string() || sha.get_ref<const std::string&>().size() != 64 ||
      sha.get_ref<const std::string&>().find_first_not_of("0123456789abcdef") != std::string::npos)
    fail("{}: record field per_query.queries_sha256 must be 64 lowercase hex digits, found {}",
         where, sha.dump());
  const json& top = need("top_ids");
  const json* file = top.is_object() && top.contains("file") ? &top["file"] : nullptr;
  const json* k = top.is_object() && top.contains("k") ? &top["k"] : nullptr;
  if (!file || !k || !file->is_string() || !k->is_number_integer() || k->get<int64_t>() < 0)
    fail("{}: record field per_query.top_ids must be {{\"file\": name, \"k\": count >= 0}}, "
         "found {}",
         where, top.dump());
  const std::string& name = file->get_ref<const std::string&>();
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    fail("{}: record field per_query.top_ids.file must be a file name beside the record, found {}",
         where, file->dump());
}

std::optional<PerQuery> read_per_query(const json& record, const std::string& where) {
  if (!record.is_object()) return std::nullopt;
  auto it = record.find("per_query");
  if (it == record.end() || it->is_null()) return std::nullopt;
  validate_per_query(*it, where);
  PerQuery pq;
  pq.images = (*it)["images"].get<std::vector<std::string>>();
  pq.ap.reserve(pq.images.size());
  for (const json& v : (*it)["ap"])
    pq.ap.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>());
  // The block's mean is the record's mAP (the writer sums in index order at full precision): a
  // mismatch beyond rounding means a damaged or hand-edited record.
  if (const auto m = record.find("metrics"); m != record.end() && m->is_object())
    if (const auto map = m->find("map"); map != m->end() && map->is_number()) {
      double sum = 0;
      size_t scored = 0;
      for (double v : pq.ap)
        if (!std::isnan(v)) {
          sum += v;
          ++scored;
        }
      const double mean = scored ? sum / static_cast<double>(scored) : std::nan("");
      if (!(std::fabs(mean - map->get<double>()) <= 1e-9))
        fail("{}: the mean of per_query.ap ({}) is not metrics.map ({})", where, mean,
             map->get<double>());
    }
  pq.queries_sha256 = (*it)["queries_sha256"].get<std::string>();
  pq.top_ids_file = (*it)["top_ids"]["file"].get<std::string>();
  pq.top_k = (*it)["top_ids"]["k"].get<int64_t>();
  return pq;
}

}  // namespace repbench::records
