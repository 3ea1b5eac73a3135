// repbench extract: descriptors of a set's images (or a folder's) through the feature cache.
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/output_cleanup.h"
#include "core/atomic_file.h"
#include "core/commit_group.h"
#include "core/error.h"
#include "core/natural_sort.h"
#include "core/npy.h"
#include "core/path_guard.h"
#include "imaging/folder_listing.h"
#include "imaging/image_list.h"
#include "datasets/set_registry.h"
#include "descriptors/shards.h"
#include "models/feature_cache.h"
#include "models/registry.h"
#include "models/set_images.h"

namespace fs = std::filesystem;

namespace repbench::app {

namespace {

struct ExtractArgs {
  std::string model, set, root, gnd, protocol, images, out, device = "cpu",
                                                             on_decode_error = "fail", preprocess,
                                                             shard, dtype = "float32",
                                                             precision = "fp32";
  int batch_size = 32, threads = 0;
  int64_t chunk_size = 1024;
  bool no_query_crop = false, fast_decode = false;
};

void print_extraction(const std::string& path, const std::vector<int64_t>& shape,
                      const models::CachedExtraction& c) {
  fmt::print("{}: [{}] {}{}\n", path, fmt::join(shape, ", "),
             c.cache_hit ? "(from the cache)"
                         : fmt::format("({} images extracted, {} chunks reused)",
                                       c.images_extracted, c.chunks_reused),
             c.failed.empty() ? "" : fmt::format("; {} images failed to decode", c.failed.size()));
  for (size_t i = 0; i < c.failed.size() && i < 10; ++i)
    fmt::print("  {}: {}\n", c.failed[i].path, c.failed[i].reason);
  if (c.images_extracted > 0) fmt::print("  time: {}\n", c.stats.summary());
}

// The feature cache stores float32; --dtype float16 rewrites the finished file as half floats
// (half the disk and read traffic of a scan, which reads both). A float16 file is removed before a
// float32 run, which would otherwise reuse its rounded values.
// An unreadable file (truncated, corrupt) is left to the cache, which computes it again.
void before_extraction(const std::string& npy, NpyDType dtype) {
  std::error_code ec;
  try {
    if (dtype == NpyDType::kFloat32 && fs::exists(npy, ec) &&
        read_npy_header(npy).dtype == NpyDType::kFloat16)
      fs::remove(npy, ec);
  } catch (const Error&) {
  }
}
void after_extraction(const std::string& npy, const FloatArray& features, NpyDType dtype) {
  if (dtype == NpyDType::kFloat16 && read_npy_header(npy).dtype != NpyDType::kFloat16)
    models::rewrite_as_float16(npy, features);
}

// The files extract writes for one output NAME under --out: NAME.npy, its sidecar, its shard file
// and the cache's partial folder.
void guard_output(PathGuard& guard, const std::string& out, const std::string& name) {
  guard.writes_into("--out", out,
                    {name + ".npy", name + ".json", name + ".shard.json", name + ".npy.partial"});
}

void extract_into_out(const ExtractArgs& a) {
  if (a.model.empty()) fail("give --model SPEC");
  if (a.out.empty()) fail("give --out DIR");
  if (a.set.empty() == a.images.empty()) fail("give either --set NAME or --images DIR_OR_LIST");
  if (!a.shard.empty() && a.images.empty()) fail("--shard I/N needs --images DIR_OR_LIST");
  PathGuard guard;  // no output replaces an input (core/path_guard.h), before any work
  guard.reads("--model", models::spec_model_file(a.model))
      .reads_listing("--images", a.images)
      .reads("--set", fs::exists(a.set) ? a.set : "")
      .reads("--gnd", a.gnd)
      .reads("--root", a.root);
  // With --images: one output NAME, the whole list's or, with --shard, one slice's.
  const descriptors::ShardSpec shard =
      a.shard.empty() ? descriptors::ShardSpec{} : descriptors::parse_shard(a.shard);
  const std::string name = a.shard.empty()
                               ? "images"
                               : fmt::format("images.shard-{}-of-{}", shard.index, shard.count);
  if (!a.images.empty()) {
    guard_output(guard, a.out, name);
    if (a.shard.empty()) guard.writes("--out", (fs::path(a.out) / "images.txt").string());
  }
  std::optional<datasets::RetrievalSet> set;
  if (!a.set.empty()) {
    set = datasets::load_set({a.set, a.protocol, a.root, a.gnd});
    if (a.no_query_crop) set->crop_queries = false;
    guard.reads("the ground truth", set->source);
    guard_output(guard, a.out, set->name + ".db");
    guard_output(guard, a.out, set->name + ".queries");
  }
  guard.check();
  models::ExtractorOptions eopt;
  eopt.device = a.device;
  eopt.threads = a.threads;
  eopt.precision = a.precision;
  if (!a.preprocess.empty()) {
    try {
      eopt.preprocess = nlohmann::json::parse(a.preprocess);
    } catch (const nlohmann::json::exception& e) {
      fail("--preprocess is not JSON: {}", e.what());
    }
  }
  eopt.Check();
  auto ex = models::create_extractor(a.model, eopt);
  models::PipelineOptions popt;
  popt.batch_size = a.batch_size;
  popt.load.reduced_decoding = a.fast_decode;
  if (a.on_decode_error == "skip") {
    popt.on_decode_error = models::DecodeErrorPolicy::kSkip;
  } else if (a.on_decode_error != "fail") {
    fail("--on-decode-error '{}' is not fail or skip", a.on_decode_error);
  }
  models::CacheOptions copt;
  copt.chunk_size = a.chunk_size;
  copt.Check();
  if (a.dtype != "float32" && a.dtype != "float16")
    fail("--dtype '{}' is not float32 or float16", a.dtype);
  const NpyDType dtype = a.dtype == "float16" ? NpyDType::kFloat16 : NpyDType::kFloat32;

  auto extract = [&](const std::vector<models::ImageItem>& items, const std::string& name) {
    popt.label = fmt::format("{} {}", ex->name(), name);
    const std::string path = (fs::path(a.out) / (name + ".npy")).string();
    before_extraction(path, dtype);
    models::CachedExtraction c = models::extract_cached(*ex, items, path, popt, copt);
    after_extraction(path, c.features, dtype);
    print_extraction(path, c.features.shape, c);
  };

  fmt::print("model {} ({}), output {} x {}{}\n", ex->name(), ex->spec(), ex->tokens(), ex->dim(),
             ex->info().graph.empty()
                 ? std::string()
                 : fmt::format(", {} graph, {}", ex->info().graph, ex->info().precision));
  if (!a.images.empty()) {
    // A folder or a list; with --shard, one contiguous slice of it (a job array's task), written
    // with a shard file that `repbench extract merge` and `repbench scan --train-descriptors`
    // check (descriptors/shards.h).
    const imaging::ImageList src = imaging::read_image_list(a.images);
    popt.label = fmt::format("{} {}", ex->name(), name);
    const std::string path = (fs::path(a.out) / (name + ".npy")).string();
    models::CachedExtraction c;
    before_extraction(path, dtype);
    // The descriptors and their sidecar are a cache entry, committed together by the cache; the
    // shard file and images.txt follow together, once they are complete (core/commit_group.h).
    CommitGroup outputs;
    const descriptors::ShardedDescriptors d =
        descriptors::extract_shard(*ex, src.source, src.paths, shard, path, popt, copt, &c);
    after_extraction(path, d.features, dtype);
    if (a.shard.empty()) {
      std::string list;
      for (const auto& p : src.paths)
        list += (src.is_list ? p : fs::relative(p, a.images).string()) + "\n";
      write_file_atomic((fs::path(a.out) / "images.txt").string(), list);
    }
    outputs.commit();
    print_extraction(path, d.features.shape, c);
    if (shard.count > 1)
      fmt::print("shard {}/{}: images [{}, {}) of {}\n", d.index, d.count, d.begin, d.end, d.total);
    return;
  }
  extract(models::database_items(*set), set->name + ".db");
  extract(models::query_items(*set), set->name + ".queries");
}

// Bad input writes nothing: the folder goes again if this run made it (its image list, and the
// partial cache of an extraction that met an undecodable image).
void run_extract(const ExtractArgs& a) {
  remove_new_output_on_error(a.out, [&] { extract_into_out(a); });
}

}  // namespace

void add_extract_command(CLI::App& app) {
  auto a = std::make_shared<ExtractArgs>();
  CLI::App* cmd = app.add_subcommand(
      "extract", "Compute descriptors of a set's images or a folder's, through the feature cache.");
  cmd->add_option("--model,-m", a->model, "Extractor spec (see `repbench models list`)");
  cmd->add_option("--set", a->set, "Set name or gnd.json: writes SET.db.npy and SET.queries.npy");
  cmd->add_option("--root", a->root, "Dataset folder");
  cmd->add_option("--gnd", a->gnd, "Annotation file");
  cmd->add_option("--protocol", a->protocol, "Protocol (image lists are the same for all)");
  cmd->add_flag("--no-query-crop", a->no_query_crop,
                "Do not crop queries to their box (the paper's lineage)");
  cmd->add_option("--images", a->images,
                  "A folder (every image under it, natural order) or a list file (one path a "
                  "line) -> images.npy + images.txt");
  cmd->add_option("--shard", a->shard,
                  "With --images: only slice I of N (0-based, contiguous) -> "
                  "images.shard-I-of-N.npy; merge with `repbench extract merge`");
  cmd->add_option("--out,-o", a->out, "Output folder");
  cmd->add_option("--batch-size", a->batch_size, "Images per forward pass")->capture_default_str();
  add_device_options(cmd, a->device, a->threads);
  cmd->add_option("--on-decode-error", a->on_decode_error,
                  "fail, or skip (the row is zero and the image is listed in the sidecar)")
      ->capture_default_str();
  cmd->add_option("--preprocess", a->preprocess,
                  "Override the model's preprocessing, as JSON, e.g. '{\"size\": 288, \"crop\": 0}'");
  cmd->add_option("--chunk-size", a->chunk_size, "Images per resumable chunk")->capture_default_str();
  cmd->add_option("--dtype", a->dtype,
                  "float32, or float16 (half-size files; `scan` reads both)")
      ->capture_default_str();
  add_fast_decode_option(cmd, a->fast_decode);
  cmd->add_option("--precision", a->precision,
                  "fp32, or bf16: TorchScript models under LibTorch's CPU autocast to bf16 (CPUs "
                  "with AVX512_BF16 or AMX; recorded in the cache key and the sidecar)")
      ->capture_default_str();
  cmd->footer(
      "Descriptors are .npy float32 or float16 [n, dim] (or [n, tokens, dim]) with a JSON sidecar\n"
      "naming the extractor, the model's sha256, the preprocessing, the decoding and the image list;\n"
      "a rerun with the same inputs reuses them, a changed input recomputes, an interrupted run resumes.\n"
      "Examples:\n"
      "  repbench extract -m builtin:colorhist --set roxford5k --root data/roxford5k --out feats\n"
      "  repbench extract -m torchscript:weights/sscd.pt --images generated/ --out feats\n"
      "  repbench extract -m builtin:dct --images train.txt --shard $TASK/8 --out feats\n"
      "  repbench extract merge feats/images.shard-*-of-8.npy --out feats/train.npy");

  // `extract merge`: the one step after a job array of `extract --shard I/N`.
  auto files = std::make_shared<std::vector<std::string>>();
  auto merged = std::make_shared<std::string>();
  CLI::App* merge = cmd->add_subcommand(
      "merge", "Concatenate the N shard files of `extract --shard I/N` into one descriptor file.");
  merge->add_option("shards", *files, "The shard .npy files (each with its .shard.json), any order")
      ->required();
  merge->add_option("--out,-o", *merged, "Merged .npy (its .shard.json is written beside it)")
      ->required();
  merge->footer(
      "Checks that the shards come from one image list and one model and tile the list exactly\n"
      "(each of 0..N-1 once); the result is byte-identical to an unsharded extraction.\n"
      "Example:\n"
      "  repbench extract merge feats/images.shard-*-of-8.npy --out feats/train.npy");
  merge->callback([files, merged] {
    PathGuard guard;
    for (const std::string& f : *files)
      guard.reads("shard", f).reads("shard", descriptors::shard_info_path(f));
    guard.writes("--out", *merged).writes("--out", descriptors::shard_info_path(*merged)).check();
    CommitGroup outputs;  // the merged file and its shard file together
    const descriptors::ShardedDescriptors d = descriptors::merge_shard_files(*files, *merged);
    outputs.commit();
    fmt::print("{}: [{}] from {} shards of {} ({} images failed to decode)\n", *merged,
               fmt::join(d.features.shape, ", "), d.shards_merged, d.source, d.failed.size());
  });
  cmd->callback([a, merge] {
    if (merge->parsed()) return;
    run_extract(*a);
  });
}

}  // namespace repbench::app
