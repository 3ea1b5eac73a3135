#include "report/compare.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "records/per_query.h"
#include "records/record.h"

namespace fs = std::filesystem;

namespace repbench::report {

namespace {

using nlohmann::json;

struct Side {
  std::string path;
  json record;
};

bool is_skipped(const json& record) { return record.value("status", std::string("ok")) == "skipped"; }

// Pairs two records of one set; throws Error naming both files when they cannot be compared.
ComparedSet pair_records(const Side& a, const Side& b, const metrics::PairedOptions& options) {
  const std::string both = fmt::format("{} and {}", a.path, b.path);
  const std::string da = a.record["dataset"].get<std::string>();
  const std::string db = b.record["dataset"].get<std::string>();
  if (da != db)
    fail("{}: records of different sets or protocols ('{}' and '{}'); compare needs the same set "
         "and protocol",
         both, da, db);
  for (const Side* s : {&a, &b})
    if (is_skipped(s->record))
      fail("{}: {} is a skipped record (no scores to compare)", both, s->path);
  const auto pa = records::read_per_query(a.record, a.path);
  const auto pb = records::read_per_query(b.record, b.path);
  if (!pa || !pb) {
    const Side& s = pa ? b : a;
    fail("{}: {} has no per-query data (schema {}); write it again with this version's eval or run",
         both, s.path, s.record["schema"].dump());
  }
  if (pa->queries_sha256 != pb->queries_sha256)
    fail("{}: scored on different queries or ground truth (per_query.queries_sha256 {} vs {})",
         both, pa->queries_sha256.substr(0, 12), pb->queries_sha256.substr(0, 12));
  ComparedSet c;
  c.dataset = da;
  c.record_a = a.path;
  c.record_b = b.path;
  c.model_a = a.record["model"]["name"].get<std::string>();
  c.model_b = b.record["model"]["name"].get<std::string>();
  try {
    c.result = metrics::paired_compare(pa->ap, pb->ap, options);
  } catch (const Error& e) {
    fail("{}: {}", both, e.what());
  }
  return c;
}

// A folder's records by dataset label; skipped ones are noted and left out.
std::map<std::string, Side> records_by_dataset(const std::string& dir, const std::string& name,
                                               std::vector<std::string>& notes) {
  std::map<std::string, Side> out;
  for (const std::string& f : records::record_files({dir})) {
    Side s{f, records::read_record(f)};
    const std::string dataset = s.record["dataset"].get<std::string>();
    if (is_skipped(s.record)) {
      notes.push_back(fmt::format("{} was skipped in {} ({})", dataset, name, f));
      continue;
    }
    auto [it, inserted] = out.emplace(dataset, s);
    if (!inserted)
      fail("{} and {}: two records of {} in one folder; compare folders that hold one model each",
           it->second.path, f, dataset);
  }
  return out;
}

std::string percent(double v) { return fmt::format("{:.2f}", 100 * v); }
std::string signed_points(double v) { return fmt::format("{:+.2f}", 100 * v); }
std::string p_text(double p) { return fmt::format("{:.4g}", p); }

std::string interval_text(const metrics::PairedResult& r) {
  if (std::isnan(r.ci_low)) return "-";
  return fmt::format("[{}, {}]", signed_points(r.ci_low), signed_points(r.ci_high));
}

std::string test_text(const Comparison& c) {
  return fmt::format(
      "paired over the queries both scored: 95% interval from {} bootstrap resamples, two-sided "
      "sign-flip p-value ({} when a set has more than {} queries, else exact), Holm-adjusted "
      "across {} set(s); seed {}",
      c.options.resamples, fmt::format("{} random sign vectors", c.options.permutations),
      c.options.exact_max, c.sets.size(), c.options.seed);
}

}  // namespace

Comparison compare_records(const std::string& a, const std::string& b,
                           const metrics::PairedOptions& options) {
  Comparison c;
  c.a = a;
  c.b = b;
  c.options = options;
  std::error_code ea, eb;
  const bool dir_a = fs::is_directory(a, ea), dir_b = fs::is_directory(b, eb);
  for (const std::string* p : {&a, &b})
    if (!fs::exists(*p)) fail("{}: no such file or folder", *p);
  if (dir_a != dir_b)
    fail("{} and {}: give two record files or two record folders, not one of each", a, b);
  if (!dir_a) {
    c.sets.push_back(
        pair_records({a, records::read_record(a)}, {b, records::read_record(b)}, options));
  } else {
    const auto ra = records_by_dataset(a, "A", c.notes);
    const auto rb = records_by_dataset(b, "B", c.notes);
    for (const auto& [dataset, side] : ra) {
      auto it = rb.find(dataset);
      if (it == rb.end()) {
        c.notes.push_back(fmt::format("{} is only in A ({}); not compared", dataset, side.path));
        continue;
      }
      c.sets.push_back(pair_records(side, it->second, options));
    }
    for (const auto& [dataset, side] : rb)
      if (!ra.count(dataset))
        c.notes.push_back(fmt::format("{} is only in B ({}); not compared", dataset, side.path));
    if (c.sets.empty()) fail("{} and {}: the two folders share no set and protocol", a, b);
  }
  std::vector<double> p;
  for (const auto& s : c.sets) p.push_back(s.result.p_value);
  const std::vector<double> adjusted = metrics::holm_adjust(p);
  for (size_t i = 0; i < c.sets.size(); ++i) c.sets[i].p_holm = adjusted[i];
  return c;
}

CompareFormat parse_compare_format(const std::string& name) {
  if (name == "text") return CompareFormat::kText;
  if (name == "json") return CompareFormat::kJson;
  if (name == "md" || name == "markdown") return CompareFormat::kMarkdown;
  fail("unknown compare format '{}' (expected text|json|md)", name);
}

std::string render_comparison(const Comparison& c, CompareFormat format) {
  const ComparedSet& first = c.sets.front();
  if (format == CompareFormat::kJson) {
    json sets = json::array();
    for (const auto& s : c.sets) {
      const auto& r = s.result;
      sets.push_back({{"dataset", s.dataset},
                      {"record_a", s.record_a},
                      {"record_b", s.record_b},
                      {"model_a", s.model_a},
                      {"model_b", s.model_b},
                      {"queries", r.queries},
                      {"map_a", r.mean_a},
                      {"map_b", r.mean_b},
                      {"difference", r.difference},
                      {"ci95", std::isnan(r.ci_low) ? json(nullptr) : json({r.ci_low, r.ci_high})},
                      {"p_value", r.p_value},
                      {"p_holm", s.p_holm},
                      {"exact", r.exact},
                      {"permutations", r.permutations}});
    }
    json out = {{"schema", "repbench.compare/1"},
                {"a", c.a},
                {"b", c.b},
                {"options",
                 {{"resamples", c.options.resamples},
                  {"permutations", c.options.permutations},
                  {"exact_max", c.options.exact_max},
                  {"seed", c.options.seed},
                  {"level", c.options.level}}},
                {"sets", std::move(sets)},
                {"notes", c.notes}};
    return out.dump(2) + "\n";
  }
  const std::string title = fmt::format("A = {} ({}), B = {} ({})", first.model_a, c.a,
                                        first.model_b, c.b);
  std::string out;
  if (format == CompareFormat::kMarkdown) {
    out += fmt::format("**{}**\n\n", title);
    out += "| Dataset | Queries | mAP A | mAP B | A − B (pp) | 95% CI (pp) | p | p (Holm) |\n";
    out += "|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& s : c.sets) {
      const auto& r = s.result;
      out += fmt::format("| {} | {} | {} | {} | {} | {} | {}{} | {} |\n", s.dataset, r.queries,
                         percent(r.mean_a), percent(r.mean_b), signed_points(r.difference),
                         interval_text(r), p_text(r.p_value), r.exact ? " (exact)" : "",
                         p_text(s.p_holm));
    }
    out += fmt::format("\n{}.\n", test_text(c));
    for (const auto& n : c.notes) out += fmt::format("\n- {}", n);
    if (!c.notes.empty()) out += "\n";
    return out;
  }
  out += fmt::format("compare {}\n{}\n", title, test_text(c));
  size_t w = 7;
  for (const auto& s : c.sets) w = std::max(w, s.dataset.size());
  out += fmt::format("{:<{}}  {:>7}  {:>6}  {:>6}  {:>7}  {:>18}  {:>10}  {:>9}\n", "dataset", w,
                     "queries", "mAP A", "mAP B", "A - B", "95% CI", "p", "p (Holm)");
  for (const auto& s : c.sets) {
    const auto& r = s.result;
    out += fmt::format("{:<{}}  {:>7}  {:>6}  {:>6}  {:>7}  {:>18}  {:>10}  {:>9}\n", s.dataset, w,
                       r.queries, percent(r.mean_a), percent(r.mean_b),
                       signed_points(r.difference), interval_text(r),
                       p_text(r.p_value) + (r.exact ? "*" : ""), p_text(s.p_holm));
  }
  if (std::any_of(c.sets.begin(), c.sets.end(), [](const auto& s) { return s.result.exact; }))
    out += "* exact (every sign vector enumerated)\n";
  for (const auto& n : c.notes) out += fmt::format("note: {}\n", n);
  return out;
}

}  // namespace repbench::report
