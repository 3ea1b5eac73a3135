// repbench scan: the replication scan of a generator's outputs against its training set.
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "app/commands.h"
#include "core/commit_group.h"
#include "app/output_cleanup.h"
#include "core/error.h"
#include "core/path_guard.h"
#include "report/scan_report.h"
#include "scan/scan.h"
#include "scan/stream_scan.h"

namespace fs = std::filesystem;

namespace repbench::app {

namespace {

struct ScanArgs {
  scan::ScanOptions o;
  std::vector<std::string> thresholds;
  std::string index = "auto";
  std::string precision = "auto";
  bool quiet = false;
};

// The summary lines, then the report (drawing only: the record is complete and on disk).
void print_and_render(const nlohmann::json& rec, const fs::path& out, CommitGroup& outputs) {
  fmt::print("scanned {} generated images against {} training images with {} ({}, {} search",
             rec["generated"]["count"].get<int64_t>(), rec["train"]["count"].get<int64_t>(),
             rec["model"].get<std::string>(), rec["similarity"].get<std::string>(),
             rec["search"]["method"].get<std::string>());
  if (!rec["search"]["recall_at_1"].is_null())
    fmt::print(", recall@1 {:.3f} on {} sampled generations",
               rec["search"]["recall_at_1"].get<double>(),
               rec["search"]["recall_sample"].get<int64_t>());
  fmt::print(")\n");
  if (rec["search"].contains("precision")) print_precision(rec["search"]["precision"]);
  for (const auto& a_ : rec["above"])
    fmt::print("  top-1 > {}: {} of {} generations ({:.2f}%); training baseline {:.2f}%\n",
               a_["threshold"].get<double>(), a_["generations"].get<int64_t>(),
               rec["generated"]["count"].get<int64_t>(), 100 * a_["fraction"].get<double>(),
               100 * a_["baseline_fraction"].get<double>());
  if (rec.contains("groups"))
    fmt::print("  {} groups{}: per-group shares in scan.json and report.html\n",
               rec["groups"]["count"].get<int64_t>(),
               rec["groups"]["within_group"].get<bool>() ? " (searched within each group)" : "");
  for (const char* side : {"generated", "train"}) {
    const auto& skipped = rec[side]["skipped"];
    for (size_t i = 0; i < skipped.size() && i < 10; ++i)
      fmt::print("  skipped {}: {}\n", skipped[i]["path"].get<std::string>(),
                 skipped[i]["error"].get<std::string>());
    if (skipped.size() > 10) fmt::print("  ... and {} more (see scan.json)\n", skipped.size() - 10);
  }
  for (const auto& note : rec["notes"]) fmt::print("note: {}\n", note.get<std::string>());
  // Drawing only: the record is complete and on disk before the renderer runs.
  report::write_scan_report(rec, out);
  outputs.commit();
  fmt::print("{}: scan.json, matches.csv, plots/, report.html\n", out.string());
}

// The scan's outputs under `out`.
PathGuard& guard_scan_outputs(PathGuard& guard, const std::string& out) {
  return guard.writes_into("--out", out,
                           {"cache", "matches.csv", "scan.json", "plots", "report.html"});
}

void run_scan_command(ScanArgs& a) {
  a.o.progress = a.quiet ? ProgressMode::kOff : ProgressMode::kAuto;
  PathGuard guard;  // no output replaces an input (core/path_guard.h), before any work
  guard.reads_listing("--generated", a.o.generated)
      .reads_listing("--train", a.o.train)
      .reads("--generated-descriptors", a.o.generated_descriptors)
      .reads("--generated-list", a.o.generated_list)
      .reads("--train-list", a.o.train_list)
      .reads("--generated-groups", a.o.generated_groups)
      .reads("--train-groups", a.o.train_groups)
      .reads("--postprocess-train", a.o.postprocess.train_file);
  for (const std::string& t : a.o.train_descriptors) guard.reads("--train-descriptors", t);
  if (a.o.partial.empty())
    guard_scan_outputs(guard, a.o.out);
  else
    guard.writes("--partial", a.o.partial);
  guard.check();
  a.o.params.thresholds = scan::parse_thresholds(a.thresholds.empty()
                                                     ? std::vector<std::string>{"0.5"}
                                                     : a.thresholds);
  a.o.params.index.kind = scan::parse_index_kind(a.index);
  if (a.o.params.index.kind == scan::IndexKind::kFactory) a.o.params.index.factory = a.index;
  a.o.params.index.threads = a.o.extractor.threads;
  a.o.params.index.seed = a.o.params.seed;
  a.o.params.index.precision = metrics::parse_precision(a.precision);
  // matches.csv, scan.json, plots/ and report.html become visible together, once the report is
  // drawn (core/commit_group.h); the descriptor cache commits its entries on its own.
  CommitGroup outputs;
  const nlohmann::json rec = scan::run_scan(a.o);
  if (!a.o.partial.empty()) {
    fmt::print("{}: shard {}/{}: {} generations against {} training images ({:.1f} s); merge "
               "with `repbench scan merge`\n",
               a.o.partial, rec["shard"].get<int64_t>(), rec["shards"].get<int64_t>(),
               rec["generated"].get<int64_t>(), rec["train"].get<int64_t>(),
               rec["seconds"].get<double>());
    outputs.commit();
    return;
  }
  print_and_render(rec, a.o.out, outputs);
}

}  // namespace

void add_scan_command(CLI::App& app) {
  auto a = std::make_shared<ScanArgs>();
  CLI::App* cmd = app.add_subcommand(
      "scan", "Find the training images a generator copied: top matches of every generation, "
              "the training self-similarity baseline, shares above thresholds, duplicates.");
  cmd->add_option("--generated,-g", a->o.generated,
                  "Generated images: a folder (recursive, natural order) or a list file (one path "
                  "a line, relative to the list's folder)");
  cmd->add_option("--generated-descriptors", a->o.generated_descriptors,
                  "Instead of --generated: a descriptor .npy (of `repbench extract`, or plain "
                  "numpy float32/float16, rows named by index)");
  cmd->add_option("--generated-list", a->o.generated_list,
                  "Names of --generated-descriptors' rows (plain .npy): one path a line");
  cmd->add_option("--train,-t", a->o.train, "Training images: a folder or a list file");
  cmd->add_option("--train-descriptors", a->o.train_descriptors,
                  "Instead of --train: the N shard files of `repbench extract --shard I/N` (any "
                  "order), one merged file, or plain numpy .npy files (concatenated in order)")
      ->expected(1, -1);
  cmd->add_option("--train-list", a->o.train_list,
                  "Names of --train-descriptors' rows (plain .npy): one path a line");
  cmd->add_option("--block-rows", a->o.block_rows,
                  "Training rows read from disk per block by an exact scan of descriptors")
      ->capture_default_str();
  cmd->add_option("--sketch-dims", a->o.sketch_dims,
                  "Exact scan of descriptors: duplicate counts from a sketch of this many "
                  "dimensions written in the first pass (0: a second pass over the files)")
      ->capture_default_str();
  cmd->add_option("--model,-m", a->o.model,
                  "Extractor spec (see `repbench models list`); optional with descriptors on both "
                  "sides");
  cmd->add_option("--k", a->o.params.k, "Matches per generation")->capture_default_str();
  cmd->add_option("--threshold", a->thresholds,
                  "Similarity threshold in [-1, 1]; repeatable or comma-separated (default 0.5, "
                  "the paper's for SSCD)");
  cmd->add_option("--dup-threshold", a->o.params.dup_threshold,
                  "Training images above this similarity to a match count as its duplicates")
      ->capture_default_str();
  cmd->add_option("--duplicate-sample", a->o.params.duplicate_sample,
                  "Duplicates are counted for the top-1 match of every generation above the "
                  "lowest threshold and of this many others, sampled (-1: all)")
      ->capture_default_str();
  cmd->add_option("--baseline-sample", a->o.params.baseline_sample,
                  "Training images in the self-similarity baseline")
      ->capture_default_str();
  cmd->add_option("--index", a->index,
                  "auto (exact up to 100k training images, HNSW up to 500k, IVF-Flat beyond), "
                  "exact, ivf, hnsw, or a FAISS index_factory string ('IVF4096,Flat', "
                  "'IVF16384,PQ64', 'HNSW32', ...)")
      ->capture_default_str();
  add_precision_option(cmd, a->precision);
  cmd->add_option("--index-train-sample", a->o.params.index.train_sample,
                  "Rows an approximate index is trained on, a seeded sample (0: the index's "
                  "need: ivf 16 a list, a factory IVF max(40 a list, 65536), PQ/OPQ 65536)")
      ->capture_default_str();
  cmd->add_option("--recall-sample", a->o.params.index.recall_sample,
                  "Generations checked against exact search (approximate index)")
      ->capture_default_str();
  cmd->add_option("--seed", a->o.params.seed, "Seed of the baseline and recall samples")
      ->capture_default_str();
  add_device_options(cmd, a->o.extractor.device, a->o.extractor.threads,
                     "Threads of LibTorch and of the search (0 = all cores)");
  cmd->add_option("--batch-size", a->o.batch_size, "Images per forward pass")
      ->capture_default_str();
  add_fast_decode_option(cmd, a->o.load.reduced_decoding);
  cmd->add_option("--out,-o", a->o.out, "Output folder (cache/, matches.csv, scan.json, report)");
  add_postprocess_options(cmd, a->o.postprocess.chain, a->o.postprocess.train_file,
                          a->o.postprocess.cache_dir);
  cmd->add_option("--generated-groups", a->o.generated_groups,
                  "CSV 'path,group' naming the group (e.g. ImageNet class) of every generation: "
                  "per-group shares above each threshold in scan.json and the report");
  cmd->add_option("--train-groups", a->o.train_groups,
                  "CSV 'path,group' naming the group of every training image (per-group "
                  "baseline shares)");
  cmd->add_flag("--within-group", a->o.within_group,
                "Search each generation only among the training images of its group, and the "
                "baseline within each sampled image's group (needs both groups files; exact)");
  cmd->add_option("--partial", a->o.partial,
                  "A job array's task: scan the one training shard of --train-descriptors and "
                  "write this partial file (merge with `repbench scan merge`)");
  cmd->add_flag("--quiet", a->quiet,
                "No progress on stderr (extraction, and the passes over training descriptors: a "
                "line per group of blocks with rows/s and the time left)");
  cmd->footer(
      "Descriptors are cached under OUT/cache (a killed scan resumes). Unreadable images are\n"
      "named, skipped and counted. scan.json is written last; it marks a finished scan.\n"
      "Examples:\n"
      "  repbench scan -g samples/ -t train/ -m torchscript:weights/sscd_disc_mixup.pt --out scan\n"
      "  repbench scan -g samples.txt --train-descriptors feats/train.shard-*-of-8.npy \\\n"
      "      -m torchscript:weights/sscd_disc_mixup.pt --threshold 0.5,0.6 --out scan\n"
      "  repbench scan --generated-descriptors gen.npy --train-descriptors laion-*.npy \\\n"
      "      --index exact --out scan\n"
      "  repbench scan -g samples.txt -t train.txt -m MODEL --generated-groups gen.csv \\\n"
      "      --train-groups train.csv --within-group --out scan");

  // `scan merge`: the step after a job array of `scan --partial`.
  auto partials = std::make_shared<std::vector<std::string>>();
  auto merge_out = std::make_shared<std::string>();
  auto merge_opt = std::make_shared<scan::StreamOptions>();
  CLI::App* merge = cmd->add_subcommand(
      "merge", "Merge the partial scans of a job array into one scan's outputs.");
  merge->add_option("partials", *partials, "The partial files of `scan --partial`, any order")
      ->required();
  merge->add_option("--out,-o", *merge_out, "Output folder (matches.csv, scan.json, report)")
      ->required();
  merge->add_option("--block-rows", merge_opt->block_rows,
                    "Training rows read per block by the second pass")
      ->capture_default_str();
  merge->add_option("--threads", merge_opt->threads, "Search threads (0 = all cores)")
      ->capture_default_str();
  auto merge_quiet = std::make_shared<bool>(false);
  merge->add_flag("--quiet", *merge_quiet,
                  "No progress on stderr (the pass over the shards: a line per group of blocks "
                  "with rows/s and the time left)");
  merge->footer(
      "Checks that the partials are one scan's and cover each training shard once, merges their\n"
      "matches, then reads every shard once more for the self-similarity baseline and the\n"
      "duplicate counts. The outputs are those of one scan over all shards.\n"
      "Example:\n"
      "  repbench scan merge parts/part-*.json --out scan");
  // Bad input writes nothing: an output folder the run made (with its descriptor cache) goes.
  merge->callback([partials, merge_out, merge_opt, merge_quiet] {
    merge_opt->progress = *merge_quiet ? ProgressMode::kOff : ProgressMode::kAuto;
    PathGuard guard;
    for (const std::string& p : *partials) guard.reads("partial", p);
    guard_scan_outputs(guard, *merge_out).check();
    remove_new_output_on_error(*merge_out, [&] {
      CommitGroup outputs;
      print_and_render(scan::run_merge(*partials, *merge_out, *merge_opt), *merge_out, outputs);
    });
  });
  cmd->callback([a, merge] {
    if (merge->parsed()) return;
    remove_new_output_on_error(a->o.out, [&] { run_scan_command(*a); });
  });
}

}  // namespace repbench::app
