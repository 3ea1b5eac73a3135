// repbench search: exact top-k search of query descriptors in a database, scored as eval scores
// them (inner product, or split-product for token descriptors).
#include <memory>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "app/commands.h"
#include "core/commit_group.h"
#include "core/descriptors.h"
#include "core/error.h"
#include "core/npy.h"
#include "core/path_guard.h"
#include "evaluation/descriptor_eval.h"
#include "metrics/precision.h"
#include "postprocess/postprocess.h"
#include "scan/search_descriptors.h"

namespace repbench::app {

namespace {

struct SearchArgs {
  std::string queries, db, out;
  evaluation::SearchRequest request;  // k, similarity, normalisation, post-processing, threads,
                                      // the candidate pass's precision
  std::string precision = "auto", similarity = "auto";  // parsed into `request` when run
};

// Reads both files, then searches as scan/search_descriptors.h does for every caller.
void run_search(const SearchArgs& a) {
  evaluation::SearchRequest request = a.request;
  request.precision = metrics::parse_precision(a.precision);
  request.pair.similarity = evaluation::parse_similarity(a.similarity);
  request.Check();
  const std::string ids_path = a.out + ".ids.npy", scores_path = a.out + ".scores.npy";
  PathGuard()  // no output replaces an input (core/path_guard.h), before any work
      .reads("--queries", a.queries)
      .reads("--db", a.db)
      .reads("--postprocess-train", request.pair.postprocess.train_file)
      .writes("--out", ids_path)
      .writes("--out", scores_path)
      .check();
  evaluation::SearchResult s = scan::search_descriptors(
      request, evaluation::Descriptors::from_array(read_descriptors(a.queries, {-1, "", true}), a.queries, {}),
      evaluation::Descriptors::from_array(read_descriptors(a.db, {-1, "", true}), a.db, {}));
  const evaluation::PreparedPair& p = s.pair;
  if (!p.postprocess.options.is_null())
    fmt::print("{}\n", postprocess::describe(a.request.pair.postprocess, p.postprocess));
  const metrics::TopKResult& r = s.topk;
  CommitGroup outputs;  // ids and scores become visible together (core/commit_group.h)
  write_npy(ids_path, r.ids.data(), {r.nq, r.k});
  write_npy(scores_path, r.scores.data(), {r.nq, r.k});
  outputs.commit();
  fmt::print("searched {} queries in {} database items ({}, k = {}) in {:.3f} s\n",
             p.q.view.rows(), p.db.view.rows(),
             p.split ? fmt::format("{} tokens x {}, split-product", p.q.view.shape[1],
                                   p.q.view.shape[2])
                     : fmt::format("d = {}, inner product", p.q.view.row_size()),
             a.request.k, s.seconds);
  print_precision(s.precision);
  fmt::print("wrote {} and {}\n", ids_path, scores_path);
}

}  // namespace

void add_search_command(CLI::App& app) {
  auto args = std::make_shared<SearchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "search", "Exact top-k search, inner product or split-product (ids and scores as .npy).");
  cmd->add_option("--queries", args->queries, ".npy float32/float16 [nq, d] or [nq, tokens, d]")
      ->required();
  cmd->add_option("--db", args->db, ".npy float32/float16 [nb, d] or [nb, tokens, d]")->required();
  cmd->add_option("-k", args->request.k, "Neighbours per query")->capture_default_str();
  cmd->add_option("--out,-o", args->out, "Output prefix: PREFIX.ids.npy, PREFIX.scores.npy")
      ->required();
  cmd->add_flag("--l2-normalize", args->request.pair.l2_normalize, "L2-normalise rows first (cosine)");
  cmd->add_option("--similarity", args->similarity,
                  "auto (split-product for token descriptors, else inner product), "
                  "inner-product, or split-product")
      ->capture_default_str();
  add_postprocess_options(cmd, args->request.pair.postprocess.chain, args->request.pair.postprocess.train_file,
                          args->request.pair.postprocess.cache_dir);
  cmd->add_option("--threads", args->request.pair.threads, "Worker threads (0 = all cores)")
      ->capture_default_str();
  add_precision_option(cmd, args->precision);
  cmd->footer(
      "Output: PREFIX.ids.npy (int64 [nq, k]) and PREFIX.scores.npy (float32 [nq, k]), best\n"
      "first; equal scores ordered by ascending database index; when the database has fewer\n"
      "than k items the rest of a row is id -1, score -inf. Row i is query i; revisitop's\n"
      "compute_map wants ranks [db, queries] (one column per query, the whole database):\n"
      "search with -k DB_SIZE and take ranks = np.load('PREFIX.ids.npy').T.\n"
      "Token descriptors [n, tokens, d] are scored as eval scores them: split-product (max over\n"
      "token positions of the per-token inner product, after L2-normalising each flattened row),\n"
      "or with --similarity inner-product the flattened rows' inner product.\n"
      "Scores are exact: each candidate of the (fp32 or bf16) candidate pass that could be in the\n"
      "top k is rescored in double, so --precision changes the time, never the output.\n"
      "Examples:\n"
      "  repbench search --queries gen.npy --db train.npy -k 5 --out matches\n"
      "  repbench search --queries gen_tokens.npy --db train_tokens.npy --similarity split-product "
      "\\\n"
      "      -k 5 --out matches");
  cmd->callback([args] { run_search(*args); });
}

}  // namespace repbench::app
