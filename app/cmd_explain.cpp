// repbench explain: a record's failure page (its worst queries), or two records' comparison page.
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "app/commands.h"
#include "core/descriptors.h"
#include "core/error.h"
#include "core/path_guard.h"
#include "core/sha256.h"
#include "datasets/set_registry.h"
#include "evaluation/scoring.h"
#include "postprocess/postprocess.h"
#include "records/record.h"
#include "report/failure_page.h"

namespace fs = std::filesystem;

namespace repbench::app {

namespace {

struct ExplainArgs {
  std::vector<std::string> records;
  std::string root, gnd, out;
  std::string query_features, db_features;
  postprocess::Spec postprocess;  // the training file and cache of the record's post-processing
  report::FailurePageOptions page;
};

// The record's own scores from descriptors: scored as the record says it was
// (evaluation::record_pair_options: similarity, normalisation, post-processing, re-ranking);
// descriptor files the record names by sha256 must be those.
void check_input(const nlohmann::json& record, const char* key, const std::string& path,
                 const std::string& record_path) {
  const auto inputs = record.find("inputs");
  if (inputs == record.end() || !inputs->is_object() || !inputs->contains(key)) return;
  const nlohmann::json& in = (*inputs)[key];
  if (in.is_object() && in.contains("sha256") && in["sha256"].is_string() &&
      in["sha256"].get<std::string>() != sha256_file(path))
    fail("{}: not the descriptors {} was scored with (its inputs.{} has another sha256)", path,
         record_path, key);
}

std::unique_ptr<evaluation::ScoredPair> record_scores(const ExplainArgs& a,
                                                      const datasets::RetrievalSet& set) {
  if (a.query_features.empty() && a.db_features.empty()) return nullptr;
  if (a.query_features.empty() || a.db_features.empty())
    fail("give both --query-features and --db-features, or neither");
  if (a.records.size() != 1) fail("scores (-q/-d) are shown for one record, not a comparison");
  const nlohmann::json r = records::read_record(a.records[0]);
  check_input(r, "query_features", a.query_features, a.records[0]);
  check_input(r, "db_features", a.db_features, a.records[0]);
  const evaluation::PairOptions o =
      evaluation::record_pair_options(r, a.records[0], a.postprocess);
  return std::make_unique<evaluation::ScoredPair>(evaluation::score_pair(
      evaluation::Descriptors::from_array(
          read_descriptors(a.query_features, {static_cast<int64_t>(set.queries.size()),
                                              "queries of " + set.name, true}),
          a.query_features, {}),
      evaluation::Descriptors::from_array(
          read_descriptors(a.db_features, {static_cast<int64_t>(set.db.size()),
                                           "database of " + set.name, true}),
          a.db_features, {}),
      o, metrics::ScoreUse::kSomeRows));
}

// The set a record was scored on, loaded from the user's --root (and --gnd).
datasets::RetrievalSet load_record_set(const std::string& record_path, const ExplainArgs& a) {
  const nlohmann::json r = records::read_record(record_path);
  const std::string set = r.value("set", std::string());
  const std::string protocol = r.value("protocol", std::string());
  if (!a.gnd.empty() && datasets::is_gnd_json_set(a.gnd))
    return datasets::load_set({a.gnd, protocol, a.root, ""});
  if (datasets::find_set(set)) return datasets::load_set({set, protocol, a.root, a.gnd});
  if (!a.root.empty() && datasets::is_gnd_json_set(a.root))
    return datasets::load_set({a.root, protocol, "", ""});
  fail("{}: its set '{}' is not a registered set; give --root the folder that holds its "
       "gnd.json, or --gnd that file",
       record_path, set);
}

std::string stem(const std::string& path) {
  return fs::path(path).stem().string();
}

void run_explain(const ExplainArgs& a) {
  if (a.records.size() > 2) fail("explain takes one record (its failures) or two (a comparison)");
  // By default the page goes beside the (first) record, where the leaderboard looks for it.
  const fs::path dir = a.out.empty() ? fs::path(a.records[0]).parent_path() : fs::path(a.out);
  const std::string out =
      a.records.size() == 1
          ? report::failure_page_path((dir / fs::path(a.records[0]).filename()).string())
          : (dir / (stem(a.records[0]) + ".vs." + stem(a.records[1]) + ".html")).string();
  PathGuard guard;
  for (const std::string& r : a.records) guard.reads("record", r);
  guard.reads("--query-features", a.query_features)
      .reads("--db-features", a.db_features)
      .reads("--gnd", a.gnd)
      .reads("--postprocess-train", a.postprocess.train_file)
      .writes("--out", out)
      .check();
  const datasets::RetrievalSet set = load_record_set(a.records.front(), a);
  const std::unique_ptr<evaluation::ScoredPair> scores = record_scores(a, set);
  report::FailurePageOptions page = a.page;
  if (scores) page.scores = scores->scores.get();
  if (a.records.size() == 1)
    report::write_failure_page(a.records[0], set, out, page);
  else
    report::write_comparison_page(a.records[0], a.records[1], set, out, a.page);
  fmt::print("wrote {}\n", out);
}

}  // namespace

void add_explain_command(CLI::App& app) {
  auto args = std::make_shared<ExplainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "explain", "Show where a model fails: its worst queries (or where two models differ most).");
  cmd->add_option("records", args->records,
                  "One record (its failure page) or two records of the same queries (their "
                  "comparison); records with per-query data (schema repbench.record/2)")
      ->required()
      ->expected(1, 2);
  cmd->add_option("--root", args->root,
                  "The set's folder (its images, and its annotations unless --gnd is given)")
      ->required();
  cmd->add_option("--gnd", args->gnd, "Ground-truth file (e.g. gnd_roxford5k.pkl, or a gnd.json)");
  cmd->add_option("--out,-o", args->out, "Folder for the page (default: the record's folder)");
  cmd->add_option("--query-features,-q", args->query_features,
                  "With -d: the record's query descriptors, to show scores (one record only)");
  cmd->add_option("--db-features,-d", args->db_features,
                  "With -q: the record's database descriptors");
  cmd->add_option("--postprocess-train", args->postprocess.train_file,
                  "With -q/-d: the training file of the record's post-processing, when the "
                  "record does not name it (records of `run`) or it has moved; its sha256 must "
                  "be the record's");
  cmd->add_option("--postprocess-cache", args->postprocess.cache_dir,
                  "With -q/-d: where the record's trained post-processing is kept (default: "
                  "$XDG_CACHE_HOME/repbench/postprocess, else ~/.cache/repbench/postprocess)");
  cmd->add_option("--worst", args->page.worst, "Queries shown")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--false-positives", args->page.false_positives,
                  "False positives shown per query (the rest are counted)")
      ->capture_default_str();
  cmd->add_option("--thumb-px", args->page.thumb_px, "Longest side of a thumbnail, in pixels")
      ->capture_default_str()
      ->check(CLI::Range(16, 1024));
  cmd->footer(
      "Writes OUT/<record>.failures.html (one record) or OUT/<a>.vs.<b>.html (two), one\n"
      "self-contained page. One record: the --worst queries by AP, each with its crop box, its\n"
      "best-ranked positive and the false positives ranked above it (junk is not counted). Two:\n"
      "the queries where their APs differ most, side by side. Ranks come from the record's\n"
      "top-ids file (<record>.top100.npy), which holds no scores; with -q/-d (the record's\n"
      "descriptors, scored as the record says: similarity, L2 normalisation, post-processing,\n"
      "re-ranking) a failure page\n"
      "prints each shown item's score. The records name their set and\n"
      "protocol; --root (and --gnd) load it, and its queries must hash to the record's\n"
      "queries_sha256. `repbench run` writes these pages beside its records, and the html\n"
      "leaderboard links each cell to its page.\n"
      "Examples:\n"
      "  repbench explain results/sscd.roxford5k.medium.json --root data/roxford5k --out pages/\n"
      "  repbench explain a.json b.json --root my-set/ --out pages/ --worst 10");
  cmd->callback([args] { run_explain(*args); });
}

}  // namespace repbench::app
