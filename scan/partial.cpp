#include "scan/partial.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace repbench::scan {

namespace {

constexpr const char* kFormat = "repbench-scan-partial";

// JSON has no -inf: an empty slot (id -1) or a missing bound is written as this.
constexpr double kNone = -1e300;

std::vector<double> scores_json(const std::vector<float>& scores) {
  // Scores as JSON numbers: a float widened to double prints with enough digits to read back
  // exactly, so the merge sees the very scores of the task.
  std::vector<double> out(scores.begin(), scores.end());
  for (double& s : out)
    if (std::isinf(s)) s = kNone;
  return out;
}

nlohmann::json failed_json(const std::vector<models::FailedImage>& failed) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : failed)
    out.push_back({{"index", f.index}, {"path", f.path}, {"error", f.reason}});
  return out;
}

std::vector<models::FailedImage> parse_failed(const nlohmann::json& j) {
  std::vector<models::FailedImage> out;
  for (const auto& f : j)
    out.push_back({f.at("index").get<int64_t>(), f.at("path").get<std::string>(),
                   f.at("error").get<std::string>()});
  return out;
}

std::vector<float> parse_scores(const nlohmann::json& j) {
  const std::vector<double> d = j.get<std::vector<double>>();
  std::vector<float> out(d.begin(), d.end());
  for (float& s : out)
    if (s <= -1e30f) s = -std::numeric_limits<float>::infinity();
  return out;
}

// The version 2 fields agree with each other and with the shard; throws Error naming `path`.
void check_shares(PartialScan& p, const std::string& path) {
  const int64_t slice = p.end - p.begin;
  if (int64_t(p.train_paths.size()) != slice)
    fail("{}: {} training paths for the {} rows of shard [{}, {})", path, p.train_paths.size(),
         slice, p.begin, p.end);
  for (const auto& f : p.train_failed)
    if (f.index < p.begin || f.index >= p.end)
      fail("{}: failed training image {} is outside its shard [{}, {})", path, f.index, p.begin,
           p.end);
  int64_t row_size = 1;
  for (int64_t v : p.row_shape) {
    if (v < 1) fail("{}: row shape [{}] is not a descriptor shape", path, fmt::join(p.row_shape, ", "));
    row_size *= v;
  }
  if (p.row_shape.empty() || p.row_shape.size() > 2)
    fail("{}: row shape [{}] is not a descriptor shape", path, fmt::join(p.row_shape, ", "));
  auto in_shard = [&](int64_t id, const char* what) {
    if (id != -1 && (id < p.begin || id >= p.end))
      fail("{}: {} training index {} is outside its shard [{}, {})", path, what, id, p.begin, p.end);
  };
  const metrics::TopKResult& b = p.baseline_top2;
  if (b.ids.size() != 2 * p.baseline_rows.size() || b.scores.size() != b.ids.size())
    fail("{}: {} baseline ids and {} scores for {} sampled rows", path, b.ids.size(),
         b.scores.size(), p.baseline_rows.size());
  for (size_t i = 0; i < p.baseline_rows.size(); ++i)
    if (p.baseline_rows[i] < 0 || (i > 0 && p.baseline_rows[i] <= p.baseline_rows[i - 1]))
      fail("{}: baseline rows are not ascending row numbers (row {})", path, p.baseline_rows[i]);
  for (size_t i = 0; i < b.ids.size(); ++i) {
    in_shard(b.ids[i], "baseline");
    if (b.ids[i] != -1 && !std::isfinite(b.scores[i]))
      fail("{}: baseline score {} is not finite", path, i);
  }
  const size_t nq = p.generated_paths.size();
  if (p.has_groups) {
    const int64_t readable = slice - int64_t(p.train_failed.size());
    if (!p.group_generated.empty() && p.group_generated.size() != nq)
      fail("{}: {} generations' groups for {} generations", path, p.group_generated.size(), nq);
    if (!p.group_train.empty() && int64_t(p.group_train.size()) != readable)
      fail("{}: {} training rows' groups for {} readable rows", path, p.group_train.size(),
           readable);
    for (const auto* ids : {&p.group_generated, &p.group_train})
      for (int32_t g : *ids)
        if (g < 0 || size_t(g) >= p.group_names.size())
          fail("{}: group id {} is not one of its {} groups", path, g, p.group_names.size());
  }
  if (!p.has_duplicates) return;
  if (p.bound.size() != nq || p.entries.size() != nq || p.floor.size() != nq)
    fail("{}: {} duplicate bounds, {} floors and {} entry lists for {} generations", path,
         p.bound.size(), p.floor.size(), p.entries.size(), nq);
  for (float f : p.floor)
    if (!std::isfinite(f)) fail("{}: a duplicate floor is not a number", path);
  for (size_t i = 0; i < p.entry_rows.size(); ++i) {
    if (p.entry_rows[i] == -1) fail("{}: duplicate entry row -1", path);
    in_shard(p.entry_rows[i], "duplicate entry");
    if (i > 0 && p.entry_rows[i] <= p.entry_rows[i - 1])
      fail("{}: duplicate entry rows are not ascending (row {})", path, p.entry_rows[i]);
  }
  for (const auto& list : p.entries)
    for (int64_t id : list)
      if (!std::binary_search(p.entry_rows.begin(), p.entry_rows.end(), id))
        fail("{}: duplicate entry {} has no stored row", path, id);
  if (int64_t(p.entry_values.data.size()) != int64_t(p.entry_rows.size()) * row_size)
    fail("{}: {} duplicate entry values for {} rows of {} values", path,
         p.entry_values.data.size(), p.entry_rows.size(), row_size);
  for (float v : p.entry_values.data)
    if (!std::isfinite(v)) fail("{}: a duplicate entry value is not finite", path);
  p.entry_values.shape = {int64_t(p.entry_rows.size())};
  p.entry_values.shape.insert(p.entry_values.shape.end(), p.row_shape.begin(), p.row_shape.end());
}

}  // namespace

double duplicate_need(double match_score, double dup_threshold) {
  constexpr double kPi = 3.14159265358979323846;
  // Scores are the reference's (float rounding of an exact product); 1e-4 is far above it.
  constexpr double kMargin = 1e-4;
  const double angle = std::acos(std::clamp(match_score, -1.0, 1.0)) +
                       std::acos(std::clamp(dup_threshold, -1.0, 1.0));
  if (angle >= kPi) return -1;
  return std::max(-1.0, std::cos(angle) - kMargin);
}


void write_partial(const PartialScan& p, const std::string& path) {
  nlohmann::json j{{"format", kFormat},
                   {"format_version", p.carries_shares ? 2 : 1},
                   {"run", p.run},
                   {"shard",
                    {{"index", p.index},
                     {"count", p.count},
                     {"begin", p.begin},
                     {"end", p.end},
                     {"npy", p.npy}}},
                   {"generated", {{"paths", p.generated_paths}, {"skipped", failed_json(p.generated_failed)}}},
                   {"k", p.topk.k},
                   {"ids", p.topk.ids},
                   {"scores", scores_json(p.topk.scores)},
                   {"seconds", p.seconds},
                   {"context", p.context}};
  if (p.carries_shares) {
    j["train"] = {{"paths", p.train_paths},
                  {"failed", failed_json(p.train_failed)},
                  {"row_shape", p.row_shape}};
    j["baseline"] = {{"rows", p.baseline_rows},
                     {"ids", p.baseline_top2.ids},
                     {"scores", scores_json(p.baseline_top2.scores)}};
    j["duplicates"] = nullptr;
    if (p.has_duplicates)
      j["duplicates"] = {{"floor", p.floor},
                         {"bound", scores_json(p.bound)},
                         {"entries", p.entries},
                         {"rows", p.entry_rows},
                         {"values", p.entry_values.data}};
    j["groups"] = nullptr;
    if (p.has_groups)
      j["groups"] = {{"names", p.group_names},
                     {"generated", p.group_generated},
                     {"train", p.group_train}};
  }
  write_file_atomic(path, j.dump() + "\n");
}

PartialScan parse_partial(const std::string& text, const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not JSON: {}", path, e.what());
  }
  PartialScan p;
  try {
    if (!j.is_object() || j.value("format", std::string()) != kFormat)
      fail("{}: not a repbench partial scan (write one with `repbench scan ... --partial`)", path);
    const int version = j.at("format_version").get<int>();
    if (version != 1 && version != 2)
      fail("{}: partial scan format version {} (this build reads 1 and 2)", path,
           j.at("format_version").dump());
    p.carries_shares = version == 2;
    p.run = j.at("run");
    if (!p.run.is_object()) fail("{}: \"run\" is not an object", path);
    const auto& s = j.at("shard");
    p.index = s.at("index").get<int64_t>();
    p.count = s.at("count").get<int64_t>();
    p.begin = s.at("begin").get<int64_t>();
    p.end = s.at("end").get<int64_t>();
    p.npy = s.at("npy").get<std::string>();
    p.generated_paths = j.at("generated").at("paths").get<std::vector<std::string>>();
    p.generated_failed = parse_failed(j.at("generated").at("skipped"));
    p.topk.k = j.at("k").get<int64_t>();
    p.topk.ids = j.at("ids").get<std::vector<int64_t>>();
    p.topk.scores = parse_scores(j.at("scores"));
    p.seconds = j.value("seconds", 0.0);
    p.context = j.value("context", nlohmann::json());
    if (p.carries_shares) {
      const auto& t = j.at("train");
      p.train_paths = t.at("paths").get<std::vector<std::string>>();
      p.train_failed = parse_failed(t.at("failed"));
      p.row_shape = t.at("row_shape").get<std::vector<int64_t>>();
      const auto& b = j.at("baseline");
      p.baseline_rows = b.at("rows").get<std::vector<int64_t>>();
      p.baseline_top2.nq = int64_t(p.baseline_rows.size());
      p.baseline_top2.k = 2;
      p.baseline_top2.ids = b.at("ids").get<std::vector<int64_t>>();
      p.baseline_top2.scores = parse_scores(b.at("scores"));
      const auto& d = j.at("duplicates");
      p.has_duplicates = !d.is_null();
      if (p.has_duplicates) {
        p.floor = d.at("floor").get<std::vector<float>>();
        p.bound = parse_scores(d.at("bound"));
        p.entries = d.at("entries").get<std::vector<std::vector<int64_t>>>();
        p.entry_rows = d.at("rows").get<std::vector<int64_t>>();
        p.entry_values.data = d.at("values").get<std::vector<float>>();
      }
      const auto& g = j.value("groups", nlohmann::json());
      p.has_groups = !g.is_null();
      if (p.has_groups) {
        p.group_names = g.at("names").get<std::vector<std::string>>();
        p.group_generated = g.at("generated").get<std::vector<int32_t>>();
        p.group_train = g.at("train").get<std::vector<int32_t>>();
      }
    }
  } catch (const nlohmann::json::exception& e) {
    fail("{}: malformed partial scan: {}", path, e.what());
  }
  if (p.count < 1 || p.index < 0 || p.index >= p.count || p.begin < 0 || p.end <= p.begin)
    fail("{}: shard {}/{} holding [{}, {}) is not a valid shard", path, p.index, p.count, p.begin,
         p.end);
  const int64_t nq = int64_t(p.generated_paths.size()), k = p.topk.k;
  if (k < 1 || nq < 1 || int64_t(p.topk.ids.size()) != nq * k ||
      p.topk.scores.size() != p.topk.ids.size())
    fail("{}: {} ids and {} scores do not make {} generations x k = {}", path, p.topk.ids.size(),
         p.topk.scores.size(), nq, k);
  p.topk.nq = nq;
  if (p.carries_shares) check_shares(p, path);
  for (size_t i = 0; i < p.topk.ids.size(); ++i) {
    const int64_t id = p.topk.ids[i];
    if (id == -1) {
      p.topk.scores[i] = -std::numeric_limits<float>::infinity();
      continue;
    }
    if (id < p.begin || id >= p.end)
      fail("{}: training index {} is outside its shard [{}, {})", path, id, p.begin, p.end);
    if (!std::isfinite(p.topk.scores[i]))
      fail("{}: score {} of training index {} is not finite", path, i, id);
  }
  return p;
}

PartialScan read_partial(const std::string& path) { return parse_partial(read_file(path), path); }

std::vector<size_t> check_partials(const std::vector<PartialScan>& partials,
                                   const std::vector<std::string>& paths) {
  REPBENCH_ASSERT(partials.size() == paths.size());
  if (partials.empty()) fail("no partial scans to merge");
  const PartialScan& first = partials[0];
  std::map<int64_t, size_t> by_index;
  for (size_t i = 0; i < partials.size(); ++i) {
    const PartialScan& p = partials[i];
    if (p.run != first.run || p.count != first.count) {
      std::string what = "shard count";
      for (const auto& [key, value] : first.run.items())
        if (!p.run.contains(key) || p.run[key] != value) {
          what = key;
          break;
        }
      fail("{}: a partial of another scan ({} differs from {})", paths[i], what, paths[0]);
    }
    auto [it, inserted] = by_index.emplace(p.index, i);
    if (!inserted)
      fail("{}: shard {}/{} is given twice (also {})", paths[i], p.index, p.count,
           paths[it->second]);
  }
  for (int64_t i = 0; i < first.count; ++i)
    if (!by_index.count(i))
      fail("the partial scan of shard {}/{} is missing: {} of {} partials given", i, first.count,
           partials.size(), first.count);
  std::vector<size_t> order;
  for (const auto& [index, i] : by_index) order.push_back(i);
  return order;
}

}  // namespace repbench::scan
