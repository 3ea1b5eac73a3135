#include "scan/stream_index.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <numeric>

#include "core/descriptors.h"
#include "core/elapsed.h"
#include "core/error.h"
#include "scan/duplicates.h"
#include "scan/impl/scan_record.h"

namespace repbench::scan {

namespace {

// Queries `ids` of `a`, in that order.
FloatArray gather(const FloatArray& a, const std::vector<int64_t>& ids) {
  FloatArray g;
  g.shape = a.shape;
  g.shape[0] = int64_t(ids.size());
  const int64_t row = a.row_size();
  g.data.resize(ids.size() * size_t(row));
  for (size_t i = 0; i < ids.size(); ++i) std::copy_n(a.row(ids[i]), row, g.data.begin() + i * row);
  return g;
}

// Results [begin, end) of a top-k list.
metrics::TopKResult slice(const metrics::TopKResult& r, int64_t begin, int64_t end) {
  metrics::TopKResult s;
  s.nq = end - begin;
  s.k = r.k;
  s.ids.assign(r.ids.begin() + begin * r.k, r.ids.begin() + end * r.k);
  s.scores.assign(r.scores.begin() + begin * r.k, r.scores.begin() + end * r.k);
  return s;
}

}  // namespace

FloatArray read_rows_normalised(const DescriptorStream& train, const std::vector<int64_t>& rows) {
  FloatArray out;
  out.shape = train.shape(int64_t(rows.size()));
  const int64_t row = train.row_size();
  out.data.resize(rows.size() * size_t(row));
  std::vector<size_t> order(rows.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rows[a] < rows[b]; });
  constexpr size_t kChunk = 8192;
  std::vector<int64_t> part;
  for (size_t c0 = 0; c0 < order.size(); c0 += kChunk) {
    const size_t c1 = std::min(order.size(), c0 + kChunk);
    part.clear();
    for (size_t i = c0; i < c1; ++i) part.push_back(rows[order[i]]);
    const FloatArray got = train.read_rows(part);
    for (size_t i = c0; i < c1; ++i)
      std::copy_n(got.row(int64_t(i - c0)), row, out.data.begin() + order[i] * row);
  }
  l2_normalize_rows(out);
  return out;
}

StreamedBuild build_index_streamed(const DescriptorStream& train, IndexKind kind,
                                   const IndexOptions& index_options, const StreamOptions& options,
                                   const FloatArray& reference) {
  index_options.Check();
  options.Check();
  if (train.row_shape().size() != 1) fail("an approximate index needs 2-D descriptors");
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t n = train.rows(), d = train.row_size();
  StreamedBuild b;
  b.index = ApproximateIndex::create(kind, n, d, index_options);
  {
    // The sample is held only while the index trains on it.
    const std::vector<int64_t> rows = b.index->train_rows();
    if (!rows.empty()) {
      const FloatArray sample = read_rows_normalised(train, rows);
      b.index->train(sample.data.data(), sample.rows());
    }
  }
  metrics::TopKResult& ref = b.reference;
  ref.nq = reference.rows();
  ref.k = 1;
  ref.ids.assign(size_t(ref.nq), -1);
  ref.scores.assign(size_t(ref.nq), -std::numeric_limits<float>::infinity());
  train.for_each_block(
      options.rows_per_block(),
      [&](int64_t first, FloatArray& block) {
        REPBENCH_ASSERT(first == b.index->added());
        b.index->add(block.data.data(), block.rows());
        if (ref.nq > 0) {
          // As stream_topk: exact_search's reference scores, merged block by block.
          const auto r0 = std::chrono::steady_clock::now();
          metrics::merge_topk(
              ref, exact_search(block, false, reference.data.data(), ref.nq, 1, options.threads),
              first);
          b.reference_seconds += seconds_since(r0);
        }
      },
      [](FloatArray& block) { l2_normalize_rows(block); });
  REPBENCH_ASSERT(b.index->added() == n);
  b.build_seconds = seconds_since(t0) - b.reference_seconds;
  return b;
}

SearchOutcome search_train_streamed(const DescriptorStream& train, const FloatArray& queries,
                                    int64_t k, const IndexOptions& index_options,
                                    const StreamOptions& options,
                                    std::unique_ptr<TrainIndex>* index_out) {
  const IndexKind kind = resolve_index_kind(index_options, train.rows(), false);
  REPBENCH_ASSERT(kind != IndexKind::kExact && kind != IndexKind::kAuto);
  // The recall sample's exact top-1, found in the pass that fills the index: the tuning half
  // first, then the reporting half.
  const RecallSample sample = recall_sample(queries.rows(), index_options);
  std::vector<int64_t> ref_ids = sample.tune;
  ref_ids.insert(ref_ids.end(), sample.report.begin(), sample.report.end());
  StreamedBuild b =
      build_index_streamed(train, kind, index_options, options, gather(queries, ref_ids));
  const int64_t nt = int64_t(sample.tune.size());
  SearchOutcome out =
      tune_and_search(*b.index, queries, k, index_options, sample, slice(b.reference, 0, nt),
                      slice(b.reference, nt, b.reference.nq));
  out.build_seconds = b.build_seconds;
  if (nt > 0) out.tune_seconds += b.reference_seconds;
  if (index_out) *index_out = std::move(b.index);
  return out;
}

nlohmann::json scan_streamed_approximate(const FloatArray& generated,
                                         const std::vector<std::string>& generated_paths,
                                         const DescriptorStream& train, const ScanParams& params,
                                         const StreamOptions& options, metrics::TopKResult* matches,
                                         const ScanGroups* groups) {
  params.Check();
  options.Check();
  REPBENCH_ASSERT(generated.rows() == int64_t(generated_paths.size()));
  check_scan_inputs(generated.rows(), generated.row_size(), train.rows(), train.row_size());
  const int64_t n = train.rows();
  REPBENCH_ASSERT(!groups || !groups->within);
  ScanPieces p;
  p.groups = groups;
  std::unique_ptr<TrainIndex> index;
  p.found = search_train_streamed(train, generated, params.k, params.index, options, &index);
  p.train_rows = n;
  // The baseline and the duplicate counts as scan_descriptors() takes them from the index, with
  // their rows' vectors read from the files.
  std::vector<int64_t> rows = baseline_rows(n, params.baseline_sample, params.seed);
  const int64_t baseline_count = int64_t(rows.size());
  if (!rows.empty()) {
    const FloatArray q = read_rows_normalised(train, rows);
    p.baseline = baseline_from_top2(std::move(rows), index->search(q.data.data(), q.rows(), 2));
  }
  p.distinct = duplicate_rows(p.found.topk, params);
  const FloatArray dq = read_rows_normalised(train, p.distinct);
  p.duplicates = count_index_duplicates(dq.data.data(), p.distinct, n, params.dup_threshold, *index,
                                        params.duplicate_cap);
  p.exact_duplicates = false;
  nlohmann::json rec = record_body(
      p, generated_paths, [&](int64_t id) -> const std::string& { return train.path(id); }, false,
      params);
  const DescriptorStream::Stats& st = train.stats();
  const int64_t sample = p.found.params.value("train_sample", int64_t{0});
  rec["stream"] = {{"block_rows", options.rows_per_block()},
                   {"blocks", st.blocks},
                   {"peak_rows", st.peak_rows},
                   {"peak_bytes", st.peak_bytes},
                   {"passes", 1},
                   {"rows_read_singly", sample + baseline_count + int64_t(p.distinct.size())}};
  if (matches) *matches = std::move(p.found.topk);
  return rec;
}

}  // namespace repbench::scan
