// Nearest-neighbour search of generations in a training set: exact (metrics/topk.h, blocked and
// fused with the similarity) or approximate with FAISS (IVF-Flat or HNSW over inner products),
// chosen from the training set size. An approximate index tunes its search breadth (nprobe or
// efSearch) until recall@1 against exact search on a sample of queries reaches a target, and
// reports recall@1 on a second, disjoint sample.
//
// A FAISS index is built in steps (ApproximateIndex): trained on a seeded sample of the rows, then
// given every row in order, in blocks of any size. build_index() does it from a matrix in memory;
// scan/stream_index.h from descriptor files on disk, without the whole matrix.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/float_view.h"
#include "core/npy.h"
#include "metrics/precision.h"
#include "metrics/topk.h"

namespace faiss {
struct Index;
}

namespace repbench::scan {

enum class IndexKind { kAuto, kExact, kIvf, kHnsw, kFactory };

// "auto", "exact", "ivf", "hnsw" -> IndexKind; any other text is a FAISS index_factory string
// (kFactory, the text goes in IndexOptions::factory; IndexOptions::Check validates it).
IndexKind parse_index_kind(const std::string& text);

// faiss::index_factory(dim, factory, inner product); throws Error quoting `factory` and FAISS's
// reason when FAISS cannot build it (`any_dim`: a check of the string alone, at a dimension most
// strings accept, so the message names none).
std::unique_ptr<faiss::Index> make_factory_index(const std::string& factory, int64_t dim,
                                                 bool any_dim = false);

struct IndexOptions {
  IndexKind kind = IndexKind::kAuto;
  int threads = 0;                  // 0 = all cores
  int64_t exact_max = 100000;       // auto: exact search up to this many training items
  int64_t hnsw_max = 500000;        // auto: HNSW up to this many, IVF-Flat beyond (cheaper build)
  int64_t ivf_nlist = 0;            // IVF lists; 0 = sqrt(n) rounded to a power of two
  int hnsw_m = 32;                  // HNSW neighbours per node
  int hnsw_ef_construction = 64;    // HNSW build breadth
  double target_recall = 0.98;      // recall@1 the tuning aims at on its sample
  int64_t recall_sample = 1000;     // queries checked against exact search (half tune, half report)
  uint64_t seed = 0;                // which queries are sampled
  std::string factory;              // kFactory: the index_factory string, e.g. "IVF4096,PQ64"
  // Rows an approximate index is trained on (--index-train-sample); 0 = the index's own need:
  // ivf 16 per list; a factory string with IVF max(40 per list, 65536), other trainable ones
  // 65536; HNSW none. Never more than the training set.
  int64_t train_sample = 0;
  // Exact search's candidate pass (--precision, docs/precision.md): results are the same in both.
  metrics::Precision precision = metrics::Precision::kAuto;

  void Check() const;
};

struct RescoreStats;  // below

// A searchable training set. The matrix it was built from must outlive it.
class TrainIndex {
 public:
  virtual ~TrainIndex() = default;
  virtual std::string method() const = 0;    // "exact", "ivf-flat" or "hnsw"
  virtual nlohmann::json params() const = 0;  // e.g. {"nlist": 1024, "nprobe": 32}
  virtual bool exact() const = 0;
  // Top-k of `nq` query rows (row-major [nq, row_size], the training matrix's layout); tie rule
  // and padding as metrics/topk.h.
  virtual metrics::TopKResult search(const float* queries, int64_t nq, int64_t k) const = 0;
  // Widens the search (nprobe / efSearch doubles); false when it cannot widen any more.
  virtual bool widen() { return false; }
  // How the index was built, added to the record's search parameters once (not to each tuning
  // step): {"train_sample": rows trained on} for a FAISS index.
  virtual nlohmann::json build_params() const { return nlohmann::json::object(); }
  // Exact indexes: the candidates their searches so far rescored (null otherwise).
  virtual const RescoreStats* rescore_stats() const { return nullptr; }
};

// The kind build_index() builds for n training rows: auto resolved by size, split-product
// (token descriptors) always exact.
IndexKind resolve_index_kind(const IndexOptions& options, int64_t n, bool split_product);

// A FAISS index (ivf, hnsw or a factory string) over n rows of `dim` values, built in steps so
// that the rows need not be in memory at once: train() on the rows train_rows() names, in that
// order, then add() every row in order (blocks of any size, ids counted from 0), then search.
// The rows are L2-normalised. Results equal those of one add() of all rows where FAISS's own
// computation does not depend on the batch (IVF lists fill in id order; HNSW inserts each batch
// level by level, in parallel, and is not deterministic anyway).
class ApproximateIndex : public TrainIndex {
 public:
  // kind: kIvf, kHnsw or kFactory. Throws Error quoting a factory string FAISS cannot build for
  // `dim`, or a training sample too small for the index's lists.
  static std::unique_ptr<ApproximateIndex> create(IndexKind kind, int64_t n, int64_t dim,
                                                  const IndexOptions& options);
  // The training sample: every row in order when the sample is the whole set, else the first
  // train_sample() entries of FAISS's rand_perm(n) with the index's clustering seed (for ivf
  // exactly the subset FAISS's k-means would draw from all rows itself). Empty when the index
  // needs no training.
  virtual std::vector<int64_t> train_rows() const = 0;
  int64_t train_sample() const { return train_sample_; }
  // `rows` [train_rows().size(), dim], in train_rows() order. Throws Error with FAISS's reason.
  virtual void train(const float* rows, int64_t count) = 0;
  virtual void add(const float* rows, int64_t count) = 0;
  int64_t added() const { return added_; }
  nlohmann::json build_params() const override { return {{"train_sample", train_sample_}}; }

 protected:
  int64_t rows_ = 0, train_sample_ = 0, added_ = 0;
};

// Builds the index for `train` ([n, dim] or [n, tokens, dim]). Split-product (token descriptors)
// and IndexKind::kExact always search exactly; FAISS indexes need 2-D, L2-normalised rows.
std::unique_ptr<TrainIndex> build_index(const FloatArray& train, bool split_product,
                                        const IndexOptions& options);

// Exact top-k (the reference every approximate search is measured against). A candidate pass
// scores every training row (an sgemm, or a bf16 product with ExactSearchOptions::precision); its
// scores lie within a proven bound B of the exact inner products (docs/precision.md), so every
// row whose candidate score is within 2B (plus the reference's own rounding) of the k-th best is
// collected and rescored with reference_score(), and the best k of those are kept (higher score,
// then lower id, first). That is the best k by reference score of all rows, whatever the
// candidate pass's precision or rounding order: OpenBLAS rounds a dot product differently
// depending on where it sits in the product, so raw sgemm scores would depend on how the training
// set is cut (in memory, in streamed blocks, in a job array's shards); the results do not.
// `floor`, when given, holds for each query a score that k training rows seen before `train`
// (all with smaller ids) already reach, the k-th of a running list: a candidate whose score lies
// below it by more than B cannot enter that list, so it is not rescored and not returned (a
// streamed scan then rescores a few candidates per block).
metrics::TopKResult exact_search(const FloatView& train, bool split_product, const float* queries,
                                 int64_t nq, int64_t k, int threads,
                                 const float* floor = nullptr);

// How many candidates the exact searches rescored, and in which precision the last one ran.
struct RescoreStats {
  metrics::Precision precision = metrics::Precision::kFp32;
  int64_t queries = 0;   // query rows searched (summed over calls: a streamed scan's blocks)
  int64_t rescored = 0;  // candidates rescored with reference_score()
};
struct ExactSearchOptions {
  const float* floor = nullptr;  // as above
  // The candidate pass: kFp32 (sgemm), kBf16 (oneDNN bf16; fp32 where the CPU has no bf16
  // instructions), kAuto (bf16 where the CPU has them). Token descriptors always run fp32.
  metrics::Precision precision = metrics::Precision::kFp32;
  RescoreStats* stats = nullptr;  // added to when given
  // Multiplies the bound B. Only tests change it: a bound too small must be caught by them.
  double bound_scale = 1.0;
};
metrics::TopKResult exact_search(const FloatView& train, bool split_product, const float* queries,
                                 int64_t nq, int64_t k, int threads, const ExactSearchOptions& o);
// The record's "search.precision": {"asked", "ran", "kernel" (oneDNN's implementation, or why
// bf16 did not run), "queries", "rescored", "rescored_per_query"}.
nlohmann::json precision_record(metrics::Precision asked, const RescoreStats& stats);

// The similarity of one query row and one training row ([tokens x dim] each; tokens = 1 for
// plain descriptors), accumulated in double in a fixed order and rounded to float: the same
// value wherever it is computed. Split-product: the maximum over token positions.
float reference_score(const float* query, const float* train_row, int64_t tokens, int64_t dim);

// Fraction of `sample` query rows whose approximate top-1 is the exact top-1, or ties with it
// (scores within 1e-5: a duplicate training image is as good an answer).
double recall_at_1(const metrics::TopKResult& approx, const metrics::TopKResult& exact);

struct SearchOutcome {
  metrics::TopKResult topk;        // [nq x k]
  std::string method;              // as TrainIndex::method()
  nlohmann::json params;           // index parameters after tuning
  std::optional<double> recall_at_1;  // on the report sample; nullopt for exact search
  int64_t recall_sample = 0;       // queries in the report sample (0 for exact search)
  double build_seconds = 0, tune_seconds = 0, search_seconds = 0;
  // Approximate indexes: each setting the tuning tried, {"params", "recall_at_1" on the tuning
  // half of the sample}, the last one kept. Empty for exact search.
  nlohmann::json tuning = nlohmann::json::array();
  // Exact search: precision_record() of its candidate pass (null for approximate indexes).
  nlohmann::json precision;
};

// Builds an index over `train`, tunes it on a sample of `queries` (approximate indexes only),
// searches all queries and measures recall@1 on a disjoint sample. `index_out` (optional)
// receives the index for further searches (baseline, duplicates).
SearchOutcome search_train(const FloatArray& train, const FloatArray& queries, bool split_product,
                           int64_t k, const IndexOptions& options,
                           std::unique_ptr<TrainIndex>* index_out = nullptr);

// search_train's steps after the build, for callers that build the index and find the exact
// reference their own way (scan/stream_index.h). The recall sample: two disjoint seeded sets of
// query rows (options.seed), `tune` and `report` (the same one query when there is one); empty
// when options.recall_sample is 0.
struct RecallSample {
  std::vector<int64_t> tune, report;
};
RecallSample recall_sample(int64_t nq, const IndexOptions& options);
// Widens `index` until recall@1 of the tune rows against `exact_tune` (their exact top-1) reaches
// the target, searches all `queries` for k, and measures recall@1 of the report rows against
// `exact_report`. Fills topk, method, params (with build_params() and the tuning's), recall,
// tuning, tune_seconds and search_seconds.
SearchOutcome tune_and_search(TrainIndex& index, const FloatArray& queries, int64_t k,
                              const IndexOptions& options, const RecallSample& sample,
                              const metrics::TopKResult& exact_tune,
                              const metrics::TopKResult& exact_report);

}  // namespace repbench::scan
