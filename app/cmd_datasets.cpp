// repbench datasets list|info|verify|export: what sets repbench knows, what a set on disk holds,
// whether its files are complete, and the set as a gnd.json.
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "datasets/gnd_json.h"
#include "datasets/set_registry.h"
#include "datasets/set_summary.h"
#include "datasets/verify.h"
#include "core/progress.h"

namespace fs = std::filesystem;

namespace repbench::app {

namespace {

struct DatasetsArgs {
  std::string set, root, gnd, protocol, manifest, problems, out;
  bool json = false, no_decode = false;
  int threads = 0;
};

std::string count_str(int64_t n) { return n < 0 ? "varies" : std::to_string(n); }

void run_list() {
  for (const auto& s : datasets::known_sets()) {
    std::string protocols;
    for (const auto& p : s.protocols)
      protocols += (protocols.empty() ? "" : ", ") + p + (p == s.default_protocol ? "*" : "");
    fmt::print("{}\n  {}\n  protocols: {} (* = default); {} database images, {} queries\n"
               "  files: {}\n  metric: {}\n  self-match: {}; counted queries: {}\n\n",
               s.name, s.description, protocols, count_str(s.db_images), count_str(s.queries),
               s.files, s.metric.summary(), s.metric.self_match, s.metric.queries);
  }
  fmt::print("Any other set: a gnd.json (schema repbench.gnd/1) passed as --set PATH; scored by "
             "its \"metric\" object, else as revisitop's compute_map (trapezoid AP).\n");
}

void run_info(const DatasetsArgs& a) {
  datasets::RetrievalSet set = datasets::load_set({a.set, a.protocol, a.root, a.gnd});
  const nlohmann::json j = datasets::set_summary_json(set);
  if (a.json) {
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("{} ({} protocol): {} database images, {} queries ({} scored), {} positives, {} junk\n",
             set.name, set.protocol, set.db.size(), set.queries.size(), set.scorable_queries(),
             set.positives_total(), set.junk_total());
  fmt::print("queries cropped to their box: {}; images under {}\n", set.crop_queries ? "yes" : "no",
             set.root);
  fmt::print("metric: {}\n", set.metric.summary());
}

void run_verify(const DatasetsArgs& a) {
  datasets::RetrievalSet set = datasets::load_set({a.set, a.protocol, a.root, a.gnd});
  datasets::VerifyOptions opt;
  opt.manifest = !a.manifest.empty()
                     ? a.manifest
                     : (fs::path(set.root) / ("repbench-" + set.name + ".sha256")).string();
  if (const datasets::SetInfo* info = datasets::find_set(set.name)) {
    opt.expected_db = info->db_images;
    opt.expected_queries = info->queries;
  }
  opt.decode = !a.no_decode;
  opt.threads = a.threads;
  std::unique_ptr<Progress> progress;
  int64_t shown = 0;
  opt.on_progress = [&](int64_t done, int64_t total) {
    if (!progress) progress = std::make_unique<Progress>("verify " + set.name, total);
    progress->advance(done - shown);
    shown = done;
  };
  datasets::VerifyReport r = datasets::verify_set(set, opt);
  if (progress) progress->finish();
  fmt::print("{}: {} images checked, {} fine, {} with problems\n", set.name, r.images, r.ok,
             r.problems.size());
  for (const auto& m : r.count_mismatches) fmt::print("  count differs from the official: {}\n", m);
  constexpr size_t kScreenful = 20;
  for (size_t i = 0; i < r.problems.size() && i < kScreenful; ++i)
    fmt::print("  {}: {}\n", r.problems[i].path, r.problems[i].reason);
  if (!r.problems.empty()) {
    const std::string list =
        !a.problems.empty() ? a.problems : opt.manifest + ".problems.txt";
    std::string text;
    for (const auto& p : r.problems) text += p.path + "\t" + p.reason + "\n";
    write_file_atomic(list, text);
    if (r.problems.size() > kScreenful)
      fmt::print("  ... and {} more\n", r.problems.size() - kScreenful);
    fmt::print("full list: {}\n", list);
  }
  if (r.manifest_compared) fmt::print("compared against the manifest {}\n", opt.manifest);
  if (r.manifest_written) fmt::print("wrote the manifest {}\n", opt.manifest);
  if (!r.passed()) fail("{}: verification failed ({} problems, {} count mismatches)", set.name,
                        r.problems.size(), r.count_mismatches.size());
}

void run_export(const DatasetsArgs& a) {
  datasets::RetrievalSet set = datasets::load_set({a.set, a.protocol, a.root, a.gnd});
  datasets::write_gnd_json(set, a.out);
  fmt::print("wrote {} ({} database images, {} queries)\n", a.out, set.db.size(),
             set.queries.size());
}

void add_set_options(CLI::App* cmd, DatasetsArgs& a) {
  cmd->add_option("--set", a.set, "Set name (see `repbench datasets list`) or a gnd.json")
      ->required();
  cmd->add_option("--root", a.root, "Dataset folder");
  cmd->add_option("--gnd", a.gnd, "Annotation file (default: the set's file in --root)");
  cmd->add_option("--protocol", a.protocol, "Protocol (default: the set's default)");
}

}  // namespace

void add_datasets_command(CLI::App& app) {
  auto args = std::make_shared<DatasetsArgs>();
  CLI::App* cmd = app.add_subcommand("datasets", "List, inspect, verify and export retrieval sets.");
  cmd->require_subcommand(1);

  CLI::App* list = cmd->add_subcommand("list", "Every known set, its protocols, counts and files.");
  list->callback([] { run_list(); });

  CLI::App* info = cmd->add_subcommand("info", "Counts of a set on disk under a protocol.");
  add_set_options(info, *args);
  info->add_flag("--json", args->json, "Print JSON");
  info->footer(
      "Examples:\n"
      "  repbench datasets info --set roxford5k --gnd gnd_roxford5k.pkl --protocol hard --json\n"
      "  repbench datasets info --set cub200 --root data/CUB_200_2011");
  info->callback([args] { run_info(*args); });

  CLI::App* verify = cmd->add_subcommand(
      "verify", "Check that every image is present and decodes, and that counts are official.");
  add_set_options(verify, *args);
  verify->add_option("--manifest", args->manifest,
                     "sha256 manifest: compared when it exists, written when it does not "
                     "(default ROOT/repbench-SET.sha256)");
  verify->add_option("--problems", args->problems, "Where the full problem list is written");
  verify->add_flag("--no-decode", args->no_decode, "Only check presence and checksums");
  verify->add_option("--threads", args->threads, "Worker threads (0 = all cores)");
  verify->footer(
      "Exit status 2 when an image is missing, corrupt or changed, or a count is not the\n"
      "official one. Example:\n"
      "  repbench datasets verify --set instre --root data/instre");
  verify->callback([args] { run_verify(*args); });

  CLI::App* exp = cmd->add_subcommand("export", "Write a set (under one protocol) as gnd.json.");
  add_set_options(exp, *args);
  exp->add_option("--out,-o", args->out, "Output gnd.json")->required();
  exp->footer("Example:\n  repbench datasets export --set gpr1200 --root data/GPR1200 --out gpr.json");
  exp->callback([args] { run_export(*args); });
}

}  // namespace repbench::app
