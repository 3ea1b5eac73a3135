#include "scan/impl/scan_record.h"

#include <map>

#include <fmt/format.h>

#include "core/error.h"
#include "scan/groups.h"

namespace repbench::scan {

namespace {

// A top-1 score this close to 1 is an identical image (float rounding of a unit vector's norm).
constexpr float kIdentical = 1.0f - 1e-5f;

}  // namespace

nlohmann::json record_body(const ScanPieces& p, const std::vector<std::string>& generated_paths,
                           const std::function<const std::string&(int64_t)>& train_path,
                           bool split_product, const ScanParams& params) {
  const SearchOutcome& found = p.found;
  const int64_t ng = found.topk.nq;
  REPBENCH_ASSERT(ng == int64_t(generated_paths.size()) && found.topk.k == params.k);
  nlohmann::json rec;
  rec["similarity"] = split_product ? "split-product" : "inner-product";
  rec["k"] = params.k;
  rec["thresholds"] = params.thresholds;
  rec["dup_threshold"] = params.dup_threshold;
  rec["search"] = {{"method", found.method},
                   {"params", found.params},
                   {"recall_at_1", found.recall_at_1 ? nlohmann::json(*found.recall_at_1)
                                                     : nlohmann::json(nullptr)},
                   {"recall_sample", found.recall_sample},
                   {"train_size", p.train_rows},
                   {"tuning", found.tuning}};
  if (!found.precision.is_null()) rec["search"]["precision"] = found.precision;
  // The search's stages; write_scan() moves them into the envelope's timings.
  rec["timings"] = {{"build_seconds", found.build_seconds},
                    {"tune_seconds", found.tune_seconds},
                    {"search_seconds", found.search_seconds}};

  std::vector<float> top1(ng);
  for (int64_t i = 0; i < ng; ++i) top1[i] = found.topk.scores[i * params.k];
  rec["generations_top1"] = top1;

  const Baseline& base = p.baseline;
  const bool within = p.groups && p.groups->within;
  rec["baseline"] = {{"sample", int64_t(base.top1.size())},
                     {"top1", base.top1},
                     {"note", within ? "each sampled training image vs its nearest OTHER training "
                                       "image of its own group"
                                     : "each sampled training image vs its nearest OTHER training "
                                       "image"}};

  nlohmann::json above = nlohmann::json::array();
  for (const auto& a : count_above(top1, base.top1, params.thresholds))
    above.push_back({{"threshold", a.threshold},
                     {"generations", a.generations},
                     {"fraction", a.fraction},
                     {"baseline", a.baseline},
                     {"baseline_fraction", a.baseline_fraction}});
  rec["above"] = above;

  REPBENCH_ASSERT(p.distinct.size() == p.duplicates.size());
  std::map<int64_t, int64_t> dup_of;
  for (size_t i = 0; i < p.distinct.size(); ++i) dup_of[p.distinct[i]] = p.duplicates[i];
  rec["duplicates"] = {
      {"method", p.exact_duplicates ? "exact" : "index"},
      {"cap", p.exact_duplicates ? nlohmann::json(nullptr) : nlohmann::json(params.duplicate_cap)},
      {"threshold", params.dup_threshold},
      {"sample", params.duplicate_sample},
      {"counted", int64_t(p.distinct.size())}};

  nlohmann::json pairs = nlohmann::json::array();
  bool identical = true;
  for (int64_t i = 0; i < ng; ++i) {
    const int64_t id = found.topk.ids[i * params.k];
    pairs.push_back({{"generated", generated_paths[i]},
                     {"train", train_path(id)},
                     {"score", top1[i]},
                     {"train_duplicates",
                      dup_of.count(id) ? nlohmann::json(dup_of[id]) : nlohmann::json(nullptr)}});
    identical = identical && top1[i] >= kIdentical;
  }
  rec["pairs"] = pairs;
  rec["identical_sets"] = identical;
  if (p.groups)
    rec["groups"] = groups_record(*p.groups, top1, base.rows, base.top1, params.thresholds);

  nlohmann::json notes = nlohmann::json::array();
  if (identical)
    notes.push_back(fmt::format(
        "Every generation's top-1 similarity is 1.0: each of the {} generated images is an exact "
        "copy of a training image (for example, the generated set is the training set). This is "
        "a valid result, not an error.",
        ng));
  if (!p.exact_duplicates)
    notes.push_back(fmt::format(
        "Approximate search ({}): recall@1 against exact search {:.3f} on {} sampled "
        "generations; duplicate counts look at the {} nearest neighbours of each match.",
        found.method, found.recall_at_1.value_or(0), found.recall_sample, params.duplicate_cap));
  if (split_product && params.index.kind != IndexKind::kExact &&
      params.index.kind != IndexKind::kAuto)
    notes.push_back("Token descriptors (split-product) are always searched exactly.");
  if (p.train_rows < 2) notes.push_back("The training set has one image: no baseline.");
  if (within)
    notes.push_back(
        "Within groups (--within-group): each generation was searched only among the training "
        "images of its own group, and each baseline image against the other images of its group "
        "(images alone in their group are not sampled); duplicate counts are over the whole "
        "training set.");
  rec["notes"] = notes;
  return rec;
}

void check_scan_inputs(int64_t generated_rows, int64_t generated_row_size, int64_t train_rows,
                       int64_t train_row_size) {
  if (generated_rows == 0) fail("no generated images to scan");
  if (train_rows == 0) fail("no training images to scan against");
  if (generated_row_size != train_row_size)
    fail("generated descriptors have {} values per row, training descriptors {}",
         generated_row_size, train_row_size);
}

}  // namespace repbench::scan
