#include "suite/preflight.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/elapsed.h"
#include "core/error.h"
#include "datasets/set_registry.h"
#include "models/registry.h"
#include "suite/recipe.h"
#include "diffusion/sampler.h"

namespace fs = std::filesystem;

namespace repbench::suite {

namespace {

bool readable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

std::string model_file(const std::string& spec) { return models::spec_model_file(spec); }

// How to make a missing model file: the export command of the paper's extractor whose key is the
// file's stem, written to the file's folder.
std::string model_remedy(const std::string& file) {
  const fs::path p(file);
  for (const models::KnownExtractor& k : models::known_extractors()) {
    if (model_file(k.spec).empty() || fs::path(model_file(k.spec)).stem() != p.stem()) continue;
    std::string r = fmt::format(
        "/usr/bin/python3 scripts/export_models.py --out {} --models {}  (weights: {}",
        p.parent_path().empty() ? "." : p.parent_path().string(), p.stem().string(), k.weights);
    return r + (k.notes.empty() ? ")" : "; " + k.notes + ")");
  }
  return fmt::format(
      "export the model to {} (scripts/export_models.py --list names the ones it exports)", file);
}

// Images/s of `ex` on a probe batch: one warm-up batch, then one timed batch.
double probe_rate(models::FeatureExtractor& ex, int batch_size) {
  const auto [w, h] = ex.preprocess().nominal_input_size();
  const int64_t n = std::clamp(batch_size, 1, 16);
  std::vector<float> input(static_cast<size_t>(n) * 3 * h * w);
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(i % 251) / 125.0f - 1.0f;
  std::vector<float> out(static_cast<size_t>(n * ex.row_size()));
  const models::ImageBatch batch{input.data(), n, h, w};
  ex.extract(batch, out.data());
  const auto t0 = std::chrono::steady_clock::now();
  ex.extract(batch, out.data());
  const double s = seconds_since(t0);
  return static_cast<double>(n) / std::max(s, 1e-9);
}

std::string duration_text(double seconds) {
  if (seconds < 120) return fmt::format("{:.0f} s", seconds);
  if (seconds < 2 * 3600) return fmt::format("{:.0f} min", seconds / 60);
  return fmt::format("{:.1f} h", seconds / 3600);
}

PreflightItem check_model(const SuiteModel& sm, const Suite& suite, bool measure) {
  PreflightItem it{"model", sm.name.empty() ? sm.spec : sm.name, InputStatus::kReady, "", ""};
  const std::string file = model_file(sm.spec);
  std::error_code ec;
  if (!file.empty() && !fs::exists(file, ec)) {
    it.status = InputStatus::kMissing;
    it.detail = fmt::format("{}: no such file", file);
  } else if (!file.empty() && !readable(file)) {
    it.status = InputStatus::kInvalid;
    it.detail = fmt::format("{}: not readable", file);
  } else {
    models::ExtractorOptions eopt;
    eopt.device = suite.device;
    eopt.threads = suite.threads;
    eopt.preprocess = sm.preprocess;
    try {
      const std::unique_ptr<models::FeatureExtractor> ex = models::create_extractor(sm.spec, eopt);
      const models::ExtractorInfo info = ex->info();
      it.detail = info.output_kind == models::OutputKind::kTokens
                      ? fmt::format("{} ({}): tokens {} x {}", info.name, info.category,
                                    info.tokens, info.dim)
                      : fmt::format("{} ({}): embedding {}", info.name, info.category, info.dim);
      if (measure) {
        it.images_per_second = probe_rate(*ex, suite.batch_size);
        it.detail += fmt::format("; {:.2f} images/s on a probe batch", it.images_per_second);
      }
    } catch (const Error& e) {
      it.status = InputStatus::kInvalid;
      it.detail = e.what();
    }
  }
  if (it.status != InputStatus::kReady)
    it.remedy = !sm.remedy.empty() ? sm.remedy
                : file.empty()     ? "fix the spec (repbench models list)"
                                   : model_remedy(file);
  return it;
}

// Every distinct image of the set present and readable; "" when so, else what is wrong.
std::string image_problems(const datasets::RetrievalSet& set) {
  std::set<std::string> images(set.db.begin(), set.db.end());
  for (const auto& q : set.queries) images.insert(q.image);
  int64_t bad = 0;
  std::string first;
  for (const std::string& image : images) {
    const std::string full = (fs::path(set.root) / image).string();
    std::error_code ec;
    const char* why = !fs::is_regular_file(full, ec) ? "missing"
                      : !readable(full)              ? "not readable"
                                                     : nullptr;
    if (why == nullptr) continue;
    if (bad++ == 0) first = fmt::format("{}: {}", full, why);
  }
  if (bad == 0) return "";
  return fmt::format("{} of {} images missing or unreadable (first: {})", bad, images.size(),
                     first);
}

PreflightItem check_listed_set(const SuiteSet& ss, const std::string& shown) {
  PreflightItem it{"set", shown, InputStatus::kReady, "", ""};
  const datasets::SetInfo* info = datasets::find_set(ss.set);
  std::error_code ec;
  std::string where_from;
  if (info != nullptr) {
    where_from = fmt::format("{}; then `repbench datasets verify --set {} --root ROOT`",
                             info->files, info->name);
    const std::string needed = !ss.root.empty() ? ss.root : ss.gnd;
    if (needed.empty()) {
      it.status = InputStatus::kMissing;
      it.detail = "the suite gives no root for it";
    } else if (!fs::exists(needed, ec)) {
      it.status = InputStatus::kMissing;
      it.detail = fmt::format("{}: no such {}", needed, needed == ss.root ? "folder" : "file");
    }
  } else {
    where_from = "a gnd.json (schema repbench.gnd/1) with its images, e.g. from `repbench synth`";
    // A path (not a misspelt set name, which load_set names with the known ones) not there.
    const bool path = ss.set.find('/') != std::string::npos || datasets::is_gnd_json_set(ss.set);
    if (path && !fs::exists(ss.set, ec)) {
      it.status = InputStatus::kMissing;
      it.detail = fmt::format("{}: no such file", ss.set);
    }
  }
  if (it.status == InputStatus::kReady) {
    try {
      std::vector<std::string> protocols = ss.protocols;
      if (protocols.empty()) protocols = {""};
      if (protocols.size() == 1 && protocols[0] == "all")
        protocols = datasets::protocols_for(ss.set);
      datasets::RetrievalSet first;
      for (size_t i = 0; i < protocols.size(); ++i) {
        datasets::RetrievalSet s = datasets::load_set({ss.set, protocols[i], ss.root, ss.gnd});
        if (i == 0) first = std::move(s);
      }
      // Counts other than the official ones (a subset, or an incomplete download) are shown but
      // do not stop a run: the set loads and evaluates; only its numbers are not the paper's.
      std::vector<std::string> counts;
      const auto db = static_cast<int64_t>(first.db.size());
      const auto queries = static_cast<int64_t>(first.queries.size());
      if (info != nullptr && info->db_images > 0 && db != info->db_images)
        counts.push_back(fmt::format("db images: {}, expected {}", db, info->db_images));
      if (info != nullptr && info->queries > 0 && queries != info->queries)
        counts.push_back(fmt::format("queries: {}, expected {}", queries, info->queries));
      const std::string images = image_problems(first);
      if (images.empty()) {
        std::set<std::string> distinct(first.db.begin(), first.db.end());
        for (const auto& q : first.queries) distinct.insert(q.image);
        it.images = static_cast<int64_t>(distinct.size());
        it.detail = fmt::format("{} db images, {} queries, every image present", db, queries);
        if (!counts.empty())
          it.detail += fmt::format(" (not the official counts: {})", fmt::join(counts, "; "));
      } else {
        it.status = InputStatus::kInvalid;
        counts.push_back(images);
        it.detail = fmt::format("{}", fmt::join(counts, "; "));
      }
    } catch (const Error& e) {
      it.status = InputStatus::kInvalid;
      it.detail = e.what();
    }
  }
  if (it.status != InputStatus::kReady) it.remedy = !ss.remedy.empty() ? ss.remedy : where_from;
  return it;
}

PreflightItem check_recipe_set(const SuiteSet& ss, const std::string& shown) {
  PreflightItem it{"set", shown, InputStatus::kReady, "", ""};
  const SetRecipe& r = *ss.recipe;
  if (recipe_current(ss)) {
    it.detail = fmt::format("built from its recipe in {}", r.out);
    return it;
  }
  std::vector<std::string> wrong;
  for (const RecipeInput& in : recipe_inputs(r)) {
    std::error_code ec;
    const bool there = in.folder ? fs::is_directory(in.path, ec) : fs::is_regular_file(in.path, ec);
    if (!there) {
      it.status = InputStatus::kMissing;
      wrong.push_back(fmt::format("{} {}: no such {}", in.option, in.path,
                                  in.folder ? "folder" : "file"));
      continue;
    }
    try {
      if (in.folder && in.images_needed > 0) {
        const int64_t n = count_images(in.path);
        if (n < in.images_needed)
          wrong.push_back(fmt::format("{} {}: {} images, the recipe needs {}", in.option, in.path,
                                      n, in.images_needed));
      }
      if (in.option == "model") diffusion::inspect_eps_model(in.path);
    } catch (const Error& e) {
      wrong.push_back(e.what());
    }
  }
  if (wrong.empty()) {
    it.detail = fmt::format("run builds it ({}) in {}", r.generator, r.out);
    return it;
  }
  if (it.status == InputStatus::kReady) it.status = InputStatus::kInvalid;
  for (const auto& w : wrong) it.detail += (it.detail.empty() ? "" : "; ") + w;
  it.remedy = !ss.remedy.empty()
                  ? ss.remedy
                  : fmt::format("the inputs of `repbench synth {}` (repbench synth {} --help)",
                                r.generator, r.generator);
  return it;
}

}  // namespace

const char* to_string(InputStatus s) {
  switch (s) {
    case InputStatus::kReady: return "ready";
    case InputStatus::kMissing: return "missing";
    case InputStatus::kInvalid: return "invalid";
  }
  return "?";
}

int PreflightReport::count(InputStatus s) const {
  return static_cast<int>(
      std::count_if(items.begin(), items.end(), [s](const PreflightItem& i) { return i.status == s; }));
}

std::string PreflightReport::table() const {
  size_t width = 4;
  for (const auto& i : items) width = std::max(width, i.name.size());
  std::string out = fmt::format("{:<8} {:<5}  {:<{}}  {}\n", "status", "kind", "name", width,
                                "detail");
  for (const auto& i : items) {
    out += fmt::format("{:<8} {:<5}  {:<{}}  {}\n", to_string(i.status), i.kind, i.name, width,
                       i.detail);
    if (!i.remedy.empty()) out += fmt::format("{:<8} {:<5}  -> {}\n", "", "", i.remedy);
  }
  out += fmt::format("{} inputs: {} ready, {} missing, {} invalid\n", items.size(),
                     count(InputStatus::kReady), count(InputStatus::kMissing),
                     count(InputStatus::kInvalid));
  return out;
}

std::string PreflightReport::estimate() const {
  int64_t images = 0;
  for (const auto& i : items) images += i.images;
  std::string out;
  double total = 0;
  for (const auto& i : items) {
    if (i.images_per_second <= 0) continue;
    const double s = static_cast<double>(images) / i.images_per_second;
    total += s;
    out += fmt::format("  {}: {} images at {:.2f} images/s: {}\n", i.name, images,
                       i.images_per_second, duration_text(s));
  }
  if (out.empty()) return "";
  return fmt::format(
      "extraction estimate (forward passes at the probe rates, every image of the listed sets "
      "through every model): {}\n{}",
      duration_text(total), out);
}

PreflightReport preflight(const Suite& suite, bool measure) {
  suite.Check();
  check_recipes(suite);
  PreflightReport report;
  for (const SuiteModel& m : suite.models) report.items.push_back(check_model(m, suite, measure));
  for (const SuiteSet& s : suite.sets) {
    std::string shown = !s.name.empty() ? s.name : s.set;
    if (!s.protocols.empty()) {
      std::string p;
      for (const auto& x : s.protocols) p += (p.empty() ? "" : ",") + x;
      shown += " (" + p + ")";
    }
    report.items.push_back(s.recipe ? check_recipe_set(s, shown) : check_listed_set(s, shown));
  }
  return report;
}

}  // namespace repbench::suite
