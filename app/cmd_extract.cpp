// repbench extract: descriptors of a set's images (or a folder's) through the feature cache.
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/natural_sort.h"
#include "datasets/folder_listing.h"
#include "datasets/set_registry.h"
#include "models/feature_cache.h"
#include "models/registry.h"
#include "models/set_images.h"

namespace fs = std::filesystem;

namespace repbench::app {

namespace {

struct ExtractArgs {
  std::string model, set, root, gnd, protocol, images, out, device = "cpu",
                                                             on_decode_error = "fail", preprocess;
  int batch_size = 32, threads = 0;
  int64_t chunk_size = 1024;
  bool no_query_crop = false;
};

// Every image under `dir` (recursively), naturally sorted by relative path.
std::vector<std::string> images_under(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail("{}: no such folder", dir);
  std::vector<std::string> rel;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec) && datasets::is_image_file(it->path().filename().string()))
      rel.push_back(fs::relative(it->path(), dir).string());
  }
  natural_sort(rel);
  if (rel.empty()) fail("{}: no images (.jpg, .jpeg, .png, .bmp, .webp)", dir);
  return rel;
}

void run_extract(const ExtractArgs& a) {
  if (a.set.empty() == a.images.empty()) fail("give either --set NAME or --images DIR");
  models::ExtractorOptions eopt;
  eopt.device = a.device;
  eopt.threads = a.threads;
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
  if (a.on_decode_error == "skip") {
    popt.on_decode_error = models::DecodeErrorPolicy::kSkip;
  } else if (a.on_decode_error != "fail") {
    fail("--on-decode-error '{}' is not fail or skip", a.on_decode_error);
  }
  models::CacheOptions copt;
  copt.chunk_size = a.chunk_size;
  copt.Check();

  auto extract = [&](const std::vector<models::ImageItem>& items, const std::string& name) {
    popt.label = fmt::format("{} {}", ex->name(), name);
    const std::string path = (fs::path(a.out) / (name + ".npy")).string();
    models::CachedExtraction c = models::extract_cached(*ex, items, path, popt, copt);
    fmt::print("{}: [{}] {}{}\n", path, fmt::join(c.features.shape, ", "),
               c.cache_hit ? "(from the cache)"
                           : fmt::format("({} images extracted, {} chunks reused)",
                                         c.images_extracted, c.chunks_reused),
               c.failed.empty() ? "" : fmt::format("; {} images failed to decode", c.failed.size()));
    for (size_t i = 0; i < c.failed.size() && i < 10; ++i)
      fmt::print("  {}: {}\n", c.failed[i].path, c.failed[i].reason);
  };

  fmt::print("model {} ({}), output {} x {}\n", ex->name(), ex->spec(), ex->tokens(), ex->dim());
  if (!a.images.empty()) {
    const std::vector<std::string> rel = images_under(a.images);
    std::vector<models::ImageItem> items;
    std::string list;
    for (const auto& r : rel) {
      items.push_back({(fs::path(a.images) / r).string(), std::nullopt});
      list += r + "\n";
    }
    write_file_atomic((fs::path(a.out) / "images.txt").string(), list);
    extract(items, "images");
    return;
  }
  datasets::RetrievalSet set = datasets::load_set({a.set, a.protocol, a.root, a.gnd});
  if (a.no_query_crop) set.crop_queries = false;
  extract(models::database_items(set), set.name + ".db");
  extract(models::query_items(set), set.name + ".queries");
}

}  // namespace

void add_extract_command(CLI::App& app) {
  auto a = std::make_shared<ExtractArgs>();
  CLI::App* cmd = app.add_subcommand(
      "extract", "Compute descriptors of a set's images or a folder's, through the feature cache.");
  cmd->add_option("--model,-m", a->model, "Extractor spec (see `repbench models list`)")->required();
  cmd->add_option("--set", a->set, "Set name or gnd.json: writes SET.db.npy and SET.queries.npy");
  cmd->add_option("--root", a->root, "Dataset folder");
  cmd->add_option("--gnd", a->gnd, "Annotation file");
  cmd->add_option("--protocol", a->protocol, "Protocol (image lists are the same for all)");
  cmd->add_flag("--no-query-crop", a->no_query_crop,
                "Do not crop queries to their box (the paper's lineage)");
  cmd->add_option("--images", a->images,
                  "A folder: every image under it (natural order) -> images.npy + images.txt");
  cmd->add_option("--out,-o", a->out, "Output folder")->required();
  cmd->add_option("--batch-size", a->batch_size, "Images per forward pass")->capture_default_str();
  cmd->add_option("--device", a->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", a->threads, "LibTorch threads (0 = all cores)");
  cmd->add_option("--on-decode-error", a->on_decode_error,
                  "fail, or skip (the row is zero and the image is listed in the sidecar)")
      ->capture_default_str();
  cmd->add_option("--preprocess", a->preprocess,
                  "Override the model's preprocessing, as JSON, e.g. '{\"size\": 288, \"crop\": 0}'");
  cmd->add_option("--chunk-size", a->chunk_size, "Images per resumable chunk")->capture_default_str();
  cmd->footer(
      "Descriptors are .npy float32 [n, dim] (or [n, tokens, dim]) with a JSON sidecar naming the\n"
      "extractor, the model's sha256, the preprocessing and the image list; a rerun with the same\n"
      "inputs reuses them, a changed input recomputes, an interrupted run resumes.\n"
      "Examples:\n"
      "  repbench extract -m builtin:colorhist --set roxford5k --root data/roxford5k --out feats\n"
      "  repbench extract -m torchscript:weights/sscd.pt --images generated/ --out feats");
  cmd->callback([a] { run_extract(*a); });
}

}  // namespace repbench::app
