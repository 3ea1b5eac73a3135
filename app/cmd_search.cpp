// repbench search: exact top-k search of query descriptors in a database, scored as eval scores
// them (inner product, or split-product for token descriptors).
#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "app/commands.h"
#include "core/commit_group.h"
#include "core/descriptors.h"
#include "core/error.h"
#include "core/npy.h"
#include "core/path_guard.h"
#include "metrics/descriptor_scores.h"
#include "metrics/topk.h"
#include "postprocess/postprocess.h"

namespace repbench::app {

namespace {

struct SearchArgs {
  std::string queries, db, out;
  std::string similarity = "auto";
  int64_t k = 10;
  bool l2_normalize = false;
  postprocess::Spec postprocess;  // descriptor post-processing (postprocess/postprocess.h)
  int threads = 0;
};

void run_search(const SearchArgs& a) {
  if (a.k < 1) fail("-k must be at least 1; got {}", a.k);
  if (a.similarity != "auto" && a.similarity != "inner-product" && a.similarity != "split-product")
    fail("--similarity '{}' is not known; expected auto, inner-product or split-product",
         a.similarity);
  const std::string ids_path = a.out + ".ids.npy", scores_path = a.out + ".scores.npy";
  PathGuard()
      .reads("--queries", a.queries)
      .reads("--db", a.db)
      .reads("--postprocess-train", a.postprocess.train_file)
      .writes("--out", ids_path)
      .writes("--out", scores_path)
      .check();
  // The same rules as eval: token descriptors [n, tokens, d] are scored by split-product unless
  // inner-product is asked for, and split-product normalises the flattened vector, always.
  FloatArray q = read_descriptors(a.queries, {-1, "", true});
  FloatArray db = read_descriptors(a.db, {-1, "", true});
  if (q.shape.size() != db.shape.size() || q.row_size() != db.row_size() ||
      (q.shape.size() == 3 && q.shape[1] != db.shape[1]))
    fail("{}: descriptors of shape [{}] do not match {} of shape [{}]", a.queries,
         fmt::join(q.shape, ", "), a.db, fmt::join(db.shape, ", "));
  const postprocess::Applied pp =
      postprocess::apply_to_both(a.postprocess, q, a.queries, db, a.db);
  if (!pp.options.is_null())
    fmt::print("{}\n", postprocess::describe(a.postprocess, pp));
  const bool tokens = q.shape.size() == 3;
  if (a.similarity == "split-product" && !tokens)
    fail("{}: split-product needs token descriptors [n, tokens, dim]; found [{}]", a.queries,
         fmt::join(q.shape, ", "));
  const bool split = tokens && a.similarity != "inner-product";
  if (a.l2_normalize || split) {
    l2_normalize_rows(q);
    l2_normalize_rows(db);
  }
  check_scores_finite(q, a.queries, db, a.db);
  // Blocked: the split-product source computes one [qn x bn] block per thread at a time, and
  // search_topk keeps only nq x k, so memory never grows with nq x nb x tokens.
  const std::unique_ptr<metrics::ScoreSource> scores = metrics::descriptor_scores(q, db, split);
  const auto t0 = std::chrono::steady_clock::now();
  metrics::TopKResult r = metrics::search_topk(*scores, a.k, a.threads);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CommitGroup outputs;  // ids and scores become visible together (core/commit_group.h)
  write_npy(ids_path, r.ids.data(), {r.nq, r.k});
  write_npy(scores_path, r.scores.data(), {r.nq, r.k});
  outputs.commit();
  fmt::print("searched {} queries in {} database items ({}, k = {}) in {:.3f} s\n", q.rows(),
             db.rows(),
             split ? fmt::format("{} tokens x {}, split-product", q.shape[1], q.shape[2])
                   : fmt::format("d = {}, inner product", q.row_size()),
             a.k, seconds);
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
  cmd->add_option("-k", args->k, "Neighbours per query")->capture_default_str();
  cmd->add_option("--out,-o", args->out, "Output prefix: PREFIX.ids.npy, PREFIX.scores.npy")
      ->required();
  cmd->add_flag("--l2-normalize", args->l2_normalize, "L2-normalise rows first (cosine)");
  cmd->add_option("--similarity", args->similarity,
                  "auto (split-product for token descriptors, else inner product), "
                  "inner-product, or split-product")
      ->capture_default_str();
  add_postprocess_options(cmd, args->postprocess.chain, args->postprocess.train_file,
                          args->postprocess.cache_dir);
  cmd->add_option("--threads", args->threads, "Worker threads (0 = all cores)")
      ->capture_default_str();
  cmd->footer(
      "Output: PREFIX.ids.npy (int64 [nq, k]) and PREFIX.scores.npy (float32 [nq, k]), best\n"
      "first; equal scores ordered by ascending database index; when the database has fewer\n"
      "than k items the rest of a row is id -1, score -inf.\n"
      "Token descriptors [n, tokens, d] are scored as eval scores them: split-product (max over\n"
      "token positions of the per-token inner product, after L2-normalising each flattened row),\n"
      "or with --similarity inner-product the flattened rows' inner product.\n"
      "Examples:\n"
      "  repbench search --queries gen.npy --db train.npy -k 5 --out matches\n"
      "  repbench search --queries gen_tokens.npy --db train_tokens.npy --similarity split-product "
      "\\\n"
      "      -k 5 --out matches");
  cmd->callback([args] { run_search(*args); });
}

}  // namespace repbench::app
