// The replication scan (Somepalli et al., CVPR 2023, Sections 5-6): for every generated image,
// its top-k matches in a training set; the training set's self-similarity baseline (sampled
// training images against their nearest OTHER training image); the share of generations above
// each threshold; and how often each generation's top match is duplicated in the training set.
//
// run_scan() does all of it from image folders or lists (descriptors through the feature cache
// under OUT/cache, so a killed scan resumes), writes OUT/matches.csv and then OUT/scan.json (last,
// atomically: it marks the scan complete) and returns the record. Rendering (plots, report.html)
// is report/scan_report.h's, from the record alone. scan_descriptors() is the same scan over
// descriptors already in memory (for experiments that make their own). The pieces every scan
// assembles its record from are their own files (scan/baseline.h, scan/duplicates.h,
// scan/matches_csv.h, scan/impl/scan_record.h); what a scan computes is scan/scan_params.h.
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
#include "scan/scan_params.h"

namespace repbench::scan {

struct ScanGroups;  // scan/groups.h

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

}  // namespace repbench::scan
