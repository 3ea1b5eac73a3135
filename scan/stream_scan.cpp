#include "scan/stream_scan.h"

#include <chrono>

#include "core/descriptors.h"
#include "core/error.h"
#include "scan/groups.h"
#include "scan/index.h"

namespace repbench::scan {

void StreamOptions::Check() const {
  if (block_rows < 1) fail("--block-rows {} must be >= 1", block_rows);
  if (threads < 0) fail("threads {} is negative", threads);
}

int64_t StreamOptions::rows_per_block() const {
  constexpr int64_t kTile = 8192;  // count_duplicates' tile; search_topk's 2048 divides it
  return (std::max<int64_t>(block_rows, 1) + kTile - 1) / kTile * kTile;
}

metrics::TopKResult stream_topk(const DescriptorStream& train, const FloatArray& queries,
                                bool split_product, int64_t k, const StreamOptions& options,
                                const std::vector<int32_t>* query_groups,
                                const std::vector<int32_t>* train_groups) {
  options.Check();
  metrics::TopKResult r;
  r.nq = queries.rows();
  r.k = k;
  r.ids.assign(size_t(r.nq * k), -1);
  r.scores.assign(size_t(r.nq * k), -std::numeric_limits<float>::infinity());
  if (r.nq == 0) return r;
  train.for_each_block(options.rows_per_block(), [&](int64_t first, FloatArray& block) {
    l2_normalize_rows(block);
    if (train_groups) {
      merge_topk_within_groups(r, block, first, split_product, queries.data.data(), *query_groups,
                               *train_groups, options.threads);
      return;
    }
    const metrics::TopKResult part =
        exact_search(block, split_product, queries.data.data(), r.nq, k, options.threads);
    metrics::merge_topk(r, part, first);
  });
  return r;
}

SecondPass stream_baseline_and_duplicates(const DescriptorStream& train, bool split_product,
                                          std::vector<int64_t> sampled,
                                          const std::vector<int64_t>& dup_rows,
                                          double dup_threshold, const StreamOptions& options,
                                          const std::vector<int32_t>* train_groups) {
  options.Check();
  std::vector<int32_t> sampled_groups;
  if (train_groups)
    for (int64_t r : sampled) sampled_groups.push_back((*train_groups)[size_t(r)]);
  FloatArray bq = train.read_rows(sampled), dq = train.read_rows(dup_rows);
  l2_normalize_rows(bq);
  l2_normalize_rows(dq);
  metrics::TopKResult top2;
  top2.nq = bq.rows();
  top2.k = 2;
  top2.ids.assign(size_t(top2.nq * 2), -1);
  top2.scores.assign(size_t(top2.nq * 2), -std::numeric_limits<float>::infinity());
  SecondPass out;
  out.duplicates.assign(dup_rows.size(), 0);
  train.for_each_block(options.rows_per_block(), [&](int64_t first, FloatArray& block) {
    l2_normalize_rows(block);
    if (top2.nq > 0 && train_groups)
      merge_topk_within_groups(top2, block, first, split_product, bq.data.data(), sampled_groups,
                               *train_groups, options.threads);
    else if (top2.nq > 0)
      metrics::merge_topk(top2, exact_search(block, split_product, bq.data.data(), top2.nq, 2,
                                             options.threads),
                          first);
    add_duplicate_counts(dq.data.data(), dup_rows, block, first, split_product, dup_threshold,
                         options.threads, out.duplicates);
  });
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
  p.found.topk = stream_topk(train, generated, split_product, params.k, options,
                             within ? &groups->generated : nullptr,
                             within ? &groups->train : nullptr);
  p.found.search_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  p.found.method = "exact";
  p.found.params = {{"similarity", split_product ? "split-product" : "inner-product"}};
  p.train_rows = train.rows();
  p.distinct = duplicate_rows(p.found.topk, params);
  SecondPass second = stream_baseline_and_duplicates(
      train, split_product,
      within ? within_group_baseline_rows(groups->train, params.baseline_sample, params.seed)
             : baseline_rows(train.rows(), params.baseline_sample, params.seed),
      p.distinct, params.dup_threshold, options, within ? &groups->train : nullptr);
  p.baseline = std::move(second.baseline);
  p.duplicates = std::move(second.duplicates);
  p.exact_duplicates = true;
  nlohmann::json rec = record_body(
      p, generated_paths, [&](int64_t id) -> const std::string& { return train.path(id); },
      split_product, params);
  const DescriptorStream::Stats& st = train.stats();
  rec["stream"] = {{"block_rows", options.rows_per_block()},
                   {"blocks", st.blocks},
                   {"peak_rows", st.peak_rows},
                   {"peak_bytes", st.peak_bytes},
                   {"passes", 2}};
  if (matches) *matches = std::move(p.found.topk);
  return rec;
}

}  // namespace repbench::scan
