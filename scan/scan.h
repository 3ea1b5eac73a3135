// The replication scan (Somepalli et al., CVPR 2023, Sections 5-6): for every generated image,
// its top-k matches in a training set; the training set's self-similarity baseline (sampled
// training images against their nearest OTHER training image); the share of generations above
// each threshold; and how often each generation's top match is duplicated in the training set.
//
// run_scan() does all of it from image folders or lists (descriptors through the feature cache
// under OUT/cache, so a killed scan resumes), writes OUT/matches.csv and then OUT/scan.json (last,
// atomically: it marks the scan complete) and returns the record. Rendering (plots, report.html)
// is report/scan_report.h's, from the record alone. scan_descriptors() is the same scan over
// descriptors already in memory (for experiments that make their own); the pieces below it are
// public for callers that need only one.
//
// Scores are similarities of L2-normalised descriptors: cosine, or split-product for models with
// token outputs. Generations and training images that cannot be read are named, skipped and
// counted in the record; none of their rows take part.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "core/progress.h"
#include "metrics/topk.h"
#include "models/image_loader.h"
#include "models/registry.h"
#include "postprocess/postprocess.h"
#include "scan/index.h"

namespace repbench::scan {

struct ScanGroups;  // scan/groups.h

// What a scan computes, independent of where the descriptors come from.
struct ScanParams {
  int64_t k = 5;                          // matches per generation
  std::vector<double> thresholds{0.5};    // "above" counts: score > threshold, each in [-1, 1]
  double dup_threshold = 0.95;            // a training image duplicates another when score > this
  int64_t baseline_sample = 1000;         // training images in the self-similarity baseline
  int64_t duplicate_cap = 100;            // approximate index: neighbours examined per match
  // Whose top-1 match gets a duplicate count (duplicate_rows): every generation above the lowest
  // threshold, plus a seeded sample of this many of the others (the paper's Fig. 9 used 1,000
  // random matches); -1 = every generation. Each count is a pass over the whole training set's
  // rows, so at LAION scale counting all 10,000 matches would double the scan.
  int64_t duplicate_sample = 1000;
  IndexOptions index;                     // exact / IVF / HNSW choice and tuning
  uint64_t seed = 0;                      // baseline and recall samples

  void Check() const;  // throws Error: k < 1, a threshold outside [-1, 1], ...
};

struct ScanOptions {
  std::string generated;  // folder or list file of generated images (unless generated_descriptors)
  std::string train;      // folder or list file of training images (unless train_descriptors)
  // Precomputed descriptors instead of images (scan/descriptor_stream.h): shard files of
  // `repbench extract --shard` (all N, any order) or one merged/unsharded file, each X.npy with
  // X.shard.json; or plain numpy .npy files (float32/float16), rows named by index or by the
  // optional list file (one name a line). Training descriptors searched exactly are streamed from
  // disk in blocks of `block_rows`; the generations are held in memory.
  std::string generated_descriptors, generated_list;
  std::vector<std::string> train_descriptors;
  std::string train_list;
  int64_t block_rows = 65536;
  // Dimensions of the sketch an exact scan of descriptors counts duplicates from (StreamOptions,
  // scan/duplicate_sketch.h); 0 = a second pass over the files.
  int64_t sketch_dims = 64;
  // A job array's task (scan/partial.h): search one training shard (train_descriptors holds one
  // shard file), write the partial file `partial` instead of the scan's outputs.
  std::string partial;
  // Groups files (scan/groups.h): "path,group" CSV naming every generated / training row's group
  // (e.g. its ImageNet class); the record then holds per-group shares above each threshold.
  // `within_group` (needs both): each generation is searched only among the training images of
  // its group, and the baseline within each sampled image's group (exact search only; not with
  // `partial`).
  std::string generated_groups, train_groups;
  bool within_group = false;
  std::string model;  // extractor spec (models/registry.h); optional with descriptors on both sides
  models::ExtractorOptions extractor;  // device, threads
  int batch_size = 32;
  models::LoadOptions load;          // decoding (full by default; models/image_loader.h)
  std::string out;                   // output folder
  // Descriptor post-processing of both sides (postprocess/postprocess.h); its cache folder
  // defaults to OUT/cache/postprocess. The training rows are then held in memory.
  postprocess::Spec postprocess;
  ScanParams params;
  ProgressMode progress = ProgressMode::kAuto;

  void Check() const;
};

// Everything except rendering (see above). Throws Error on bad input before anything is written
// under OUT other than the descriptor cache. The record (scan.json) is the envelope of
// records/record_envelope.h (schema kScanSchema, context, timings: build_seconds, tune_seconds,
// search_seconds of the search, total_seconds of the run) with kind "replication-scan", model,
// decoding, generated, train and the fields scan_descriptors() lists.
nlohmann::json run_scan(const ScanOptions& options);

// Merges the partial scans of a job array (scan/partial.h) into OUT: the same matches.csv and
// scan.json as one scan over all shards (global training indices; the second pass, baseline and
// duplicate counts, is run here over every shard). Returns the record.
struct StreamOptions;
nlohmann::json run_merge(const std::vector<std::string>& partials, const std::string& out,
                         const StreamOptions& options);

// The scan over descriptors in memory: `generated` [ng, ...] and `train` [nt, ...], L2-normalised
// (split-product: the flattened token vectors), rows matching the path lists. Returns the
// record's "k", "thresholds", "dup_threshold", "similarity", "search", "generations_top1",
// "baseline", "above", "pairs", "duplicates", "identical_sets", "notes" and "timings" (the
// search's build, tune and search seconds); the caller adds model, sources and counts. `matches` (optional) receives the top-k of every generation.
// `groups` (optional, rows as `generated` and `train`): adds "groups"; when groups->within, the
// search and the baseline stay within groups (exact search whatever params.index asks).
nlohmann::json scan_descriptors(const FloatArray& generated,
                                const std::vector<std::string>& generated_paths,
                                const FloatArray& train, const std::vector<std::string>& train_paths,
                                bool split_product, const ScanParams& params,
                                metrics::TopKResult* matches = nullptr,
                                const ScanGroups* groups = nullptr);

// --- pieces ---------------------------------------------------------------------------------

struct Baseline {
  std::vector<int64_t> rows;     // sampled training rows, ascending
  std::vector<float> top1;       // similarity to the nearest other training image
  std::vector<int64_t> nearest;  // that image's row (-1 when the set has one image)
};

// Each of min(sample, n) training rows (all when sample >= n, else a seeded sample) against its
// nearest other training row, searched with `index` (built over `train`).
Baseline self_similarity_baseline(const TrainIndex& index, const FloatArray& train,
                                  int64_t sample, uint64_t seed);
// Its two steps: the sampled rows (ascending; none when n < 2), and the baseline from their
// top-2 neighbours in the whole training set.
std::vector<int64_t> baseline_rows(int64_t n, int64_t sample, uint64_t seed);
Baseline baseline_from_top2(std::vector<int64_t> rows, const metrics::TopKResult& top2);

// For each of `rows`, how many OTHER training rows score > threshold against it. Exact (blocked
// over the whole set) when `index` is exact; otherwise among the `cap` nearest neighbours the
// index returns (a count of `cap` means "at least cap").
std::vector<int64_t> count_duplicates(const FloatArray& train, bool split_product,
                                      const std::vector<int64_t>& rows, double threshold,
                                      const TrainIndex& index, int64_t cap, int threads);

// count_duplicates with an approximate index: `queries` holds the vectors of `rows` (row-major,
// L2-normalised) of a training set of n rows; counted among the min(cap + 1, n) neighbours the
// index returns, capped at `cap`.
std::vector<int64_t> count_index_duplicates(const float* queries, const std::vector<int64_t>& rows,
                                            int64_t n, double threshold, const TrainIndex& index,
                                            int64_t cap);

// The exact kernel of count_duplicates over one slice of the training set: adds to counts[i] the
// rows of `block` (training rows first_row, first_row + 1, ...) that score > threshold against
// query row i (row-major, the block's row layout) and are not training row self[i].
void add_duplicate_counts(const float* queries, const std::vector<int64_t>& self,
                          const FloatArray& block, int64_t first_row, bool split_product,
                          double threshold, int threads, std::vector<int64_t>& counts);

struct AboveThreshold {
  double threshold = 0;
  int64_t generations = 0;  // generations with top-1 > threshold
  double fraction = 0;      // of all generations
  int64_t baseline = 0;     // baseline samples with top-1 > threshold
  double baseline_fraction = 0;
};
std::vector<AboveThreshold> count_above(const std::vector<float>& generations_top1,
                                        const std::vector<float>& baseline_top1,
                                        const std::vector<double>& thresholds);

// matches.csv: header "generated,rank,train,score", one line per generation and rank 1..k (ranks
// with no match are left out); fields with a comma, quote or newline are quoted RFC 4180 style.
void write_matches_csv(const std::string& path, const std::vector<std::string>& generated_paths,
                       const std::vector<std::string>& train_paths, const metrics::TopKResult& m);
void write_matches_csv(const std::string& path, const std::vector<std::string>& generated_paths,
                       const std::function<const std::string&(int64_t)>& train_path,
                       const metrics::TopKResult& m);

// What a scan found, before it becomes a record (the in-memory, streamed and merged scans all
// assemble their record from these).
struct ScanPieces {
  SearchOutcome found;             // top-k of every generation and how it was searched
  int64_t train_rows = 0;          // training rows searched
  Baseline baseline;
  std::vector<int64_t> distinct;   // distinct top-1 training rows counted (duplicate_rows)
  std::vector<int64_t> duplicates; // their duplicate counts
  bool exact_duplicates = true;    // counted over the whole set (else among index neighbours)
  const ScanGroups* groups = nullptr;  // adds the record's "groups" (scan/groups.h)
};
// The record's scan fields (as scan_descriptors returns them); train_path(id) names a row.
nlohmann::json record_body(const ScanPieces& pieces,
                           const std::vector<std::string>& generated_paths,
                           const std::function<const std::string&(int64_t)>& train_path,
                           bool split_product, const ScanParams& params);
// Ascending distinct top-1 ids whose duplicates are counted (ScanParams::duplicate_sample): those
// of every generation with top-1 above the lowest threshold and of a seeded sample of the rest.
std::vector<int64_t> duplicate_rows(const metrics::TopKResult& topk, const ScanParams& params);
// One line naming the problem: no rows on a side, or row sizes that differ.
void check_scan_inputs(int64_t generated_rows, int64_t generated_row_size, int64_t train_rows,
                       int64_t train_row_size);

// "0.5,0.7" or repeated flags -> thresholds; throws Error quoting a bad value.
std::vector<double> parse_thresholds(const std::vector<std::string>& texts);

}  // namespace repbench::scan
