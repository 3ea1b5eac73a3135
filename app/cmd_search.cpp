// repbench search: exact top-k inner-product search of query descriptors in a database.
#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "app/commands.h"
#include "core/descriptors.h"
#include "core/error.h"
#include "core/npy.h"
#include "metrics/inner_product.h"
#include "metrics/topk.h"

namespace repbench::app {

namespace {

struct SearchArgs {
  std::string queries, db, out;
  int64_t k = 10;
  bool l2_normalize = false;
  int threads = 0;
};

void run_search(const SearchArgs& a) {
  if (a.k < 1) fail("-k must be at least 1; got {}", a.k);
  FloatArray q = read_descriptors(a.queries, {});
  FloatArray db = read_descriptors(a.db, {});
  if (q.row_size() != db.row_size())
    fail("{}: descriptors have {} dimensions but {} has {}", a.queries, q.row_size(), a.db,
         db.row_size());
  if (a.l2_normalize) {
    l2_normalize_rows(q);
    l2_normalize_rows(db);
  }
  metrics::InnerProductScores scores(q.data.data(), q.rows(), db.data.data(), db.rows(),
                                     q.row_size());
  const auto t0 = std::chrono::steady_clock::now();
  metrics::TopKResult r = metrics::search_topk(scores, a.k, a.threads);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string ids_path = a.out + ".ids.npy", scores_path = a.out + ".scores.npy";
  write_npy(ids_path, r.ids.data(), {r.nq, r.k});
  write_npy(scores_path, r.scores.data(), {r.nq, r.k});
  fmt::print("searched {} queries in {} database items (d = {}, k = {}) in {:.3f} s\n", q.rows(),
             db.rows(), q.row_size(), a.k, seconds);
  fmt::print("wrote {} and {}\n", ids_path, scores_path);
}

}  // namespace

void add_search_command(CLI::App& app) {
  auto args = std::make_shared<SearchArgs>();
  CLI::App* cmd =
      app.add_subcommand("search", "Exact top-k inner-product search (ids and scores as .npy).");
  cmd->add_option("--queries", args->queries, ".npy float32/float16 [nq, d]")->required();
  cmd->add_option("--db", args->db, ".npy float32/float16 [nb, d]")->required();
  cmd->add_option("-k", args->k, "Neighbours per query")->capture_default_str();
  cmd->add_option("--out,-o", args->out, "Output prefix: PREFIX.ids.npy, PREFIX.scores.npy")
      ->required();
  cmd->add_flag("--l2-normalize", args->l2_normalize, "L2-normalise rows first (cosine)");
  cmd->add_option("--threads", args->threads, "Worker threads (0 = all cores)")
      ->capture_default_str();
  cmd->footer(
      "Output: PREFIX.ids.npy (int64 [nq, k]) and PREFIX.scores.npy (float32 [nq, k]), best\n"
      "first; equal scores ordered by ascending database index; when the database has fewer\n"
      "than k items the rest of a row is id -1, score -inf.\n"
      "Example:\n"
      "  repbench search --queries gen.npy --db train.npy -k 5 --out matches");
  cmd->callback([args] { run_search(*args); });
}

}  // namespace repbench::app
