#include "scan/scan.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/descriptors.h"
#include "core/elapsed.h"
#include "core/error.h"
#include "core/sha256.h"
#include "descriptors/shards.h"
#include "evaluation/scoring.h"
#include "imaging/image_list.h"
#include "models/feature_cache.h"
#include "records/record_envelope.h"
#include "scan/baseline.h"
#include "scan/duplicates.h"
#include "scan/groups.h"
#include "scan/impl/scan_record.h"
#include "scan/matches_csv.h"
#include "scan/partial.h"
#include "scan/stream_index.h"
#include "scan/stream_scan.h"

namespace fs = std::filesystem;

namespace repbench::scan {

namespace {

// Rows of `a` that are not listed in `failed` (sorted by index), and their original indices.
FloatArray keep_rows(FloatArray a, const std::vector<models::FailedImage>& failed,
                     std::vector<int64_t>* kept) {
  std::set<int64_t> bad;
  for (const auto& f : failed) bad.insert(f.index);
  const int64_t row = a.row_size();
  kept->clear();
  int64_t w = 0;
  for (int64_t i = 0; i < a.rows(); ++i) {
    if (bad.count(i)) continue;
    if (w != i) std::copy(a.row(i), a.row(i) + row, a.data.begin() + w * row);
    kept->push_back(i);
    ++w;
  }
  a.data.resize(static_cast<size_t>(w * row));
  a.shape[0] = w;
  return a;
}

nlohmann::json skipped_json(const std::vector<models::FailedImage>& failed) {
  nlohmann::json s = nlohmann::json::array();
  for (const auto& f : failed) s.push_back({{"path", f.path}, {"error", f.reason}});
  return s;
}

}  // namespace

void ScanOptions::Check() const {
  if (generated.empty() == generated_descriptors.empty())
    fail("give either --generated DIR_OR_LIST or --generated-descriptors G.npy");
  if (train.empty() == train_descriptors.empty())
    fail("give either --train DIR_OR_LIST or --train-descriptors SHARD.npy...");
  if (model.empty() && (generated_descriptors.empty() || train_descriptors.empty()))
    fail("give --model SPEC (images are read; only a scan of descriptors on both sides needs none)");
  if (!generated_list.empty() && generated_descriptors.empty())
    fail("--generated-list names the rows of --generated-descriptors; give that too");
  if (!train_list.empty() && train_descriptors.empty())
    fail("--train-list names the rows of --train-descriptors; give that too");
  if (block_rows < 1) fail("--block-rows {} must be >= 1", block_rows);
  if (sketch_dims < 0) fail("--sketch-dims {} must be >= 0", sketch_dims);
  if (out.empty()) fail("give --out DIR");
  if (batch_size < 1) fail("--batch-size {} must be >= 1", batch_size);
  if (within_group && (generated_groups.empty() || train_groups.empty()))
    fail("--within-group needs both --generated-groups and --train-groups");
  if (within_group && params.index.kind != IndexKind::kExact &&
      params.index.kind != IndexKind::kAuto)
    fail("--within-group searches each group exactly: give --index exact (or auto), not '{}'",
         params.index.kind == IndexKind::kIvf    ? std::string("ivf")
         : params.index.kind == IndexKind::kHnsw ? std::string("hnsw")
                                                 : params.index.factory);
  extractor.Check();
  params.Check();
}

nlohmann::json scan_descriptors(const FloatArray& generated,
                                const std::vector<std::string>& generated_paths,
                                const FloatArray& train, const std::vector<std::string>& train_paths,
                                bool split_product, const ScanParams& params,
                                metrics::TopKResult* matches, const ScanGroups* groups) {
  params.Check();
  REPBENCH_ASSERT(generated.rows() == int64_t(generated_paths.size()));
  REPBENCH_ASSERT(train.rows() == int64_t(train_paths.size()));
  check_scan_inputs(generated.rows(), generated.row_size(), train.rows(), train.row_size());

  ScanPieces p;
  p.groups = groups;
  std::unique_ptr<TrainIndex> index;
  if (groups && groups->within) {
    // Exact search of each group's rows; the index serves the duplicate counts (whole set).
    REPBENCH_ASSERT(int64_t(groups->generated.size()) == generated.rows() &&
                    int64_t(groups->train.size()) == train.rows());
    IndexOptions exact = params.index;
    exact.kind = IndexKind::kExact;
    index = build_index(train, split_product, exact);
    const auto t0 = std::chrono::steady_clock::now();
    metrics::TopKResult& r = p.found.topk;
    r.nq = generated.rows();
    r.k = params.k;
    r.ids.assign(size_t(r.nq * r.k), -1);
    r.scores.assign(r.ids.size(), -std::numeric_limits<float>::infinity());
    merge_topk_within_groups(r, train, 0, split_product, generated.data.data(), groups->generated,
                             groups->train, params.index.threads);
    p.found.search_seconds =
        seconds_since(t0);
    p.found.method = index->method();
    p.found.params = index->params();
    std::vector<int64_t> rows =
        within_group_baseline_rows(groups->train, params.baseline_sample, params.seed);
    const int64_t row = train.row_size();
    std::vector<float> q(rows.size() * row);
    std::vector<int32_t> qg;
    for (size_t i = 0; i < rows.size(); ++i) {
      std::copy(train.row(rows[i]), train.row(rows[i]) + row, q.begin() + i * row);
      qg.push_back(groups->train[size_t(rows[i])]);
    }
    metrics::TopKResult top2;
    top2.nq = int64_t(rows.size());
    top2.k = 2;
    top2.ids.assign(size_t(top2.nq * 2), -1);
    top2.scores.assign(top2.ids.size(), -std::numeric_limits<float>::infinity());
    merge_topk_within_groups(top2, train, 0, split_product, q.data(), qg, groups->train,
                             params.index.threads);
    if (!rows.empty()) p.baseline = baseline_from_top2(std::move(rows), top2);
  } else {
    p.found = search_train(train, generated, split_product, params.k, params.index, &index);
    p.baseline = self_similarity_baseline(*index, train, params.baseline_sample, params.seed);
  }
  p.train_rows = train.rows();
  // Duplicate counts, once per distinct matched training image chosen.
  p.distinct = duplicate_rows(p.found.topk, params);
  p.duplicates = count_duplicates(train, split_product, p.distinct, params.dup_threshold, *index,
                                  params.duplicate_cap, params.index.threads);
  p.exact_duplicates = index->exact();
  if (const RescoreStats* st = index->rescore_stats())
    p.found.precision = precision_record(params.index.precision, *st);
  nlohmann::json rec = record_body(
      p, generated_paths, [&](int64_t id) -> const std::string& { return train_paths[id]; },
      split_product, params);
  if (matches) *matches = std::move(p.found.topk);
  return rec;
}

namespace {

// One side of a scan (generations or training set) before the search: its rows in memory, or
// (training descriptors searched exactly) a stream over the files.
struct Side {
  FloatArray features;               // readable rows, L2-normalised (empty when streamed)
  std::vector<std::string> paths;    // names of those rows
  std::vector<models::FailedImage> failed;
  std::string source;
  int64_t listed = 0, shards = 1;
  std::optional<DescriptorStream> stream;
  std::string model;                 // the descriptors' model, "" when unknown (plain .npy)
  nlohmann::json provenance;         // what the model/preprocessing check compares
};

// Descriptors of images through the feature cache under OUT/cache.
Side extracted_side(models::FeatureExtractor& ex, const imaging::ImageList& src, const std::string& label,
                    const ScanOptions& o) {
  models::PipelineOptions popt;
  popt.batch_size = o.batch_size;
  popt.load = o.load;
  popt.on_decode_error = models::DecodeErrorPolicy::kSkip;
  popt.progress = o.progress;
  popt.label = fmt::format("{} {}", ex.name(), label);
  std::vector<models::ImageItem> items;
  for (const auto& p : src.paths) items.push_back({p, std::nullopt});
  const std::string npy = (fs::path(o.out) / "cache" /
                           models::cache_file_name(label, models::cache_key(ex, items, popt)))
                              .string();
  models::CachedExtraction c = models::extract_cached(ex, items, npy, popt);
  Side s;
  s.listed = c.features.rows();
  s.failed = std::move(c.failed);
  std::vector<int64_t> kept;
  s.features = keep_rows(std::move(c.features), s.failed, &kept);
  for (int64_t i : kept) s.paths.push_back(src.paths[i]);
  s.source = src.source;
  s.model = ex.spec();
  s.provenance = {{"model", ex.spec()},
                  {"model_sha256", ex.info().model_sha256},
                  {"preprocess", ex.preprocess().canonical()},
                  {"decoding", models::decoding_name(o.load)}};
  return s;
}

// Descriptor files; the whole stream is read into memory unless `keep_streamed`. `whole_list`:
// as DescriptorStream::open. `normalise` = false keeps the rows as written (post-processing
// comes first).
Side descriptor_side(const std::vector<std::string>& files, const std::string& names,
                     bool keep_streamed, bool whole_list = true, bool normalise = true) {
  Side s;
  s.stream = DescriptorStream::open(files, names, whole_list);
  const DescriptorStream& d = *s.stream;
  s.failed = d.failed();
  s.source = d.source();
  s.listed = d.listed();
  s.shards = d.shards();
  s.model = d.model();
  s.provenance = d.provenance();
  if (keep_streamed) return s;
  s.features.shape = d.shape(d.rows());
  s.features.data.reserve(size_t(d.rows() * d.row_size()));
  d.for_each_block(d.list_begin() + d.listed(), [&](int64_t, FloatArray& block) {
    s.features.data.insert(s.features.data.end(), block.data.begin(), block.data.end());
  });
  if (normalise) l2_normalize_rows(s.features);
  for (int64_t r = 0; r < d.rows(); ++r) s.paths.push_back(d.path(r));
  s.stream.reset();
  return s;
}

int64_t side_rows(const Side& s) { return s.stream ? s.stream->rows() : s.features.rows(); }
// How the scan's images were decoded (models::decoding_name()): the sides agree where both
// record it (run_scan checks); null when neither does (plain .npy on both sides).
nlohmann::json scan_decoding(const Side& gen, const Side& train) {
  for (const Side* s : {&gen, &train})
    if (s->provenance.contains("decoding")) return s->provenance["decoding"];
  return nullptr;
}
std::vector<int64_t> side_shape(const Side& s) {
  return s.stream ? s.stream->shape(s.stream->rows()) : s.features.shape;
}

// The record around a scan's body, written with matches.csv (scan.json last: it marks a finished
// scan). Shared by the whole scan and the merge of partial scans, which must write the same.
nlohmann::json write_scan(const std::string& out, const std::string& model, const Side& gen,
                          const Side& train, nlohmann::json body,
                          const std::vector<std::string>& gen_paths,
                          const std::function<const std::string&(int64_t)>& train_path,
                          const metrics::TopKResult& matches,
                          std::chrono::steady_clock::time_point t0) {
  const nlohmann::json decoding = scan_decoding(gen, train);
  REPBENCH_ASSERT(body["timings"].is_object());
  nlohmann::json rec = records::record_envelope(records::kScanSchema, body["timings"]);
  body.erase("timings");
  rec["kind"] = "replication-scan";
  rec["model"] = model;
  rec["decoding"] = decoding;
  rec["generated"] = {{"source", gen.source},
                      {"count", int64_t(gen_paths.size())},
                      {"listed", gen.listed},
                      {"skipped", skipped_json(gen.failed)}};
  rec["train"] = {{"source", train.source},
                  {"count", side_rows(train)},
                  {"listed", train.listed},
                  {"skipped", skipped_json(train.failed)},
                  {"shards", train.shards}};
  for (auto& [key, value] : body.items()) rec[key] = value;
  auto& notes = rec["notes"];
  if (!gen.failed.empty())
    notes.push_back(fmt::format("{} of {} generated images could not be read and were skipped.",
                                gen.failed.size(), gen.listed));
  if (!train.failed.empty())
    notes.push_back(fmt::format("{} of {} training images could not be read and were skipped.",
                                train.failed.size(), train.listed));
  if (decoding == models::decoding_name(models::LoadOptions{/*reduced_decoding=*/true}))
    notes.push_back(
        "Descriptors were computed with --fast-decode (large JPEGs decoded at reduced size), so "
        "they differ slightly from the model's reference pipeline, which decodes at full size.");
  rec["timings"]["total_seconds"] =
      seconds_since(t0);
  write_matches_csv((fs::path(out) / "matches.csv").string(), gen_paths, train_path, matches);
  write_file_atomic((fs::path(out) / "scan.json").string(), rec.dump(2) + "\n");
  return rec;
}

std::vector<std::string> unread(const std::vector<models::FailedImage>& failed) {
  std::vector<std::string> names;
  for (const auto& f : failed) names.push_back(f.path);
  return names;
}

// The groups files of a scan, read once by run_scan (their syntax checked before any descriptor
// is made), and assigned to the rows by the whole scan or by a job array's task.
struct GroupsInput {
  std::vector<GroupEntry> generated, train;
  std::string generated_file, train_file;
  bool within = false;
  bool any() const { return !generated_file.empty() || !train_file.empty(); }
};

ScanGroups assign_scan_groups(const GroupsInput& in, const std::vector<std::string>& gen_paths,
                              const std::vector<models::FailedImage>& gen_failed,
                              const std::function<const std::string&(int64_t)>& train_path,
                              int64_t train_rows,
                              const std::vector<models::FailedImage>& train_failed) {
  std::vector<std::string> gg, tg;
  if (!in.generated_file.empty())
    gg = assign_groups(
        in.generated, in.generated_file,
        [&](int64_t i) -> const std::string& { return gen_paths[size_t(i)]; },
        int64_t(gen_paths.size()), unread(gen_failed), "generated image");
  if (!in.train_file.empty())
    tg = assign_groups(in.train, in.train_file, train_path, train_rows, unread(train_failed),
                       "training image");
  return make_scan_groups(gg, tg, in.within, in.generated_file, in.train_file);
}

// What every partial of one scan must share (scan/partial.h).
nlohmann::json partial_run(const std::string& model, const Side& gen, const Side& train,
                           const descriptors::ShardedDescriptors& info, bool split, const ScanParams& p,
                           const GroupsInput& gin) {
  const DescriptorStream& shard = *train.stream;
  nlohmann::json groups = nullptr;
  if (gin.any()) {
    auto digest = [](const std::string& file) -> nlohmann::json {
      return file.empty() ? nlohmann::json(nullptr) : nlohmann::json(sha256_hex(read_file(file)));
    };
    groups = {{"generated_file", gin.generated_file},
              {"generated_sha256", digest(gin.generated_file)},
              {"train_file", gin.train_file},
              {"train_sha256", digest(gin.train_file)},
              {"within", gin.within}};
  }
  return {{"model", model},
          {"groups", groups},
          {"decoding", scan_decoding(gen, train)},
          {"similarity", split ? "split-product" : "inner-product"},
          {"k", p.k},
          {"thresholds", p.thresholds},
          {"dup_threshold", p.dup_threshold},
          {"baseline_sample", p.baseline_sample},
          {"duplicate_sample", p.duplicate_sample},
          {"seed", p.seed},
          {"generated",
           {{"source", gen.source},
            {"listed", gen.listed},
            {"count", int64_t(gen.paths.size())},
            {"paths_sha256", descriptors::path_list_sha256(gen.paths)}}},
          {"train",
           {{"source", shard.source()},
            {"list_sha256", shard.list_sha256()},
            {"total", info.total},
            {"shards", info.count}}}};
}

// The other shard files of shard `npy` (named images.shard-I-of-N.npy by `extract --shard`),
// all N in shard order: the baseline sample is drawn from, and read in, the whole set.
std::vector<std::string> sibling_shards(const std::string& npy,
                                        const descriptors::ShardedDescriptors& info) {
  if (info.count == 1) return {npy};
  const std::string name = fs::path(npy).filename().string();
  const std::string mine = fmt::format("shard-{}-of-{}", info.index, info.count);
  const size_t at = name.rfind(mine);
  if (at == std::string::npos)
    fail("{}: shard {}/{} of a partial scan must keep the name `extract --shard` gave it "
         "(...{}.npy): the baseline sample reads the other shards beside it",
         npy, info.index, info.count, mine);
  std::vector<std::string> out;
  for (int64_t i = 0; i < info.count; ++i) {
    const fs::path other = fs::path(npy).parent_path() /
                           (name.substr(0, at) + fmt::format("shard-{}-of-{}", i, info.count) +
                            name.substr(at + mine.size()));
    std::error_code ec;
    if (!fs::exists(other, ec) || !fs::exists(descriptors::shard_info_path(other.string()), ec))
      fail("{}: shard {}/{} is not there yet: a partial scan reads the baseline sample from every "
           "shard of the list (extract all shards before the scan tasks)",
           other.string(), i, info.count);
    out.push_back(other.string());
  }
  return out;
}

// One task of a job array: pass 1 over its shard (the generations' best rows and the baseline
// sample's best two, ids made list indices), plus what lets the merge count duplicates without
// the shards (scan/partial.h).
PartialScan scan_partial(const std::string& model, const Side& gen, const Side& train,
                         const descriptors::ShardedDescriptors& info, const std::string& npy,
                         bool split, const ScanParams& params, const StreamOptions& so,
                         const GroupsInput& gin) {
  const DescriptorStream& d = *train.stream;
  PartialScan p;
  p.run = partial_run(model, gen, train, info, split, params, gin);
  p.index = info.index;
  p.count = info.count;
  p.begin = info.begin;
  p.end = info.end;
  p.npy = fs::absolute(npy).lexically_normal().string();
  p.generated_paths = gen.paths;
  p.generated_failed = gen.failed;
  p.carries_shares = true;
  p.train_paths = d.paths();
  p.train_failed = d.failed();
  p.row_shape = d.row_shape();
  // The whole set's rows: the baseline sample is drawn from them (its rows read from the shards
  // that hold them), and the groups files name them.
  const DescriptorStream all = DescriptorStream::open(sibling_shards(npy, info));
  std::optional<ScanGroups> groups;
  std::vector<int32_t> shard_groups;  // the groups of this shard's rows
  if (gin.any()) {
    groups = assign_scan_groups(
        gin, gen.paths, gen.failed, [&](int64_t i) -> const std::string& { return all.path(i); },
        all.rows(), all.failed());
    p.has_groups = true;
    p.group_names = groups->names;
    p.group_generated = groups->generated;
    if (groups->has_train()) {
      const int64_t first = all.row_of_list_index(d.list_index(0));
      shard_groups.assign(groups->train.begin() + first, groups->train.begin() + first + d.rows());
      p.group_train = shard_groups;
    }
  }
  const bool within = groups && groups->within;
  p.baseline_rows = within ? within_group_baseline_rows(groups->train, params.baseline_sample,
                                                        params.seed)
                           : baseline_rows(all.rows(), params.baseline_sample, params.seed);
  FloatArray bq = all.read_rows(p.baseline_rows);
  l2_normalize_rows(bq);
  std::vector<int32_t> sampled_groups;
  if (within)
    for (int64_t r : p.baseline_rows) sampled_groups.push_back(groups->train[size_t(r)]);
  // Each generation's best `entries` rows of the shard (all its rows, whatever the groups: the
  // duplicates are counted over the whole set): its top-k are the first k (within groups: a
  // search of its own), and those scoring at least its floor are the duplicate entries.
  constexpr int64_t kEntries = 32;
  const int64_t entries = std::max(params.k, kEntries);
  std::vector<StreamQueries> searches{{&gen.features, entries, nullptr},
                                      {&bq, 2, within ? &sampled_groups : nullptr}};
  if (within) searches.push_back({&gen.features, params.k, &groups->generated});
  std::vector<metrics::TopKResult> found =
      stream_topk(d, searches, split, so, within ? &shard_groups : nullptr);
  const metrics::TopKResult& best = found[0];
  if (within) {
    p.topk = std::move(found[2]);
  } else {
    p.topk.nq = best.nq;
    p.topk.k = params.k;
    for (int64_t q = 0; q < best.nq; ++q)
      for (int64_t j = 0; j < params.k; ++j) {
        p.topk.ids.push_back(best.ids[size_t(q * entries + j)]);
        p.topk.scores.push_back(best.scores[size_t(q * entries + j)]);
      }
  }
  for (int64_t& id : p.topk.ids)
    if (id >= 0) id = d.list_index(id);
  p.baseline_top2 = std::move(found[1]);
  for (int64_t& id : p.baseline_top2.ids)
    if (id >= 0) id = d.list_index(id);
  // The angles' bound holds for unit vectors under the inner product, not the split product.
  p.has_duplicates = !split;
  if (p.has_duplicates) {
    const double lowest = *std::min_element(params.thresholds.begin(), params.thresholds.end());
    std::set<int64_t> rows;  // stream rows
    for (int64_t q = 0; q < best.nq; ++q) {
      // A match counted because it scores s > lowest, s >= this shard's best (of the
      // generation's group, within groups): its duplicates score at least duplicate_need(s) with
      // the generation (less a hair: the merge computes the need again, perhaps with another
      // libm). A shard of at most `entries` rows is carried whole (every match is then covered).
      const float top = p.topk.scores[size_t(q * params.k)];
      const double floor =
          d.rows() <= entries
              ? -1.0
              : duplicate_need(std::max<double>(top, lowest), params.dup_threshold) - 1e-6;
      p.floor.push_back(float(floor));
      p.bound.push_back(best.scores[size_t(q * entries + entries - 1)]);
      std::vector<int64_t> list;
      for (int64_t j = 0; j < entries; ++j) {
        const int64_t id = best.ids[size_t(q * entries + j)];
        if (id < 0 || best.scores[size_t(q * entries + j)] < p.floor.back()) break;
        list.push_back(d.list_index(id));
        rows.insert(id);
      }
      p.entries.push_back(std::move(list));
    }
    const std::vector<int64_t> stream_rows(rows.begin(), rows.end());
    p.entry_values = d.read_rows(stream_rows);
    l2_normalize_rows(p.entry_values);
    for (int64_t r : stream_rows) p.entry_rows.push_back(d.list_index(r));
  }
  return p;
}

}  // namespace

nlohmann::json run_scan(const ScanOptions& o) {
  o.Check();
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<imaging::ImageList> gen_src, train_src;
  if (o.generated_descriptors.empty()) gen_src = imaging::read_image_list(o.generated);
  if (o.train_descriptors.empty()) train_src = imaging::read_image_list(o.train);
  // Groups files are read (and their syntax checked) before any descriptor is made.
  GroupsInput gin;
  gin.generated_file = o.generated_groups;
  gin.train_file = o.train_groups;
  gin.within = o.within_group;
  if (!o.generated_groups.empty()) gin.generated = read_groups_csv(o.generated_groups);
  if (!o.train_groups.empty()) gin.train = read_groups_csv(o.train_groups);
  remove_stale_temporaries(o.out);

  // Post-processing needs both sides in memory: the training rows are then not streamed.
  const bool post = !o.postprocess.chain.empty() || !o.postprocess.train_file.empty();
  if (post && !o.partial.empty())
    fail("--postprocess '{}': a --partial scan streams its shard; post-process the descriptor "
         "files first or scan without --partial",
         o.postprocess.chain);
  std::unique_ptr<models::FeatureExtractor> ex;
  if (!o.model.empty()) ex = models::create_extractor(o.model, o.extractor);
  Side gen = gen_src ? extracted_side(*ex, *gen_src, "generated", o)
                     : descriptor_side({o.generated_descriptors}, o.generated_list, false, true,
                                       !post);
  Side train;
  if (train_src) {
    train = extracted_side(*ex, *train_src, "train", o);
  } else if (!o.partial.empty()) {
    if (o.train_descriptors.size() != 1)
      fail("--partial scans one training shard: give one --train-descriptors SHARD_I.npy, not {}",
           o.train_descriptors.size());
    train = descriptor_side(o.train_descriptors, "", true, false);
    if (o.params.index.kind != IndexKind::kExact && o.params.index.kind != IndexKind::kAuto)
      fail("--partial scans are exact: give --index exact (or auto)");
  } else {
    // The training rows stay on disk (exact search streams them, within groups too; an
    // approximate index is trained on a sample read from the files and filled block by block,
    // scan/stream_index.h) unless post-processing needs them in memory.
    train = descriptor_side(o.train_descriptors, o.train_list, !post, true, !post);
  }
  if (train.stream) train.stream->show_progress(o.progress, "training descriptors");
  // Descriptors made elsewhere: their model must be --model's, and the two sides' the same.
  const std::string gen_name = gen_src ? o.generated : o.generated_descriptors;
  const std::string train_name = train_src ? o.train : o.train_descriptors[0];
  if (ex) {
    for (const Side* s : {&gen, &train}) {
      const std::string& name = s == &gen ? gen_name : train_name;
      if (!s->model.empty() && s->model != ex->spec())
        fail("{}: descriptors of model '{}', but --model is '{}'", name, s->model, ex->spec());
      const std::vector<int64_t> want = models::descriptor_shape(*ex, side_rows(*s));
      if (side_shape(*s) != want)
        fail("{}: descriptors of shape [{}], the model gives [{}]", name,
             fmt::join(side_shape(*s), ", "), fmt::join(want, ", "));
    }
  }
  for (const auto& key : {"model", "model_sha256", "preprocess"})
    if (gen.provenance.contains(key) && train.provenance.contains(key) &&
        gen.provenance[key] != train.provenance[key])
      fail("{}: descriptors with {} {}, but {} has {}", gen_name, key,
           gen.provenance[key].dump(), train_name, train.provenance[key].dump());
  // Both sides through one pipeline: generations and training images decoded alike.
  if (gen.provenance.contains("decoding") && train.provenance.contains("decoding") &&
      gen.provenance["decoding"] != train.provenance["decoding"]) {
    const std::string g = gen.provenance["decoding"], t = train.provenance["decoding"];
    if (gen_src || train_src)  // one side's images are decoded by this scan
      fail("{}: descriptors made with {} decoding, but this scan decodes with {} (run both with "
           "or both without --fast-decode)",
           gen_src ? train_name : gen_name, gen_src ? t : g, gen_src ? g : t);
    fail("{}: descriptors made with {} decoding, but {} with {} (extract both with or both "
         "without --fast-decode)",
         gen_name, g, train_name, t);
  }

  auto first_failure = [](const std::vector<models::FailedImage>& f) {
    // The reason names the file already.
    return f.empty() ? std::string() : fmt::format(" (first: {})", f[0].reason);
  };
  if (side_rows(gen) == 0)
    fail("{}: none of the {} generated images could be read{}", gen.source, gen.listed,
         first_failure(gen.failed));
  if (side_rows(train) == 0)
    fail("{}: none of the {} training images could be read{}", train.source, train.listed,
         first_failure(train.failed));
  if (gen.features.row_size() != (train.stream ? train.stream->row_size() : train.features.row_size()) ||
      side_shape(gen).size() != side_shape(train).size())
    fail("{}: descriptors of shape [{}], but {} has rows of shape [{}]", gen_name,
         fmt::join(side_shape(gen), ", "), train_name, fmt::join(side_shape(train), ", "));

  // Each row's group, by the names matches.csv gives the rows.
  // (A job array's task assigns them over the whole list: scan_partial.)
  std::optional<ScanGroups> groups;
  if (o.partial.empty() && gin.any())
    groups = assign_scan_groups(
        gin, gen.paths, gen.failed,
        [&](int64_t i) -> const std::string& {
          return train.stream ? train.stream->path(i) : train.paths[size_t(i)];
        },
        side_rows(train), train.failed);

  postprocess::Spec post_spec = o.postprocess;
  if (post_spec.cache_dir.empty())
    post_spec.cache_dir = (fs::path(o.out) / "cache" / "postprocess").string();
  // The paper L2-normalises every descriptor (split-product: the flattened token vector), after
  // the post-processing: scored as eval scores (evaluation/scoring.h). A streamed training set
  // (never post-processed: it is then held in memory) is normalised block by block as it is read.
  postprocess::Applied post_applied;
  bool split = gen.features.shape.size() == 3;
  if (train.stream) {
    l2_normalize_rows(gen.features);
  } else {
    evaluation::PairOptions po;
    po.l2_normalize = true;
    po.postprocess = post_spec;
    po.threads = o.params.index.threads;
    evaluation::PreparedPair pair = evaluation::prepare_pair(
        evaluation::Descriptors::from_array(std::move(gen.features), gen_name, {}),
        evaluation::Descriptors::from_array(std::move(train.features), train_name, {}), po);
    gen.features = std::move(*pair.q.owned);
    train.features = std::move(*pair.db.owned);
    split = pair.split;
    post_applied = std::move(pair.postprocess);
  }
  StreamOptions so;
  so.block_rows = o.block_rows;
  so.sketch_dims = o.sketch_dims;
  so.scratch_dir = o.out;  // the sketch file (nameless) sits beside the results it serves
  so.threads = o.params.index.threads;
  so.precision = o.params.index.precision;
  const std::string model = ex ? ex->spec() : gen.model.empty() ? train.model : gen.model;
  if (!o.partial.empty()) {
    const descriptors::ShardedDescriptors info = descriptors::read_shard_info(o.train_descriptors[0]);
    PartialScan p =
        scan_partial(model, gen, train, info, o.train_descriptors[0], split, o.params, so, gin);
    p.seconds = seconds_since(t0);
    p.context = records::record_context();
    write_partial(p, o.partial);
    return {{"partial", o.partial}, {"shard", info.index}, {"shards", info.count},
            {"generated", int64_t(gen.paths.size())}, {"train", train.stream->rows()},
            {"seconds", p.seconds}};
  }
  metrics::TopKResult matches;
  nlohmann::json body;
  if (train.stream && !o.within_group &&
      resolve_index_kind(o.params.index, train.stream->rows(), split) != IndexKind::kExact) {
    body = scan_streamed_approximate(gen.features, gen.paths, *train.stream, o.params, so,
                                     &matches, groups ? &*groups : nullptr);
  } else if (train.stream) {
    body = scan_streamed(gen.features, gen.paths, *train.stream, split, o.params, so, &matches,
                         groups ? &*groups : nullptr);
  } else {
    body = scan_descriptors(gen.features, gen.paths, train.features, train.paths, split, o.params,
                            &matches, groups ? &*groups : nullptr);
  }
  if (!post_applied.options.is_null()) body["postprocess"] = post_applied.options;
  const std::function<const std::string&(int64_t)> train_path =
      [&](int64_t id) -> const std::string& {
    return train.stream ? train.stream->path(id) : train.paths[id];
  };
  return write_scan(o.out, model, gen, train, std::move(body), gen.paths, train_path, matches, t0);
}

namespace {

// The training rows of a merge: readable rows of the whole list, in list order.
struct MergedRows {
  std::string source;
  int64_t listed = 0;
  std::vector<std::string> names;                 // by list index
  std::vector<models::FailedImage> failed;
  std::vector<int64_t> row_of_list;               // -1 for a failed image
  std::vector<int64_t> list_of_row;
  int64_t rows = 0;
  std::vector<int64_t> row_shape;
};

MergedRows rows_of_stream(const DescriptorStream& d) {
  MergedRows m;
  m.source = d.source();
  m.listed = d.listed();
  m.names = d.paths();
  m.failed = d.failed();
  m.rows = d.rows();
  m.row_shape = d.row_shape();
  m.row_of_list.assign(size_t(m.listed), -1);
  for (int64_t r = 0; r < d.rows(); ++r) {
    m.row_of_list[size_t(d.list_index(r))] = r;
    m.list_of_row.push_back(d.list_index(r));
  }
  return m;
}

// From version 2 partials (shard order), checked against the list the tasks searched.
MergedRows rows_of_partials(const std::vector<PartialScan>& parts, const std::vector<size_t>& order,
                            const std::vector<std::string>& paths) {
  MergedRows m;
  const nlohmann::json& train = parts[order[0]].run.at("train");
  m.source = train.at("source").get<std::string>();
  m.listed = train.at("total").get<int64_t>();
  m.row_shape = parts[order[0]].row_shape;
  int64_t next = 0;
  for (size_t i : order) {
    const PartialScan& p = parts[i];
    if (p.begin != next || p.row_shape != m.row_shape)
      fail("{}: shard {}/{} holds [{}, {}) of rows [{}], not the next slice of the list", paths[i],
           p.index, p.count, p.begin, p.end, fmt::join(p.row_shape, ", "));
    m.names.insert(m.names.end(), p.train_paths.begin(), p.train_paths.end());
    m.failed.insert(m.failed.end(), p.train_failed.begin(), p.train_failed.end());
    next = p.end;
  }
  if (next != m.listed || descriptors::path_list_sha256(m.names) != train.at("list_sha256"))
    fail("{}: the partials' training paths are not the list the tasks searched", paths[order[0]]);
  m.row_of_list.assign(size_t(m.listed), 0);
  for (const auto& f : m.failed) m.row_of_list[size_t(f.index)] = -1;
  for (int64_t l = 0; l < m.listed; ++l)
    if (m.row_of_list[size_t(l)] == 0) {
      m.row_of_list[size_t(l)] = m.rows++;
      m.list_of_row.push_back(l);
    }
  return m;
}

// List indices -> rows of the merged set.
void to_rows(std::vector<int64_t>& ids, const MergedRows& m, const std::string& path) {
  for (int64_t& id : ids) {
    if (id < 0) continue;
    if (id >= m.listed || m.row_of_list[size_t(id)] < 0)
      fail("{}: training index {} is not a readable row of the list", path, id);
    id = m.row_of_list[size_t(id)];
  }
}

}  // namespace

nlohmann::json run_merge(const std::vector<std::string>& partial_paths, const std::string& out,
                         const StreamOptions& options) {
  options.Check();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<PartialScan> parts;
  int64_t partial_bytes = 0;
  for (const auto& p : partial_paths) {
    const std::string text = read_file(p);
    partial_bytes += int64_t(text.size());
    parts.push_back(parse_partial(text, p));
  }
  const std::vector<size_t> order = check_partials(parts, partial_paths);
  const PartialScan& first = parts[order[0]];
  const nlohmann::json& run = first.run;

  ScanParams params;
  try {
    params.k = run.at("k").get<int64_t>();
    params.thresholds = run.at("thresholds").get<std::vector<double>>();
    params.dup_threshold = run.at("dup_threshold").get<double>();
    params.baseline_sample = run.at("baseline_sample").get<int64_t>();
    params.seed = run.at("seed").get<uint64_t>();
    params.duplicate_sample = run.value("duplicate_sample", ScanParams{}.duplicate_sample);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: malformed partial scan: {}", partial_paths[order[0]], e.what());
  }
  params.index.kind = IndexKind::kExact;
  params.index.threads = options.threads;
  params.Check();
  const bool split = run.at("similarity") == "split-product";
  if (first.topk.k != params.k) fail("{}: k {} but its run says {}", partial_paths[order[0]], first.topk.k, params.k);

  // The shard files are opened only when a partial does not carry what the merge needs.
  std::optional<DescriptorStream> stream;
  auto shards = [&]() -> const DescriptorStream& {
    if (!stream) {
      std::vector<std::string> files;
      for (size_t i : order) files.push_back(parts[i].npy);
      stream = DescriptorStream::open(files);
      stream->show_progress(options.progress, "training shards");
      if (stream->list_sha256() != run.at("train").at("list_sha256"))
        fail("{}: not the training list the partial scans searched", files[0]);
    }
    return *stream;
  };
  const bool shares = std::all_of(parts.begin(), parts.end(),
                                  [](const PartialScan& p) { return p.carries_shares; });
  ScanPieces pieces;
  const MergedRows rows =
      shares ? rows_of_partials(parts, order, partial_paths) : rows_of_stream(shards());
  // The groups the tasks assigned (every task the same names and generations' groups; the
  // training rows' shard by shard).
  std::optional<ScanGroups> groups;
  if (first.has_groups) {
    ScanGroups g;
    g.names = first.group_names;
    g.generated = first.group_generated;
    for (size_t i : order) {
      const PartialScan& p = parts[i];
      if (!p.has_groups || p.group_names != g.names || p.group_generated != g.generated)
        fail("{}: its groups are not those of {}", partial_paths[i], partial_paths[order[0]]);
      g.train.insert(g.train.end(), p.group_train.begin(), p.group_train.end());
    }
    const nlohmann::json& gr = run.at("groups");
    g.within = gr.at("within").get<bool>();
    // The files as the tasks were given them (the merge does not read them).
    g.generated_file = gr.at("generated_file").get<std::string>();
    g.train_file = gr.at("train_file").get<std::string>();
    groups = std::move(g);
    pieces.groups = &*groups;
  }
  const bool within = groups && groups->within;

  // Pass 1's lists, merged shard by shard in global rows (failed rows are never matches).
  metrics::TopKResult& merged = pieces.found.topk;
  merged.nq = first.topk.nq;
  merged.k = params.k;
  merged.ids.assign(size_t(merged.nq * merged.k), -1);
  merged.scores.assign(merged.ids.size(), -std::numeric_limits<float>::infinity());
  const std::vector<int64_t> sampled =
      within ? within_group_baseline_rows(groups->train, params.baseline_sample, params.seed)
             : baseline_rows(rows.rows, params.baseline_sample, params.seed);
  metrics::TopKResult top2;
  top2.nq = int64_t(sampled.size());
  top2.k = 2;
  top2.ids.assign(size_t(2 * top2.nq), -1);
  top2.scores.assign(top2.ids.size(), -std::numeric_limits<float>::infinity());
  for (size_t i : order) {
    metrics::TopKResult t = parts[i].topk;
    if (t.k != merged.k || t.nq != merged.nq)
      fail("{}: {} x {} matches, but {} has {} x {}", partial_paths[i], t.nq, t.k,
           partial_paths[order[0]], merged.nq, merged.k);
    to_rows(t.ids, rows, partial_paths[i]);
    metrics::merge_topk(merged, t, 0);
    pieces.found.search_seconds += parts[i].seconds;
    if (shares) {
      if (parts[i].baseline_rows != sampled)
        fail("{}: its baseline sample is not the one drawn from the {} training rows",
             partial_paths[i], rows.rows);
      metrics::TopKResult b = parts[i].baseline_top2;
      to_rows(b.ids, rows, partial_paths[i]);
      metrics::merge_topk(top2, b, 0);
    }
  }
  pieces.found.method = "exact";
  pieces.found.params = {{"similarity", split ? "split-product" : "inner-product"}};
  pieces.train_rows = rows.rows;
  pieces.distinct = duplicate_rows(merged, params);
  pieces.duplicates.assign(pieces.distinct.size(), 0);

  // Duplicate counts from the partials' entries where they hold every duplicate (scan/partial.h):
  // a match of generation q scoring s is covered when, in every shard, the rows outside q's
  // entries score below duplicate_need(s): q's floor is at most the need (rows below the floor
  // are left out) and its B-th best row below it (rows outside the B best are left out).
  const bool entries = shares && std::all_of(parts.begin(), parts.end(), [](const PartialScan& p) {
                         return p.has_duplicates;
                       });
  std::map<int64_t, int64_t> top1_of;  // row -> a generation whose top-1 it is (the best scoring)
  for (int64_t q = 0; q < merged.nq; ++q) {
    const int64_t id = merged.ids[size_t(q * merged.k)];
    if (id < 0) continue;
    auto it = top1_of.find(id);
    if (it == top1_of.end() ||
        merged.scores[size_t(q * merged.k)] > merged.scores[size_t(it->second * merged.k)])
      top1_of[id] = q;
  }
  std::vector<int64_t> unresolved, unresolved_at;
  int64_t from_partials = 0;
  for (size_t di = 0; di < pieces.distinct.size(); ++di) {
    const int64_t m = pieces.distinct[di];
    const int64_t q = top1_of.at(m);
    const double need = duplicate_need(merged.scores[size_t(q * merged.k)], params.dup_threshold);
    bool covered = entries;
    for (size_t i = 0; covered && i < parts.size(); ++i)
      covered = need >= parts[i].floor[size_t(q)] && need > parts[i].bound[size_t(q)];
    if (!covered) {
      unresolved.push_back(m);
      unresolved_at.push_back(int64_t(di));
      continue;
    }
    // q's entries of every shard, as one block of rows; the match is among them.
    FloatArray block;
    block.shape = {0};
    block.shape.insert(block.shape.end(), rows.row_shape.begin(), rows.row_shape.end());
    int64_t self = -1;
    for (size_t i : order) {
      const PartialScan& p = parts[i];
      const int64_t row = p.entry_values.row_size();
      for (int64_t id : p.entries[size_t(q)]) {
        const auto at = std::lower_bound(p.entry_rows.begin(), p.entry_rows.end(), id);
        const float* v = p.entry_values.row(at - p.entry_rows.begin());
        if (rows.row_of_list[size_t(id)] == m) self = block.shape[0];
        block.data.insert(block.data.end(), v, v + row);
        ++block.shape[0];
      }
    }
    REPBENCH_ASSERT(self >= 0);
    std::vector<int64_t> count{0};
    add_duplicate_counts(block.row(self), {self}, block, 0, split, params.dup_threshold,
                         options.threads, count);
    pieces.duplicates[di] = count[0];
    ++from_partials;
  }

  // What the partials do not hold: the shard files, one pass for all of it.
  if (!shares || !unresolved.empty()) {
    SecondPass second = stream_baseline_and_duplicates(
        shards(), split, shares ? std::vector<int64_t>{} : sampled, unresolved,
        params.dup_threshold, options);
    if (!shares) pieces.baseline = std::move(second.baseline);
    for (size_t u = 0; u < unresolved.size(); ++u)
      pieces.duplicates[size_t(unresolved_at[u])] = second.duplicates[u];
  }
  if (shares && !sampled.empty()) pieces.baseline = baseline_from_top2(sampled, top2);

  const std::function<const std::string&(int64_t)> train_path =
      [&](int64_t id) -> const std::string& { return rows.names[size_t(rows.list_of_row[size_t(id)])]; };
  nlohmann::json body = record_body(pieces, first.generated_paths, train_path, split, params);
  const DescriptorStream::Stats st = stream ? stream->stats() : DescriptorStream::Stats{};
  body["stream"] = {{"block_rows", options.rows_per_block()},
                    {"blocks", st.blocks},
                    {"peak_rows", st.peak_rows},
                    {"peak_bytes", st.peak_bytes},
                    {"passes", st.blocks > 0 ? 1 : 0},
                    {"partials", int64_t(parts.size())},
                    {"partial_bytes", partial_bytes},
                    {"shards_read", stream.has_value()},
                    {"duplicates_from_partials", from_partials},
                    {"duplicates_from_shards", int64_t(unresolved.size())}};
  Side gen;
  gen.source = run.at("generated").at("source").get<std::string>();
  gen.listed = run.at("generated").at("listed").get<int64_t>();
  gen.failed = first.generated_failed;
  if (run.contains("decoding")) gen.provenance["decoding"] = run["decoding"];
  Side train;
  train.source = rows.source;
  train.listed = rows.listed;
  train.failed = rows.failed;
  train.shards = first.count;
  train.features.shape = {rows.rows};
  train.features.shape.insert(train.features.shape.end(), rows.row_shape.begin(),
                              rows.row_shape.end());
  return write_scan(out, run.at("model").get<std::string>(), gen, train, std::move(body),
                    first.generated_paths, train_path, merged, t0);
}

}  // namespace repbench::scan
