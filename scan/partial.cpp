#include "scan/partial.h"

#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace repbench::scan {

namespace {

constexpr const char* kFormat = "repbench-scan-partial";

}  // namespace

void write_partial(const PartialScan& p, const std::string& path) {
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& f : p.generated_failed)
    skipped.push_back({{"index", f.index}, {"path", f.path}, {"error", f.reason}});
  // Scores as JSON numbers: a float widened to double prints with enough digits to read back
  // exactly, so the merge sees the very scores of the task.
  std::vector<double> scores(p.topk.scores.begin(), p.topk.scores.end());
  for (double& s : scores)
    if (std::isinf(s)) s = -1e300;  // JSON has no -inf; an empty slot (id -1) is marked so
  const nlohmann::json j{{"format", kFormat},
                         {"format_version", 1},
                         {"run", p.run},
                         {"shard",
                          {{"index", p.index},
                           {"count", p.count},
                           {"begin", p.begin},
                           {"end", p.end},
                           {"npy", p.npy}}},
                         {"generated", {{"paths", p.generated_paths}, {"skipped", skipped}}},
                         {"k", p.topk.k},
                         {"ids", p.topk.ids},
                         {"scores", scores},
                         {"seconds", p.seconds},
                         {"context", p.context}};
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
    if (j.at("format_version").get<int>() != 1)
      fail("{}: partial scan format version {} (this build reads 1)", path,
           j.at("format_version").dump());
    p.run = j.at("run");
    if (!p.run.is_object()) fail("{}: \"run\" is not an object", path);
    const auto& s = j.at("shard");
    p.index = s.at("index").get<int64_t>();
    p.count = s.at("count").get<int64_t>();
    p.begin = s.at("begin").get<int64_t>();
    p.end = s.at("end").get<int64_t>();
    p.npy = s.at("npy").get<std::string>();
    p.generated_paths = j.at("generated").at("paths").get<std::vector<std::string>>();
    for (const auto& f : j.at("generated").at("skipped"))
      p.generated_failed.push_back({f.at("index").get<int64_t>(), f.at("path").get<std::string>(),
                                    f.at("error").get<std::string>()});
    p.topk.k = j.at("k").get<int64_t>();
    p.topk.ids = j.at("ids").get<std::vector<int64_t>>();
    const std::vector<double> scores = j.at("scores").get<std::vector<double>>();
    p.topk.scores.assign(scores.begin(), scores.end());
    p.seconds = j.value("seconds", 0.0);
    p.context = j.value("context", nlohmann::json());
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
