// repbench eval: descriptors in, protocol-correct mAP and a result record out.
#include <chrono>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "app/commands.h"
#include "core/commit_group.h"
#include "core/descriptors.h"
#include "core/error.h"
#include "core/path_guard.h"
#include "core/sha256.h"
#include "datasets/metric_spec.h"
#include "datasets/set_inputs.h"
#include "datasets/set_registry.h"
#include "evaluation/evaluate_set.h"
#include "metrics/descriptor_scores.h"
#include "metrics/rerank.h"
#include "postprocess/postprocess.h"
#include "report/copy_detection.h"
#include "report/eval_record.h"
#include "report/per_query.h"
#include "report/record.h"

namespace fs = std::filesystem;

namespace repbench::app {

namespace {

struct EvalArgs {
  std::string set, gnd, root, protocol, query_features, db_features, out;
  std::string model, category = "other", ap, similarity = "auto";  // ap "" = the set's own
  bool l2_normalize = false, no_query_crop = false;
  postprocess::Spec postprocess;  // descriptor post-processing (postprocess/postprocess.h)
  std::string rerank;             // DBA / alpha-QE (metrics/rerank.h)
  int bootstrap = 1000;
  uint64_t seed = 0;
  int threads = 0;
  report::CopyDetectionOptions copy_detection;  // disc21, copydays: micro-AP predictions
};

// record.json -> record.medium.json when several protocols are written.
std::string record_path(const std::string& out, const std::string& protocol, bool several) {
  if (!several) return out;
  fs::path p(out);
  return (p.parent_path() / (p.stem().string() + "." + protocol + p.extension().string()))
      .string();
}

nlohmann::json file_input(const std::string& path) {
  return {{"path", path}, {"sha256", sha256_file(path)}};
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void run_eval(const EvalArgs& a) {
  const auto t_start = std::chrono::steady_clock::now();
  std::vector<std::string> protocols;
  if (a.protocol == "all") {
    protocols = datasets::protocols_for(a.set);
  } else {
    protocols.push_back(a.protocol);
  }
  if (!a.ap.empty()) datasets::parse_ap_kind(a.ap, "--ap");  // before any file is read
  if (a.similarity != "auto" && a.similarity != "inner-product" && a.similarity != "split-product")
    fail("--similarity '{}' is not known; expected auto, inner-product or split-product",
         a.similarity);
  const metrics::RerankSpec rerank =
      a.rerank.empty() ? metrics::RerankSpec{} : metrics::parse_rerank(a.rerank);
  a.copy_detection.Check();

  // All protocols share the image lists, so descriptors are read and checked once.
  datasets::RetrievalSet first = datasets::load_set({a.set, protocols.front(), a.root, a.gnd});
  if (protocols.front().empty()) protocols.front() = first.protocol;
  // The set's own metric (its official evaluator's), with --ap overriding the AP definition.
  const datasets::MetricSpec metric = datasets::with_ap_override(first.metric, a.ap, "--ap");
  if (!metric.copy_detection && !a.copy_detection.score_norm_train.empty())
    fail("--score-norm-train applies to copy-detection sets (disc21, copydays); {} is scored by "
         "mAP",
         first.name);
  // No output may replace an input (core/path_guard.h), checked before any descriptor is read.
  PathGuard guard;
  guard.reads("--query-features", a.query_features)
      .reads("--db-features", a.db_features)
      .reads("--gnd", a.gnd)
      .reads("--root", a.root)
      .reads("the ground truth", first.source)
      .reads("--score-norm-train", a.copy_detection.score_norm_train)
      .reads("--postprocess-train", a.postprocess.train_file);
  if (fs::exists(a.set)) guard.reads("--set", a.set);
  if (!a.out.empty())
    for (const std::string& protocol : protocols) {
      const std::string path = record_path(a.out, protocol, protocols.size() > 1);
      const fs::path stem = fs::path(path).parent_path() / fs::path(path).stem();
      guard.writes("--out", path)
          .writes("--out", report::top_ids_path(path))
          .writes("--out", stem.string() + ".predictions.csv")
          .writes("--out", stem.string() + ".predictions_sn.csv");
    }
  guard.check();
  const bool want_split = a.similarity == "split-product";
  FloatArray q = read_descriptors(
      a.query_features,
      {static_cast<int64_t>(first.queries.size()), "queries of " + first.name, true});
  // Leave-in sets (GPR1200, CUB) often pass one file for both sides: read it once.
  const bool same_file = fs::path(a.db_features).lexically_normal() ==
                             fs::path(a.query_features).lexically_normal() &&
                         first.db.size() == first.queries.size();
  FloatArray db = same_file ? q
                            : read_descriptors(a.db_features,
                                               {static_cast<int64_t>(first.db.size()),
                                                "database of " + first.name, true});
  if (q.shape.size() != db.shape.size() || q.row_size() != db.row_size() ||
      (q.shape.size() == 3 && q.shape[1] != db.shape[1]))
    fail("{}: descriptors of shape [{}] do not match {} of shape [{}]", a.query_features,
         fmt::join(q.shape, ", "), a.db_features, fmt::join(db.shape, ", "));
  // Post-processing first (the chain decides its own normalisation: SSCD's ends in L2norm).
  const postprocess::Applied pp =
      postprocess::apply_to_both(a.postprocess, q, a.query_features, db, a.db_features);
  const bool tokens = q.shape.size() == 3;
  if (want_split && !tokens)
    fail("{}: split-product needs token descriptors [n, tokens, dim]; found [{}]",
         a.query_features, fmt::join(q.shape, ", "));
  if (!rerank.empty() && tokens)
    fail("{}: --rerank needs embeddings [n, d]; found [{}]", a.query_features,
         fmt::join(q.shape, ", "));
  // Token outputs are scored by split-product unless inner-product is asked for (then the
  // flattened vectors are compared).
  const bool split = tokens && a.similarity != "inner-product";
  // Re-ranking is defined on cosine similarities, so it normalises too.
  const bool normalize = a.l2_normalize || split || !rerank.empty();
  double rerank_seconds = 0;
  if (normalize) {  // split-product normalises the flattened vector, always
    l2_normalize_rows(q);
    l2_normalize_rows(db);
  }
  if (!rerank.empty()) {
    const auto t_rerank = std::chrono::steady_clock::now();
    metrics::apply_rerank(rerank, q, db, a.threads);
    rerank_seconds = seconds_since(t_rerank);
  }
  check_scores_finite(q, a.query_features, db, a.db_features);
  const std::string model = a.model.empty() ? fs::path(a.query_features).stem().string() : a.model;
  report::RecordHeader header;
  header.model = {{"name", model}, {"category", a.category}};
  header.similarity = split ? "split-product" : "inner-product";
  const nlohmann::json q_input = file_input(a.query_features);
  header.inputs = {{"query_features", q_input},
                   {"db_features", same_file ? q_input : file_input(a.db_features)},
                   {"ground_truth", datasets::ground_truth_input(first)}};
  header.options = {{"l2_normalize", normalize},
                    {"query_crop", first.crop_queries && !a.no_query_crop}};
  if (!pp.options.is_null()) {
    header.options["postprocess"] = pp.options;
    header.inputs["postprocess_train"] = file_input(a.postprocess.train_file);
    header.timings["postprocess_from_cache"] = pp.from_cache;
  }
  if (!rerank.empty()) {
    header.options["rerank"] = rerank.to_string();
    header.timings["rerank_seconds"] = rerank_seconds;
  }
  header.seed = a.seed;
  header.timings["load_seconds"] = seconds_since(t_start);

  // A leave-in set's n x n scores come from SYRK here, before evaluate(): timed apart.
  const auto t_scores = std::chrono::steady_clock::now();
  const std::unique_ptr<metrics::ScoreSource> scores =
      metrics::descriptor_scores(q, db, split, metrics::ScoreUse::kEveryRow, a.threads);
  header.timings["scores_seconds"] = seconds_since(t_scores);
  fmt::print("{} — model {} — {} queries, {} database images, {} {}\n", first.name, model,
             first.queries.size(), first.db.size(),
             split ? fmt::format("{} tokens x {}", q.shape[1], q.shape[2])
                   : fmt::format("d = {}", q.row_size()),
             header.similarity);
  fmt::print("metric: {}\n", metric.summary());
  if (!pp.options.is_null())
    fmt::print("{}\n", postprocess::describe(a.postprocess, pp));
  if (!rerank.empty()) fmt::print("rerank: {}\n", rerank.to_string());
  std::string mp_header;
  metrics::EvalOptions columns;  // the mP@k cut-offs of the set's metric
  datasets::apply_metric(metric, columns);
  for (int k : columns.ks) mp_header += fmt::format(" {:>7}", fmt::format("mP@{}", k));
  fmt::print("{:<10} {:>7} {:>17}{} {:>8}\n", "protocol", "mAP", "95% CI", mp_header, "queries");
  evaluation::SetEvalOptions so;
  so.bootstrap = a.bootstrap;
  so.seed = a.seed;
  so.threads = a.threads;
  so.ap = a.ap;
  so.copy_detection = a.copy_detection;
  so.copy_detection.threads = a.threads;
  so.copy_detection.l2_normalize_train = normalize;
  if (!a.postprocess.chain.empty())  // the same trained chain (from the cache) as q and db
    so.copy_detection.transform_train = [&a](FloatArray& train, const std::string& name) {
      const postprocess::Spec& s = a.postprocess;
      postprocess::Postprocessor::prepare(
          s.chain, s.train_file, s.cache_dir.empty() ? postprocess::default_cache_dir() : s.cache_dir,
          train.row_size())
          .apply(train, name);
    };
  // Every protocol's record, top ids and predictions become visible together, once all are
  // complete (core/commit_group.h).
  CommitGroup outputs;
  for (const std::string& protocol : protocols) {
    datasets::RetrievalSet set =
        protocol == first.protocol ? first : datasets::load_set({a.set, protocol, a.root, a.gnd});
    const evaluation::SetEvaluation e = evaluation::evaluate_set(set, *scores, q, split, so);
    const metrics::EvalResult& r = e.result;
    const nlohmann::json& m = e.metrics;
    std::string mp;
    for (double v : r.mp_at_k) mp += fmt::format(" {:>7.2f}", 100 * v);
    fmt::print("{:<10} {:>7.2f} {:>17}{} {:>8}\n", protocol, 100 * r.map,
               fmt::format("[{:.2f}, {:.2f}]", 100 * r.map_ci_low, 100 * r.map_ci_high), mp,
               r.queries_scored);
    if (m.contains("map_by_group"))
      for (const auto& g : m["map_by_group"])
        fmt::print("  {:<16} mAP {:>6.2f}  ({} queries)\n", g["group"].get<std::string>(),
                   100 * g["map"].get<double>(), g["queries"].get<int64_t>());
    for (size_t i = 0; i < e.options.recall_ks.size(); ++i)
      fmt::print("  Recall@{:<2} {:>6.2f}\n", e.options.recall_ks[i], 100 * r.mrecall_at_k[i]);
    if (e.options.mrr) fmt::print("  MRR       {:>6.2f}\n", 100 * r.mrr);
    if (e.copy_detection) fmt::print("{}", e.copy_detection->summary);
    if (a.out.empty()) continue;
    report::RecordHeader h = header;
    h.set = set.name;
    h.protocol = protocol;
    const std::string path = record_path(a.out, protocol, protocols.size() > 1);
    report::write_eval_record(path, evaluation::make_set_record(h, e, set, path),
                              evaluation::query_results(e));
    fmt::print("  record: {}\n", path);
  }
  outputs.commit();
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Score precomputed descriptors on a retrieval set (mAP, mP@k, bootstrap CI).");
  cmd->add_option("--set", args->set,
                  "Set name (see `repbench datasets list`) or a path to a gnd.json")
      ->required();
  cmd->add_option("--gnd", args->gnd, "Ground-truth file (e.g. gnd_roxford5k.pkl)");
  cmd->add_option("--root", args->root,
                  "Dataset folder (holds the ground truth if --gnd is not given)");
  cmd->add_option("--protocol", args->protocol,
                  "easy|medium|hard for revisitop sets, all = every protocol of the set; "
                  "default: the set's default");
  cmd->add_option("--query-features,-q", args->query_features,
                  ".npy float32/float16 [nq, d] (or [nq, tokens, d]), rows in the set's query order")
      ->required();
  cmd->add_option("--db-features,-d", args->db_features,
                  ".npy float32/float16 [nb, d] (or [nb, tokens, d]), rows in the set's db order")
      ->required();
  cmd->add_option("--out,-o", args->out,
                  "Result record JSON (with --protocol all: one per protocol, NAME.PROTOCOL.json)");
  cmd->add_option("--model", args->model, "Model name for the record (default: query file stem)");
  cmd->add_option("--category", args->category,
                  "Model category for the leaderboard (CD/IR, PT, SSL, ...)");
  cmd->add_option("--similarity", args->similarity,
                  "auto (split-product for token descriptors, else inner product), "
                  "inner-product, or split-product")
      ->capture_default_str();
  cmd->add_flag("--l2-normalize", args->l2_normalize, "L2-normalise descriptor rows before scoring");
  cmd->add_flag("--no-query-crop", args->no_query_crop,
                "Record that the query descriptors come from uncropped images (the paper's "
                "lineage); the official protocols crop queries to their box");
  add_postprocess_options(cmd, args->postprocess.chain, args->postprocess.train_file,
                          args->postprocess.cache_dir);
  cmd->add_option("--rerank", args->rerank,
                  "Re-ranking: 'aqe:k=K,alpha=A' (alpha query expansion), 'dba:k=K,alpha=A' "
                  "(database-side augmentation) or both, 'dba:...;aqe:...' (DBA first); rows are "
                  "L2-normalised first");
  cmd->add_option("--ap", args->ap,
                  "AP definition: trapezoid (revisitop) or non-interpolated; default: the set's "
                  "own (see `repbench datasets list`)");
  cmd->add_option("--bootstrap", args->bootstrap, "Bootstrap samples for the mAP 95% interval")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--seed", args->seed, "Seed of the bootstrap")->capture_default_str();
  cmd->add_option("--threads", args->threads, "Worker threads (0 = all cores)")
      ->capture_default_str();
  // Copy-detection sets (disc21, copydays; docs/PROTOCOLS.md §12).
  report::CopyDetectionOptions& cd = args->copy_detection;
  cmd->add_option("--candidates", cd.candidates,
                  "Copy-detection sets: knn (the best --candidates-k references of every query, "
                  "SSCD's default) or global (the --max-results best pairs overall, isc2021's)")
      ->capture_default_str();
  cmd->add_option("--candidates-k", cd.k,
                  "Copy-detection sets: predictions per query with --candidates knn (0 = the "
                  "set's: 10 for disc21, 100 for copydays)")
      ->capture_default_str();
  cmd->add_option("--max-results", cd.max_results,
                  "Copy-detection sets: cap on predictions with --candidates global")
      ->capture_default_str();
  cmd->add_option("--score-norm-train", cd.score_norm_train,
                  "Copy-detection sets: training descriptors (.npy, e.g. of DISC21's training/) "
                  "for score normalisation; micro_ap_sn is then reported beside micro_ap");
  CLI::Option* score_norm = cmd->add_option("--score-norm", cd.score_norm,
                  "Score normalisation: WEIGHT[FIRST,LAST] (SSCD: subtract WEIGHT x the mean "
                  "score of the query's training neighbours at ranks FIRST..LAST) or "
                  "isc2021:n=N[,factor=F] (the N-th neighbour's score x F)")
      ->capture_default_str();
  cmd->footer(
      "Examples:\n"
      "  repbench eval --set roxford5k --gnd gnd_roxford5k.pkl --protocol all \\\n"
      "      -q q.npy -d db.npy --model sscd --category CD/IR --out results/sscd.roxford5k.json\n"
      "  repbench eval --set my-set/gnd.json -q q.npy -d db.npy --out record.json\n"
      "  repbench eval --set disc21 --root DISC21 -q q.npy -d refs.npy --l2-normalize \\\n"
      "      --score-norm-train train.npy --out disc21.json   # + disc21.predictions*.csv\n"
      "Rows follow the set's own order: qimlist/imlist for revisitop sets, queries/db for gnd.json.\n"
      "Similarity is the inner product of the given rows (pass --l2-normalize for cosine);\n"
      "token descriptors [n, tokens, d] are scored by split-product: the flattened vector is\n"
      "L2-normalised once and the score is the maximum over aligned tokens of their dot products.");
  cmd->callback([args, score_norm] {
    if (score_norm->count() > 0 && args->copy_detection.score_norm_train.empty())
      fail("--score-norm needs --score-norm-train (the training descriptors it normalises by)");
    run_eval(*args);
  });
}

}  // namespace repbench::app
