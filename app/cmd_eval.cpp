// repbench eval: descriptors in, protocol-correct mAP and a result record out.
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "app/commands.h"
#include "app/eval_summary.h"
#include "core/commit_group.h"
#include "core/descriptors.h"
#include "core/error.h"
#include "core/path_guard.h"
#include "datasets/metric_spec.h"
#include "evaluation/copy_detection.h"
#include "evaluation/descriptor_eval.h"
#include "records/per_query.h"

namespace fs = std::filesystem;

namespace repbench::app {

namespace {

struct EvalArgs {
  std::string query_features, db_features, out;
  std::string similarity = "auto";  // parsed into `request` when run
  std::string ap;                   // likewise (empty: the set's own AP definition)
  evaluation::DescriptorEvalRequest request;  // set, protocol, options (category "other")
};

// record.json -> record.medium.json when several protocols are written.
std::string record_path(const std::string& out, const std::string& protocol, bool several) {
  if (!several) return out;
  fs::path p(out);
  return (p.parent_path() / (p.stem().string() + "." + protocol + p.extension().string()))
      .string();
}

// Reads the descriptors, then scores them as evaluation/descriptor_eval.h does for every caller.
void run_eval(const EvalArgs& a) {
  evaluation::DescriptorEvalRequest r = a.request;
  r.similarity = evaluation::parse_similarity(a.similarity);
  if (!a.ap.empty()) r.ap = datasets::parse_ap_kind(a.ap, "--ap");
  const evaluation::EvalSetup setup = evaluation::setup_evaluation(r);
  const datasets::RetrievalSet& first = setup.first;
  if (r.model.empty()) r.model = fs::path(a.query_features).stem().string();
  // No output may replace an input (core/path_guard.h), checked before any descriptor is read.
  PathGuard guard;
  guard.reads("--query-features", a.query_features)
      .reads("--db-features", a.db_features)
      .reads("--gnd", r.gnd)
      .reads("--root", r.root)
      .reads("the ground truth", first.source)
      .reads("--score-norm-train", r.copy_detection.score_norm_train)
      .reads("--postprocess-train", r.postprocess.train_file);
  if (fs::exists(r.set)) guard.reads("--set", r.set);
  if (!a.out.empty())
    for (const std::string& protocol : setup.protocols) {
      const std::string path = record_path(a.out, protocol, setup.protocols.size() > 1);
      const fs::path stem = fs::path(path).parent_path() / fs::path(path).stem();
      guard.writes("--out", path)
          .writes("--out", records::top_ids_path(path))
          .writes("--out", stem.string() + ".predictions.csv")
          .writes("--out", stem.string() + ".predictions_sn.csv");
    }
  guard.check();
  // Each file is read (and checked) before it is hashed for the record.
  evaluation::Descriptors q = evaluation::Descriptors::from_array(
      read_descriptors(a.query_features, setup.queries()), a.query_features, {});
  q.input = evaluation::file_input(a.query_features);
  // Leave-in sets (GPR1200, CUB) often pass one file for both sides: read it once.
  const bool same_file = fs::path(a.db_features).lexically_normal() ==
                             fs::path(a.query_features).lexically_normal() &&
                         first.db.size() == first.queries.size();
  evaluation::Descriptors db = q;
  if (!same_file) {
    db = evaluation::Descriptors::from_array(read_descriptors(a.db_features, setup.database()),
                                             a.db_features, {});
    db.input = evaluation::file_input(a.db_features);
  }
  db.name = a.db_features;
  const evaluation::DescriptorEvaluation d =
      evaluation::evaluate_descriptors(r, setup, std::move(q), std::move(db));
  print_eval_header(r, setup, d);
  // Every protocol's record, top ids and predictions become visible together (core/commit_group.h).
  CommitGroup outputs;
  for (size_t i = 0; i < d.protocols.size(); ++i) {
    const std::string& protocol = setup.protocols[i];
    print_eval_protocol(protocol, d.protocols[i].evaluation);
    if (a.out.empty()) continue;
    const std::string path = record_path(a.out, protocol, d.protocols.size() > 1);
    d.write_record(i, path);
    fmt::print("  record: {}\n", path);
  }
  outputs.commit();
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Score precomputed descriptors on a retrieval set (mAP, mP@k, bootstrap CI).");
  cmd->add_option("--set", args->request.set,
                  "Set name (see `repbench datasets list`) or a path to a gnd.json")
      ->required();
  cmd->add_option("--gnd", args->request.gnd, "Ground-truth file (e.g. gnd_roxford5k.pkl)");
  cmd->add_option("--root", args->request.root,
                  "Dataset folder (holds the ground truth if --gnd is not given)");
  cmd->add_option("--protocol", args->request.protocol,
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
  cmd->add_option("--model", args->request.model, "Model name for the record (default: query file stem)");
  cmd->add_option("--category", args->request.category,
                  "Model category for the leaderboard (CD/IR, PT, SSL, ...)");
  cmd->add_option("--similarity", args->similarity,
                  "auto (split-product for token descriptors, else inner product), "
                  "inner-product, or split-product")
      ->capture_default_str();
  cmd->add_flag("--l2-normalize", args->request.l2_normalize, "L2-normalise descriptor rows before scoring");
  cmd->add_flag("--no-query-crop", args->request.no_query_crop,
                "Record that the query descriptors come from uncropped images (the paper's "
                "lineage); the official protocols crop queries to their box");
  add_postprocess_options(cmd, args->request.postprocess.chain, args->request.postprocess.train_file,
                          args->request.postprocess.cache_dir);
  cmd->add_option("--rerank", args->request.rerank,
                  "Re-ranking: 'aqe:k=K,alpha=A' (alpha query expansion), 'dba:k=K,alpha=A' "
                  "(database-side augmentation) or both, 'dba:...;aqe:...' (DBA first); rows are "
                  "L2-normalised first");
  cmd->add_option("--ap", args->ap,
                  "AP definition: trapezoid (revisitop) or non-interpolated; default: the set's "
                  "own (see `repbench datasets list`)");
  cmd->add_option("--bootstrap", args->request.bootstrap, "Bootstrap samples for the mAP 95% interval")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--seed", args->request.seed, "Seed of the bootstrap")->capture_default_str();
  cmd->add_option("--threads", args->request.threads, "Worker threads (0 = all cores)")
      ->capture_default_str();
  // Copy-detection sets (disc21, copydays; docs/PROTOCOLS.md §12).
  evaluation::CopyDetectionOptions& cd = args->request.copy_detection;
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
      "Beside each record, RECORD.top100.npy: int32 [queries, 100] (fewer columns when the\n"
      "database is smaller); row i holds query i's best database ids (0-based, the set's db\n"
      "order), best first, junk included, ties by ascending id. revisitop's compute_map takes\n"
      "ranks [db, queries] (one column per query): ranks = np.load('RECORD.top100.npy').T is\n"
      "its first 100 rows; positives ranked below 100 then count as not found, so for the\n"
      "record's exact mAP rank the whole database (`repbench search -k DB_SIZE`, then\n"
      "np.load('PREFIX.ids.npy').T).\n"
      "Similarity is the inner product of the given rows (pass --l2-normalize for cosine);\n"
      "token descriptors [n, tokens, d] are scored by split-product: the flattened vector is\n"
      "L2-normalised once and the score is the maximum over aligned tokens of their dot products.");
  cmd->callback([args, score_norm] {
    if (score_norm->count() > 0 && args->request.copy_detection.score_norm_train.empty())
      fail("--score-norm needs --score-norm-train (the training descriptors it normalises by)");
    run_eval(*args);
  });
}

}  // namespace repbench::app
