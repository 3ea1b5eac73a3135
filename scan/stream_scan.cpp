#include "scan/stream_scan.h"

#include <chrono>
#include <memory>
#include <optional>

#include "core/descriptors.h"
#include "core/elapsed.h"
#include "core/error.h"
#include "scan/duplicate_sketch.h"
#include "scan/duplicates.h"
#include "scan/groups.h"
#include "scan/impl/scan_record.h"
#include "scan/index.h"

namespace repbench::scan {

void StreamOptions::Check() const {
  if (block_rows < 1) fail("--block-rows {} must be >= 1", block_rows);
  if (threads < 0) fail("threads {} is negative", threads);
  if (sketch_dims < 0) fail("--sketch-dims {} must be >= 0", sketch_dims);
}

int64_t StreamOptions::rows_per_block() const {
  constexpr int64_t kTile = 8192;  // count_duplicates' tile; search_topk's 2048 divides it
  return (std::max<int64_t>(block_rows, 1) + kTile - 1) / kTile * kTile;
}

namespace {

metrics::TopKResult empty_topk(int64_t nq, int64_t k) {
  metrics::TopKResult r;
  r.nq = nq;
  r.k = k;
  r.ids.assign(size_t(nq * k), -1);
  r.scores.assign(size_t(nq * k), -std::numeric_limits<float>::infinity());
  return r;
}

// Merges into `into` the top-k (into.k) of `queries` among the rows of `block` (training rows
// first, first + 1, ...): within each query's group when both group lists are given.
void merge_block(metrics::TopKResult& into, const FloatArray& block, int64_t first,
                 bool split_product, const float* queries, const std::vector<int32_t>* query_groups,
                 const std::vector<int32_t>* train_groups, const StreamOptions& options) {
  const int threads = options.threads;
  if (into.nq == 0) return;
  if (query_groups && train_groups)
    merge_topk_within_groups(into, block, first, split_product, queries, *query_groups,
                             *train_groups, threads);
  else {
    // Each query's k-th best so far: candidates of this block below it are not rescored.
    std::vector<float> floor(size_t(into.nq));
    for (int64_t q = 0; q < into.nq; ++q)
      floor[size_t(q)] = into.scores[size_t(q * into.k + into.k - 1)];
    ExactSearchOptions o;
    o.floor = floor.data();
    o.precision = options.precision;
    o.stats = options.stats;
    metrics::merge_topk(into, exact_search(block, split_product, queries, into.nq, into.k, threads, o),
                        first);
  }
}

// The groups of training rows `rows`.
std::vector<int32_t> groups_of(const std::vector<int64_t>& rows,
                               const std::vector<int32_t>& train_groups) {
  std::vector<int32_t> g;
  g.reserve(rows.size());
  for (int64_t r : rows) g.push_back(train_groups[size_t(r)]);
  return g;
}

}  // namespace

std::vector<metrics::TopKResult> stream_topk(
    const DescriptorStream& train, const std::vector<StreamQueries>& searches, bool split_product,
    const StreamOptions& options, const std::vector<int32_t>* train_groups,
    const std::function<void(const FloatArray&)>& each_block) {
  options.Check();
  std::vector<metrics::TopKResult> out;
  bool any = false;
  for (const StreamQueries& s : searches) {
    out.push_back(empty_topk(s.queries->rows(), s.k));
    any = any || s.queries->rows() > 0;
  }
  if (!any) return out;
  train.for_each_block(
      options.rows_per_block(),
      [&](int64_t first, FloatArray& block) {
        for (size_t i = 0; i < searches.size(); ++i)
          merge_block(out[i], block, first, split_product, searches[i].queries->data.data(),
                      searches[i].groups, train_groups, options);
      },
      [&](FloatArray& block) {
        l2_normalize_rows(block);
        if (each_block) each_block(block);
      });
  return out;
}

metrics::TopKResult stream_topk(const DescriptorStream& train, const FloatArray& queries,
                                bool split_product, int64_t k, const StreamOptions& options,
                                const std::vector<int32_t>* query_groups,
                                const std::vector<int32_t>* train_groups) {
  return std::move(
      stream_topk(train, {{&queries, k, query_groups}}, split_product, options, train_groups)[0]);
}

SecondPass stream_baseline_and_duplicates(const DescriptorStream& train, bool split_product,
                                          std::vector<int64_t> sampled,
                                          const std::vector<int64_t>& dup_rows,
                                          double dup_threshold, const StreamOptions& options,
                                          const std::vector<int32_t>* train_groups) {
  options.Check();
  SecondPass out;
  if (sampled.empty() && dup_rows.empty()) return out;
  const std::vector<int32_t> sampled_groups =
      train_groups ? groups_of(sampled, *train_groups) : std::vector<int32_t>{};
  FloatArray bq = train.read_rows(sampled), dq = train.read_rows(dup_rows);
  l2_normalize_rows(bq);
  l2_normalize_rows(dq);
  metrics::TopKResult top2 = empty_topk(bq.rows(), 2);
  out.duplicates.assign(dup_rows.size(), 0);
  train.for_each_block(
      options.rows_per_block(),
      [&](int64_t first, FloatArray& block) {
        merge_block(top2, block, first, split_product, bq.data.data(),
                    train_groups ? &sampled_groups : nullptr, train_groups, options);
        add_duplicate_counts(dq.data.data(), dup_rows, block, first, split_product, dup_threshold,
                             options.threads, out.duplicates);
      },
      [](FloatArray& block) { l2_normalize_rows(block); });
  if (!sampled.empty()) out.baseline = baseline_from_top2(std::move(sampled), top2);
  return out;
}

nlohmann::json scan_streamed(const FloatArray& generated,
                             const std::vector<std::string>& generated_paths,
                             const DescriptorStream& train, bool split_product,
                             const ScanParams& params, const StreamOptions& options,
                             metrics::TopKResult* matches, const ScanGroups* groups) {
  params.Check();
  options.Check();
  REPBENCH_ASSERT(generated.rows() == int64_t(generated_paths.size()));
  check_scan_inputs(generated.rows(), generated.row_size(), train.rows(), train.row_size());
  ScanPieces p;
  p.groups = groups;
  const bool within = groups && groups->within;
  const auto t0 = std::chrono::steady_clock::now();
  // Pass 1 serves the generations and the baseline sample, whose rows are known in advance.
  std::vector<int64_t> sampled =
      within ? within_group_baseline_rows(groups->train, params.baseline_sample, params.seed)
             : baseline_rows(train.rows(), params.baseline_sample, params.seed);
  FloatArray bq = train.read_rows(sampled);
  l2_normalize_rows(bq);
  const std::vector<int32_t> sampled_groups =
      within ? groups_of(sampled, groups->train) : std::vector<int32_t>{};
  std::unique_ptr<DuplicateSketch> sketch;
  if (!split_product && options.sketch_dims > 0 && train.row_size() >= 2 * options.sketch_dims)
    sketch = std::make_unique<DuplicateSketch>(train.row_size(), options.sketch_dims,
                                               options.scratch_dir);
  // The candidates pass 1 rescores (a copy of the options that counts them).
  RescoreStats rescored;
  StreamOptions counted_options = options;
  if (!counted_options.stats) counted_options.stats = &rescored;
  std::vector<metrics::TopKResult> first = stream_topk(
      train,
      {{&generated, params.k, within ? &groups->generated : nullptr},
       {&bq, 2, within ? &sampled_groups : nullptr}},
      split_product, counted_options, within ? &groups->train : nullptr,
      [&](const FloatArray& block) {
        if (sketch) sketch->add(block);
      });
  p.found.topk = std::move(first[0]);
  p.found.search_seconds =
      seconds_since(t0);
  p.found.method = "exact";
  p.found.params = {{"similarity", split_product ? "split-product" : "inner-product"}};
  p.found.precision = precision_record(options.precision, *counted_options.stats);
  p.train_rows = train.rows();
  if (!sampled.empty()) p.baseline = baseline_from_top2(std::move(sampled), first[1]);
  // The duplicate counts of the top-1 matches, known only now: from the sketch when it prunes
  // enough, else by a second pass.
  p.distinct = duplicate_rows(p.found.topk, params);
  std::optional<DuplicateSketch::Counted> counted;
  if (sketch && !p.distinct.empty()) {
    FloatArray dq = train.read_rows(p.distinct);
    l2_normalize_rows(dq);
    // Survivors are read one by one: up to a sixteenth of the rows that costs far less than a
    // pass over all of them (a block at a time in memory).
    counted = sketch->count(train, dq, p.distinct, params.dup_threshold,
                            std::max(options.rows_per_block(), train.rows() / 16),
                            options.rows_per_block(), options.threads);
  }
  const int64_t passes = p.distinct.empty() || counted ? 1 : 2;
  if (counted)
    p.duplicates = counted->counts;
  else
    p.duplicates = stream_baseline_and_duplicates(train, split_product, {}, p.distinct,
                                                  params.dup_threshold, options)
                       .duplicates;
  p.exact_duplicates = true;
  nlohmann::json rec = record_body(
      p, generated_paths, [&](int64_t id) -> const std::string& { return train.path(id); },
      split_product, params);
  const DescriptorStream::Stats& st = train.stats();
  rec["stream"] = {{"block_rows", options.rows_per_block()},
                   {"blocks", st.blocks},
                   {"peak_rows", st.peak_rows},
                   {"peak_bytes", st.peak_bytes},
                   {"passes", passes},
                   {"read_wait_seconds", st.read_wait_seconds},
                   {"duplicate_sketch", nullptr}};
  if (sketch)
    rec["stream"]["duplicate_sketch"] = {
        {"dims", options.sketch_dims},
        {"bytes", sketch->rows() * sketch->bytes_per_row()},
        {"used", counted.has_value()},
        {"candidates", counted ? nlohmann::json(counted->candidates) : nlohmann::json(nullptr)},
        {"rows_read", counted ? nlohmann::json(counted->rows_read) : nlohmann::json(nullptr)}};
  if (matches) *matches = std::move(p.found.topk);
  return rec;
}

}  // namespace repbench::scan
