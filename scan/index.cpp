#include "scan/index.h"

#include <cblas.h>
#include <faiss/AutoTune.h>
#include <faiss/IVFlib.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_factory.h>
#include <faiss/invlists/InvertedLists.h>
#include <faiss/utils/random.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "core/elapsed.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "metrics/bf16_matmul.h"
#include "metrics/bf16_scores.h"
#include "metrics/inner_product.h"
#include "metrics/parallel.h"
#include "metrics/ranking.h"
#include "metrics/split_product.h"

namespace repbench::scan {

namespace {

// Stream of derive_seed(IndexOptions::seed, ...) that draws the recall sample.
constexpr uint64_t kRecallSampleStream = 3;

// Sets OpenMP's thread count for FAISS for the lifetime of the object.
class OmpThreadsScope {
 public:
  explicit OmpThreadsScope(int threads) : saved_(omp_get_max_threads()) {
    if (threads > 0) omp_set_num_threads(threads);
  }
  ~OmpThreadsScope() { omp_set_num_threads(saved_); }

 private:
  int saved_;
};

// FAISS's own search of an index, padded as metrics/topk.h pads.
metrics::TopKResult faiss_search(const faiss::Index& index, const float* q, int64_t nq, int64_t k,
                                 int threads) {
  OmpThreadsScope omp(threads);
  // FAISS parallelises over queries with OpenMP; a multi-threaded OpenBLAS inside each of its
  // threads (coarse quantizer sgemm) oversubscribes the cores and was measured ~10x slower.
  metrics::BlasThreadsScope blas(1);
  metrics::TopKResult r;
  r.nq = nq;
  r.k = k;
  r.scores.resize(static_cast<size_t>(nq * k));
  std::vector<faiss::Index::idx_t> labels(static_cast<size_t>(nq * k));
  // Blocks of queries bound FAISS's temporary memory.
  const int64_t block = 4096;
  for (int64_t q0 = 0; q0 < nq; q0 += block) {
    const int64_t qn = std::min(block, nq - q0);
    index.search(qn, q + q0 * index.d, k, r.scores.data() + q0 * k, labels.data() + q0 * k);
  }
  r.ids.assign(labels.begin(), labels.end());
  for (size_t i = 0; i < r.ids.size(); ++i)
    if (r.ids[i] < 0) {
      r.ids[i] = -1;
      r.scores[i] = -std::numeric_limits<float>::infinity();
    }
  return r;
}

class ExactIndex : public TrainIndex {
 public:
  ExactIndex(const FloatArray& train, bool split, int threads, metrics::Precision precision)
      : train_(train), split_(split), threads_(threads), precision_(precision) {}
  std::string method() const override { return "exact"; }
  nlohmann::json params() const override {
    return {{"similarity", split_ ? "split-product" : "inner-product"}};
  }
  bool exact() const override { return true; }
  metrics::TopKResult search(const float* q, int64_t nq, int64_t k) const override {
    ExactSearchOptions o;
    o.precision = precision_;
    o.stats = &stats_;
    return exact_search(train_, split_, q, nq, k, threads_, o);
  }
  const RescoreStats* rescore_stats() const override { return &stats_; }

 private:
  const FloatArray& train_;
  bool split_;
  int threads_;
  metrics::Precision precision_;
  mutable RescoreStats stats_;  // searches are not concurrent
};

// Seed of FAISS's k-means in an index built with `o` (and of the training sample's permutation).
int clustering_seed(const IndexOptions& o) {
  return static_cast<int>(o.seed % 1000003) + 1234;
}

// FAISS's message is "Error in FUNCTION at FILE:LINE: REASON", maybe over several lines.
std::string faiss_reason(const faiss::FaissException& e) {
  std::string why = e.what();
  why = why.substr(0, why.find('\n'));
  const size_t at = why.find(".cpp:");
  if (at != std::string::npos && why.find(": ", at) != std::string::npos)
    why = why.substr(why.find(": ", at) + 2);
  return why;
}

// Rows [0, n) when s >= n, else the first s of FAISS's rand_perm(n, seed): the subset (and its
// order) FAISS's k-means draws itself when given more than it uses.
std::vector<int64_t> sample_rows(int64_t n, int64_t s, int seed) {
  std::vector<int64_t> rows;
  if (s >= n) {
    rows.resize(size_t(n));
    std::iota(rows.begin(), rows.end(), 0);
    return rows;
  }
  if (n > std::numeric_limits<int>::max())
    fail("{} training rows: an approximate index's training sample is drawn from at most 2^31 - 1",
         n);
  std::vector<int> perm(static_cast<size_t>(n));
  faiss::rand_perm(perm.data(), size_t(n), seed);
  rows.assign(perm.begin(), perm.begin() + s);
  return rows;
}

class FaissIndex : public ApproximateIndex {
 public:
  FaissIndex(int64_t n, int64_t d, IndexKind kind, const IndexOptions& o)
      : kind_(kind), threads_(o.threads), seed_(clustering_seed(o)) {
    rows_ = n;
    if (kind == IndexKind::kIvf) {
      nlist_ = o.ivf_nlist;
      if (nlist_ == 0) {
        // About 4 sqrt(n) lists (FAISS's guideline: 4 to 16 sqrt(n)), as a power of two, and at
        // least 16 training points per list. Many small lists keep the search fast: FAISS scans
        // a list vector by vector, several times slower per score than the exact search's sgemm.
        nlist_ = 1;
        while (nlist_ * 2 <= static_cast<int64_t>(4 * std::sqrt(double(n)) * 1.4) &&
               nlist_ * 2 * 16 <= n)
          nlist_ *= 2;
      }
      nlist_ = std::max<int64_t>(1, std::min(nlist_, n));
      // Descriptors are L2-normalised: spherical k-means centroids, trained on a sample of 16
      // points per list: k-means dominates the build time, and the recall it loses is won back
      // by the nprobe tuning below.
      train_sample_ = std::min(n, o.train_sample > 0 ? o.train_sample : 16 * nlist_);
      if (train_sample_ < nlist_)
        fail("--index-train-sample {} is below the index's {} lists (k-means needs a row per list)",
             train_sample_, nlist_);
      quantizer_ = std::make_unique<faiss::IndexFlatIP>(d);
      auto ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer_.get(), d, nlist_,
                                                       faiss::METRIC_INNER_PRODUCT);
      ivf->cp.spherical = true;
      ivf->cp.niter = 10;
      // The whole sample is used (FAISS would otherwise draw its own subset of 16 per list).
      ivf->cp.max_points_per_centroid =
          static_cast<int>(std::max<int64_t>(16, (train_sample_ + nlist_ - 1) / nlist_));
      ivf->cp.min_points_per_centroid = 8;
      ivf->cp.seed = seed_;
      ivf->cp.verbose = false;
      nprobe_ = std::min<int64_t>(8, nlist_);
      ivf->nprobe = nprobe_;
      index_ = std::move(ivf);
    } else {
      auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(d, o.hnsw_m, faiss::METRIC_INNER_PRODUCT);
      hnsw->hnsw.efConstruction = o.hnsw_ef_construction;
      ef_ = 32;
      hnsw->hnsw.efSearch = ef_;
      m_ = o.hnsw_m;
      ef_construction_ = o.hnsw_ef_construction;
      index_ = std::move(hnsw);
    }
  }
  std::vector<int64_t> train_rows() const override {
    if (kind_ != IndexKind::kIvf) return {};
    return sample_rows(rows_, train_sample_, seed_);
  }
  void train(const float* rows, int64_t count) override {
    REPBENCH_ASSERT(count == train_sample_);
    if (count == 0) return;
    OmpThreadsScope omp(threads_);
    index_->train(count, rows);
  }
  void add(const float* rows, int64_t count) override {
    OmpThreadsScope omp(threads_);
    index_->add(count, rows);
    added_ += count;
  }
  std::string method() const override { return kind_ == IndexKind::kIvf ? "ivf-flat" : "hnsw"; }
  nlohmann::json params() const override {
    if (kind_ == IndexKind::kIvf) return {{"nlist", nlist_}, {"nprobe", nprobe_}};
    return {{"M", m_}, {"efConstruction", ef_construction_}, {"efSearch", ef_}};
  }
  bool exact() const override { return false; }
  bool widen() override {
    if (kind_ == IndexKind::kIvf) {
      if (nprobe_ >= nlist_) return false;
      nprobe_ = std::min(nprobe_ * 2, nlist_);
      static_cast<faiss::IndexIVFFlat*>(index_.get())->nprobe = nprobe_;
      return true;
    }
    if (ef_ >= 4096) return false;
    ef_ *= 2;
    static_cast<faiss::IndexHNSWFlat*>(index_.get())->hnsw.efSearch = static_cast<int>(ef_);
    return true;
  }
  metrics::TopKResult search(const float* q, int64_t nq, int64_t k) const override {
    if (kind_ == IndexKind::kIvf) return search_ivf(q, nq, k);
    return faiss_search(*index_, q, nq, k, threads_);
  }

 private:
  // IVF-Flat search, list by list instead of FAISS's query by query. FAISS scans each probed list
  // once per query, vector by vector, which is bound by memory traffic (a 1M x 512 set with 8
  // probes reads ~40 GB for 10k queries). Here the queries of a block are grouped by the lists
  // they probe, and each list is scored against all its queries at once with one sgemm, so a
  // list is read once per block. The scores are the same dot products; per (query, probe) the
  // best k are kept, then merged per query with the tie rule of metrics/topk.h (higher score,
  // then lower id, first).
  metrics::TopKResult search_ivf(const float* q, int64_t nq, int64_t k) const {
    const auto* ivf = static_cast<const faiss::IndexIVFFlat*>(index_.get());
    const int64_t d = ivf->d, np = nprobe_;
    const int threads = resolve_threads(threads_);
    metrics::TopKResult r;
    r.nq = nq;
    r.k = k;
    r.ids.assign(static_cast<size_t>(nq * k), -1);
    r.scores.assign(static_cast<size_t>(nq * k), -std::numeric_limits<float>::infinity());
    auto better = [](float sa, int64_t ia, float sb, int64_t ib) {
      return sa > sb || (sa == sb && ia < ib);
    };
    // Queries per block: up to 16384, fewer when nprobe * k is large, so that the per-(query,
    // probe) buffers stay under 2^24 entries (192 MiB).
    const int64_t block = std::clamp<int64_t>((int64_t{1} << 24) / (np * k), 1, 16384);
    std::vector<faiss::Index::idx_t> probe;
    std::vector<float> probe_score;
    std::vector<float> part_score;
    std::vector<int64_t> part_id;
    for (int64_t q0 = 0; q0 < nq; q0 += block) {
      const int64_t qn = std::min(block, nq - q0);
      const float* qb = q + q0 * d;
      probe.resize(static_cast<size_t>(qn * np));
      probe_score.resize(static_cast<size_t>(qn * np));
      {
        // The coarse quantizer: one sgemm over all centroids, on every core.
        OmpThreadsScope omp(threads);
        metrics::BlasThreadsScope blas(threads);
        quantizer_->search(qn, qb, np, probe_score.data(), probe.data());
      }
      // (query, slot) pairs of each list, as offsets into one array (counting sort by list).
      std::vector<int64_t> start(static_cast<size_t>(nlist_ + 1), 0);
      for (faiss::Index::idx_t l : probe)
        if (l >= 0) ++start[static_cast<size_t>(l) + 1];
      for (int64_t l = 0; l < nlist_; ++l) start[l + 1] += start[l];
      std::vector<int64_t> pairs(static_cast<size_t>(start[nlist_]));
      {
        std::vector<int64_t> fill(start.begin(), start.end() - 1);
        for (int64_t i = 0; i < qn * np; ++i)
          if (probe[i] >= 0) pairs[fill[probe[i]]++] = i;  // i = query * np + slot
      }
      std::vector<int64_t> active;
      for (int64_t l = 0; l < nlist_; ++l)
        if (start[l + 1] > start[l] && ivf->invlists->list_size(l) > 0) active.push_back(l);
      part_score.assign(static_cast<size_t>(qn * np * k), -std::numeric_limits<float>::infinity());
      part_id.assign(static_cast<size_t>(qn * np * k), -1);

      std::vector<std::vector<float>> gathered(threads), scores(threads);
      metrics::BlasThreadsScope blas(1);  // one sgemm per list on each worker thread
      metrics::parallel_for(static_cast<int64_t>(active.size()), threads, [&](int64_t a, int t) {
        const int64_t l = active[a];
        const int64_t m = start[l + 1] - start[l];
        const int64_t size = static_cast<int64_t>(ivf->invlists->list_size(l));
        faiss::InvertedLists::ScopedCodes codes(ivf->invlists, l);
        faiss::InvertedLists::ScopedIds ids(ivf->invlists, l);
        const float* vectors = reinterpret_cast<const float*>(codes.get());
        std::vector<float>& g = gathered[t];
        g.resize(static_cast<size_t>(m * d));
        for (int64_t i = 0; i < m; ++i) {
          const int64_t query = pairs[start[l] + i] / np;
          std::copy_n(qb + query * d, d, g.data() + i * d);
        }
        // Lists are scored in chunks, so that the score buffer stays small for a huge list.
        const int64_t chunk = 4096;
        std::vector<float>& sc = scores[t];
        sc.resize(static_cast<size_t>(m * std::min(chunk, size)));
        for (int64_t c0 = 0; c0 < size; c0 += chunk) {
          const int64_t cn = std::min(chunk, size - c0);
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m),
                      static_cast<int>(cn), static_cast<int>(d), 1.0f, g.data(),
                      static_cast<int>(d), vectors + c0 * d, static_cast<int>(d), 0.0f, sc.data(),
                      static_cast<int>(cn));
          for (int64_t i = 0; i < m; ++i) {
            float* bs = part_score.data() + pairs[start[l] + i] * k;
            int64_t* bi = part_id.data() + pairs[start[l] + i] * k;
            const float* row = sc.data() + i * cn;
            for (int64_t j = 0; j < cn; ++j) {
              const float s = row[j];
              const int64_t id = ids.get()[c0 + j];
              if (!better(s, id, bs[k - 1], bi[k - 1])) continue;
              int64_t p = k - 1;  // insertion into the sorted best-k of this (query, probe)
              while (p > 0 && better(s, id, bs[p - 1], bi[p - 1])) {
                bs[p] = bs[p - 1];
                bi[p] = bi[p - 1];
                --p;
              }
              bs[p] = s;
              bi[p] = id;
            }
          }
        }
      });
      // Per query: the best k of its np * k candidates (each id lives in one list only).
      metrics::parallel_for(qn, threads, [&](int64_t i, int) {
        float* os = r.scores.data() + (q0 + i) * k;
        int64_t* oi = r.ids.data() + (q0 + i) * k;
        for (int64_t c = 0; c < np * k; ++c) {
          const float s = part_score[i * np * k + c];
          const int64_t id = part_id[i * np * k + c];
          if (id < 0 || !better(s, id, os[k - 1], oi[k - 1])) continue;
          int64_t p = k - 1;
          while (p > 0 && (oi[p - 1] < 0 || better(s, id, os[p - 1], oi[p - 1]))) {
            os[p] = os[p - 1];
            oi[p] = oi[p - 1];
            --p;
          }
          os[p] = s;
          oi[p] = id;
        }
      });
    }
    return r;
  }

  IndexKind kind_;
  int threads_, seed_;
  std::unique_ptr<faiss::IndexFlatIP> quantizer_;  // IVF's coarse quantizer (outlives index_)
  std::unique_ptr<faiss::Index> index_;
  int64_t nlist_ = 0, nprobe_ = 0, ef_ = 0;
  int m_ = 0, ef_construction_ = 0;
};

// Any index FAISS's index_factory() builds from a string ("IVF4096,Flat", "IVF16384,PQ64",
// "HNSW32", "OPQ64,IVF65536,PQ64", ...), over inner products. Its search breadth is nprobe for an
// IVF index (inside any wrapper) or efSearch for HNSW, widened by the same tuning as above.
class FactoryIndex : public ApproximateIndex {
 public:
  FactoryIndex(int64_t n, int64_t d, const IndexOptions& o)
      : factory_(o.factory), threads_(o.threads), seed_(clustering_seed(o)) {
    rows_ = n;
    index_ = make_factory_index(o.factory, d);
    faiss::IndexIVF* ivf = faiss::ivflib::try_extract_index_ivf(index_.get());
    if (!index_->is_trained) {
      // FAISS warns below 39 training points per list; PQ's codebooks take 256 per centroid.
      const int64_t need = ivf ? std::max<int64_t>(40 * int64_t(ivf->nlist), 65536) : 65536;
      train_sample_ = std::min(n, o.train_sample > 0 ? o.train_sample : need);
      if (ivf && train_sample_ < int64_t(ivf->nlist))
        fail(
            "--index '{}': {} training rows for {} lists (k-means needs a row per list; give "
            "--index-train-sample or fewer lists)",
            factory_, train_sample_, ivf->nlist);
    }
    if (ivf) {
      nlist_ = int64_t(ivf->nlist);
      breadth_name_ = "nprobe";
      breadth_ = std::min<int64_t>(8, nlist_);
      max_breadth_ = nlist_;
    } else {
      try {
        faiss::ParameterSpace().set_index_parameter(index_.get(), "efSearch", 32);
        breadth_name_ = "efSearch";
        breadth_ = 32;
        max_breadth_ = 4096;
      } catch (const faiss::FaissException&) {
      }
    }
    apply();
  }
  std::vector<int64_t> train_rows() const override {
    if (index_->is_trained) return {};
    return sample_rows(rows_, train_sample_, seed_);
  }
  void train(const float* rows, int64_t count) override {
    REPBENCH_ASSERT(count == train_sample_);
    if (index_->is_trained) return;
    OmpThreadsScope omp(threads_);
    try {
      index_->train(count, rows);
    } catch (const faiss::FaissException& e) {
      fail("--index '{}': FAISS cannot train it on {} rows ({})", factory_, count, faiss_reason(e));
    }
  }
  void add(const float* rows, int64_t count) override {
    OmpThreadsScope omp(threads_);
    try {
      index_->add(count, rows);
    } catch (const faiss::FaissException& e) {
      fail("--index '{}': FAISS cannot add rows to it ({})", factory_, faiss_reason(e));
    }
    added_ += count;
  }
  std::string method() const override { return "faiss"; }
  nlohmann::json params() const override {
    nlohmann::json p{{"factory", factory_}};
    if (nlist_ > 0) p["nlist"] = nlist_;
    if (!breadth_name_.empty()) p[breadth_name_] = breadth_;
    return p;
  }
  bool exact() const override { return false; }
  bool widen() override {
    if (breadth_name_.empty() || breadth_ >= max_breadth_) return false;
    breadth_ = std::min(breadth_ * 2, max_breadth_);
    apply();
    return true;
  }
  metrics::TopKResult search(const float* q, int64_t nq, int64_t k) const override {
    return faiss_search(*index_, q, nq, k, threads_);
  }

 private:
  void apply() {
    if (!breadth_name_.empty())
      faiss::ParameterSpace().set_index_parameter(index_.get(), breadth_name_, double(breadth_));
  }

  std::string factory_;
  int threads_, seed_;
  std::unique_ptr<faiss::Index> index_;
  int64_t nlist_ = 0, breadth_ = 0, max_breadth_ = 0;
  std::string breadth_name_;
};

}  // namespace

std::unique_ptr<faiss::Index> make_factory_index(const std::string& factory, int64_t dim,
                                                 bool any_dim) {
  try {
    return std::unique_ptr<faiss::Index>(
        faiss::index_factory(int(dim), factory.c_str(), faiss::METRIC_INNER_PRODUCT));
  } catch (const faiss::FaissException& e) {
    const std::string why = faiss_reason(e);
    fail("--index '{}' is not a FAISS index_factory string FAISS can build{} ({})", factory,
         any_dim ? std::string() : fmt::format(" for {}-d descriptors", dim), why);
  }
}

IndexKind parse_index_kind(const std::string& text) {
  if (text == "auto") return IndexKind::kAuto;
  if (text == "exact") return IndexKind::kExact;
  if (text == "ivf") return IndexKind::kIvf;
  if (text == "hnsw") return IndexKind::kHnsw;
  if (text.empty()) fail("--index is empty: give auto, exact, ivf, hnsw or a FAISS factory string");
  return IndexKind::kFactory;
}

void IndexOptions::Check() const {
  if (threads < 0) fail("index threads {} is negative", threads);
  if (exact_max < 0 || hnsw_max < 0) fail("index size limits must be >= 0");
  if (ivf_nlist < 0) fail("ivf nlist {} is negative", ivf_nlist);
  if (hnsw_m < 2 || hnsw_ef_construction < 1) fail("hnsw M must be >= 2 and efConstruction >= 1");
  if (!(target_recall > 0 && target_recall <= 1))
    fail("target recall {} is outside (0, 1]", target_recall);
  if (recall_sample < 0) fail("recall sample {} is negative", recall_sample);
  if (train_sample < 0) fail("--index-train-sample {} is negative", train_sample);
  // A factory string is checked before any work (for a dimension most strings accept; the
  // descriptors' own is checked again when the index is built).
  if (kind == IndexKind::kFactory) make_factory_index(factory, 1920, true);
}

float reference_score(const float* q, const float* t, int64_t tokens, int64_t dim) {
  // Four double accumulators in a fixed order: the same value wherever and however it is called.
  float best = -std::numeric_limits<float>::infinity();
  for (int64_t tok = 0; tok < tokens; ++tok) {
    const float* a = q + tok * dim;
    const float* b = t + tok * dim;
    double acc[4] = {0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 4 <= dim; j += 4)
      for (int u = 0; u < 4; ++u) acc[u] += double(a[j + u]) * double(b[j + u]);
    for (; j < dim; ++j) acc[j % 4] += double(a[j]) * double(b[j]);
    best = std::max(best, float((acc[0] + acc[1]) + (acc[2] + acc[3])));
  }
  return best;
}

metrics::TopKResult exact_search(const FloatView& train, bool split_product, const float* queries,
                                 int64_t nq, int64_t k, int threads, const float* floor) {
  ExactSearchOptions o;
  o.floor = floor;
  return exact_search(train, split_product, queries, nq, k, threads, o);
}

metrics::TopKResult exact_search(const FloatView& train, bool split_product, const float* queries,
                                 int64_t nq, int64_t k, int threads, const ExactSearchOptions& o) {
  const int64_t n = train.rows(), row = train.row_size();
  const int64_t tokens = split_product ? train.shape[1] : 1, dim = row / tokens;
  if (split_product) REPBENCH_ASSERT(train.shape.size() == 3);
  const int team = resolve_threads(threads);
  // Token descriptors stay fp32 (the split product's max over tokens has no bf16 kernel here).
  const bool bf16 = !split_product && o.precision != metrics::Precision::kFp32 &&
                    metrics::resolve_precision(o.precision) == metrics::Precision::kBf16;
  // The candidate pass (sgemm or bf16) scores every row within B of its exact score
  // (docs/precision.md); every row that could still be among the exact top k is collected and
  // rescored with reference_score(): its window is 2B plus the reference's own rounding, and rows
  // that cannot beat the floor are left out.
  const metrics::RowNorms xn = metrics::row_norms(train.data, n, row, bf16, threads);
  const metrics::RowNorms qn = metrics::row_norms(queries, nq, row, bf16, threads);
  std::vector<float> window(static_cast<size_t>(nq));
  std::vector<float> lower(static_cast<size_t>(nq), -std::numeric_limits<float>::infinity());
  for (int64_t q = 0; q < nq; ++q) {
    double b = bf16 ? metrics::bf16_product_bound(q, qn, xn, row)
                    : metrics::fp32_product_bound(qn.norm[size_t(q)], xn.norm_max, dim);
    b *= o.bound_scale;  // 1 except in the test that shows a smaller bound fails
    // The reference score: a double sum of exact products (d roundings of 2^-53), then rounded to
    // float: two exact scores more than 2^-22 M apart (M bounds every score) round apart.
    const double m = qn.norm[size_t(q)] * xn.norm_max;
    const double delta = metrics::gamma_bound(dim, 0x1p-53) * m;
    const double w0 = 2 * b + 2 * delta + 0x1p-22 * (m + delta) + 0x1p-140;
    // Covers the float roundings of the window itself and of "k-th - window" (values <= m + b + w0).
    window[size_t(q)] = float(w0 + 0x1p-21 * (m + b + w0));
    if (o.floor != nullptr && std::isfinite(o.floor[q])) {
      const double f = o.floor[q];
      lower[size_t(q)] =
          float(f - b - delta - 0x1p-22 * (m + delta) - 0x1p-21 * (std::abs(f) + m + b) - 0x1p-140);
    }
  }
  metrics::TopKOptions opt;
  opt.k = k;
  opt.threads = threads;
  // Query blocks of up to ~1024, as many on each thread: every sgemm call packs its block of
  // training rows anew, which at search_topk's 256 queries a call cost ~16% of a 10,000-query scan
  // (perf, bench_scan_scale); 10,000 queries go in 10 blocks of 1,000 (C is 8 MiB a thread).
  constexpr int64_t kQueriesPerCall = 1024;
  const int64_t per_thread =
      (nq + int64_t(team) * kQueriesPerCall - 1) / (int64_t(team) * kQueriesPerCall);
  opt.block_queries = std::max<int64_t>(1, (nq + per_thread * team - 1) / (per_thread * team));
  std::unique_ptr<metrics::ScoreSource> src;
  if (split_product)
    src = std::make_unique<metrics::SplitProductScores>(queries, nq, train.data, n, tokens,
                                                        dim);
  else if (bf16)
    src = std::make_unique<metrics::Bf16InnerProductScores>(queries, nq, train.data, n, row,
                                                            threads);
  else
    src = std::make_unique<metrics::InnerProductScores>(queries, nq, train.data, n, row);
  metrics::Candidates c = metrics::search_candidates(*src, opt, window.data(), lower.data());
  src.reset();
  metrics::TopKResult r;
  r.nq = nq;
  r.k = k;
  r.ids.assign(size_t(nq * k), -1);
  r.scores.assign(size_t(nq * k), -std::numeric_limits<float>::infinity());
  // The rescoring, in blocks of queries on all threads.
  constexpr int64_t kRescoreBlock = 64;
  metrics::parallel_for((nq + kRescoreBlock - 1) / kRescoreBlock, team, [&](int64_t b, int) {
    for (int64_t q = b * kRescoreBlock; q < std::min(nq, (b + 1) * kRescoreBlock); ++q) {
      const float* query = queries + q * row;
      auto& list = c.lists[size_t(q)];
      for (auto& e : list) e.first = reference_score(query, train.row(e.second), tokens, dim);
      const size_t keep = std::min(list.size(), size_t(k));
      std::partial_sort(list.begin(), list.begin() + keep, list.end(),
                        [](const auto& x, const auto& y) {
                          return metrics::ranks_before(x.first, x.second, y.first, y.second);
                        });
      for (size_t j = 0; j < keep; ++j) {
        r.scores[size_t(q * k) + j] = list[j].first;
        r.ids[size_t(q * k) + j] = list[j].second;
      }
    }
  });
  if (o.stats != nullptr) {
    o.stats->precision = bf16 ? metrics::Precision::kBf16 : metrics::Precision::kFp32;
    o.stats->queries += nq;
    for (const auto& list : c.lists) o.stats->rescored += int64_t(list.size());
  }
  return r;
}

nlohmann::json precision_record(metrics::Precision asked, const RescoreStats& stats) {
  std::string why;
  const metrics::Precision resolved = metrics::resolve_precision(asked, &why);
  nlohmann::json r = {
      {"asked", metrics::precision_name(asked)},
      {"ran", metrics::precision_name(stats.queries > 0 ? stats.precision : resolved)},
      {"kernel", stats.precision == metrics::Precision::kBf16 ? metrics::bf16_matmul_impl()
                                                              : std::string("sgemm (OpenBLAS)")},
      {"queries", stats.queries},
      {"rescored", stats.rescored},
      {"rescored_per_query",
       stats.queries > 0 ? double(stats.rescored) / double(stats.queries) : 0.0}};
  if (asked != metrics::Precision::kFp32 && resolved == metrics::Precision::kFp32)
    r["fallback"] = why;
  return r;
}

IndexKind resolve_index_kind(const IndexOptions& options, int64_t n, bool split_product) {
  IndexKind kind = options.kind;
  if (kind == IndexKind::kAuto)
    kind = n <= options.exact_max  ? IndexKind::kExact
           : n <= options.hnsw_max ? IndexKind::kHnsw
                                   : IndexKind::kIvf;
  // FAISS has no split-product; token descriptors are always searched exactly.
  return split_product ? IndexKind::kExact : kind;
}

std::unique_ptr<ApproximateIndex> ApproximateIndex::create(IndexKind kind, int64_t n, int64_t dim,
                                                           const IndexOptions& options) {
  REPBENCH_ASSERT(kind == IndexKind::kIvf || kind == IndexKind::kHnsw ||
                  kind == IndexKind::kFactory);
  if (kind == IndexKind::kFactory) return std::make_unique<FactoryIndex>(n, dim, options);
  return std::make_unique<FaissIndex>(n, dim, kind, options);
}

std::unique_ptr<TrainIndex> build_index(const FloatArray& train, bool split_product,
                                        const IndexOptions& options) {
  options.Check();
  const int64_t n = train.rows();
  const IndexKind kind = resolve_index_kind(options, n, split_product);
  if (kind == IndexKind::kExact)
    return std::make_unique<ExactIndex>(train, split_product, options.threads, options.precision);
  if (train.shape.size() != 2) fail("an approximate index needs 2-D descriptors");
  const int64_t d = train.row_size();
  std::unique_ptr<ApproximateIndex> index = ApproximateIndex::create(kind, n, d, options);
  const std::vector<int64_t> rows = index->train_rows();
  if (int64_t(rows.size()) == n) {
    index->train(train.data.data(), n);  // the whole set, in order
  } else if (!rows.empty()) {
    std::vector<float> sample(rows.size() * size_t(d));
    for (size_t i = 0; i < rows.size(); ++i)
      std::copy_n(train.row(rows[i]), d, sample.data() + i * d);
    index->train(sample.data(), int64_t(rows.size()));
  }
  index->add(train.data.data(), n);
  return index;
}

double recall_at_1(const metrics::TopKResult& approx, const metrics::TopKResult& exact) {
  REPBENCH_ASSERT(approx.nq == exact.nq);
  if (approx.nq == 0) return 1.0;
  int64_t hits = 0;
  for (int64_t i = 0; i < approx.nq; ++i) {
    const int64_t a = approx.ids[i * approx.k], e = exact.ids[i * exact.k];
    if (a == e ||
        (a >= 0 && std::abs(approx.scores[i * approx.k] - exact.scores[i * exact.k]) <= 1e-5f))
      ++hits;
  }
  return double(hits) / double(approx.nq);
}

RecallSample recall_sample(int64_t nq, const IndexOptions& options) {
  RecallSample s;
  if (options.recall_sample <= 0 || nq <= 0) return s;
  // core/rng: the same sample on every standard library.
  const std::vector<int64_t> perm =
      Rng(derive_seed(options.seed, kRecallSampleStream)).permutation(nq);
  const int64_t m = std::min(options.recall_sample, nq);
  const int64_t half = (m + 1) / 2;
  s.tune.assign(perm.begin(), perm.begin() + half);
  s.report.assign(perm.begin() + half, perm.begin() + m);
  if (s.report.empty()) s.report = s.tune;  // one query: it both tunes and reports
  return s;
}

namespace {

std::vector<float> gather_rows(const FloatArray& a, const std::vector<int64_t>& ids) {
  const int64_t row = a.row_size();
  std::vector<float> rows(ids.size() * size_t(row));
  for (size_t i = 0; i < ids.size(); ++i) std::copy_n(a.row(ids[i]), row, rows.begin() + i * row);
  return rows;
}

}  // namespace

SearchOutcome tune_and_search(TrainIndex& index, const FloatArray& queries, int64_t k,
                              const IndexOptions& options, const RecallSample& sample,
                              const metrics::TopKResult& exact_tune,
                              const metrics::TopKResult& exact_report) {
  SearchOutcome out;
  const int64_t nq = queries.rows();
  auto t0 = std::chrono::steady_clock::now();
  if (!index.exact() && !sample.tune.empty()) {
    const std::vector<float> tq = gather_rows(queries, sample.tune);
    // Widen until the tuning half reaches the target; every setting tried is recorded.
    for (;;) {
      const double r =
          recall_at_1(index.search(tq.data(), int64_t(sample.tune.size()), 1), exact_tune);
      out.tuning.push_back({{"params", index.params()}, {"recall_at_1", r}});
      if (r >= options.target_recall || !index.widen()) break;
    }
    out.tune_seconds = seconds_since(t0);
  }

  t0 = std::chrono::steady_clock::now();
  out.topk = index.search(queries.data.data(), nq, k);
  out.search_seconds = seconds_since(t0);
  out.method = index.method();
  out.params = index.params();
  const nlohmann::json build = index.build_params();
  for (const auto& [key, value] : build.items()) out.params[key] = value;
  if (!index.exact() && !sample.report.empty()) {
    metrics::TopKResult approx;
    approx.nq = int64_t(sample.report.size());
    approx.k = 1;
    for (int64_t q : sample.report) {
      approx.ids.push_back(out.topk.ids[q * k]);
      approx.scores.push_back(out.topk.scores[q * k]);
    }
    out.recall_at_1 = recall_at_1(approx, exact_report);
    out.recall_sample = int64_t(sample.report.size());
    out.params["target_recall"] = options.target_recall;
    out.params["tuning_sample"] = int64_t(sample.tune.size());
  }
  return out;
}

SearchOutcome search_train(const FloatArray& train, const FloatArray& queries, bool split_product,
                           int64_t k, const IndexOptions& options,
                           std::unique_ptr<TrainIndex>* index_out) {
  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<TrainIndex> index = build_index(train, split_product, options);
  const double build_seconds = seconds_since(t0);

  // Two disjoint samples of queries: one tunes the search breadth, the other reports recall.
  RecallSample sample;
  metrics::TopKResult exact_tune, exact_report;
  t0 = std::chrono::steady_clock::now();
  if (!index->exact()) sample = recall_sample(queries.rows(), options);
  if (!sample.tune.empty()) {
    const std::vector<float> tq = gather_rows(queries, sample.tune),
                             rq = gather_rows(queries, sample.report);
    exact_tune = exact_search(train, split_product, tq.data(), int64_t(sample.tune.size()), 1,
                              options.threads);
    exact_report = exact_search(train, split_product, rq.data(), int64_t(sample.report.size()), 1,
                                options.threads);
  }
  const double reference_seconds = seconds_since(t0);
  SearchOutcome out =
      tune_and_search(*index, queries, k, options, sample, exact_tune, exact_report);
  out.build_seconds = build_seconds;
  if (!sample.tune.empty()) out.tune_seconds += reference_seconds;
  if (index_out) *index_out = std::move(index);
  return out;
}

}  // namespace repbench::scan
