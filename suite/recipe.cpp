#include "suite/recipe.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/file_lock.h"
#include "core/progress.h"
#include "core/sha256.h"
#include "imaging/folder_listing.h"
#include "synth/coco.h"
#include "synth/cutmix.h"
#include "diffusion/dif_sets.h"
#include "synth/segmix.h"
#include "synth/voc.h"

namespace fs = std::filesystem;
namespace dif = repbench::diffusion;

namespace repbench::suite {

namespace {

template <typename T>
T opt(const nlohmann::json& o, const char* key, T fallback) {
  return o.contains(key) ? o[key].get<T>() : fallback;
}

synth::SetOptions paste_options(const SuiteSet& s, int threads, bool quiet) {
  const nlohmann::json& o = s.recipe->options;
  synth::SetOptions so;
  so.count = opt<int64_t>(o, "count", so.count);
  so.copies = static_cast<int>(opt<int64_t>(o, "copies", so.copies));
  so.distractors = opt<int64_t>(o, "distractors", so.distractors);
  so.seed = static_cast<uint64_t>(opt<int64_t>(o, "seed", 0));
  so.size = static_cast<int>(opt<int64_t>(o, "size", so.size));
  so.query_side = synth::parse_query_side(opt<std::string>(o, "query_side", "source"));
  so.format = synth::parse_image_format(opt<std::string>(o, "format", "png"));
  so.jpeg_quality = static_cast<int>(opt<int64_t>(o, "jpeg_quality", so.jpeg_quality));
  so.threads = threads;
  so.progress = quiet ? ProgressMode::kOff : ProgressMode::kAuto;
  so.name = s.name;
  return so;
}

synth::CutmixOptions cutmix_options(const SuiteSet& s, int threads, bool quiet) {
  const nlohmann::json& o = s.recipe->options;
  synth::CutmixOptions c;
  c.set = paste_options(s, threads, quiet);
  c.beta = opt<double>(o, "beta", c.beta);
  c.placement = synth::parse_cutmix_placement(opt<std::string>(o, "placement", "same"));
  c.direction = synth::parse_cutmix_direction(opt<std::string>(o, "direction", "random"));
  if (!o.contains("source")) fail("synth cutmix needs 'source' (a folder of images)");
  c.Check();
  return c;
}

synth::SegmixOptions segmix_options(const SuiteSet& s, int threads, bool quiet) {
  const nlohmann::json& o = s.recipe->options;
  synth::SegmixOptions g;
  g.set = paste_options(s, threads, quiet);
  g.unit = synth::parse_segmix_unit(opt<std::string>(o, "unit", "class"));
  g.background = opt<bool>(o, "background", g.background);
  g.min_fraction = opt<double>(o, "min_fraction", g.min_fraction);
  g.photometric = opt<bool>(o, "photometric", g.photometric);
  g.flips = opt<bool>(o, "flips", g.flips);
  g.scale_min = opt<double>(o, "scale_min", g.scale_min);
  g.scale_max = opt<double>(o, "scale_max", g.scale_max);
  g.rotate = opt<double>(o, "rotate", g.rotate);
  const bool coco = o.contains("coco") || o.contains("images");
  if (coco == o.contains("voc"))
    fail("synth segmix needs either 'coco' and 'images' (COCO) or 'voc' (VOC2012)");
  if (coco && !(o.contains("coco") && o.contains("images")))
    fail("synth segmix: 'coco' (the instances json) and 'images' (its image folder) go together");
  if (!coco && o.contains("voc_set") && o["voc_set"] != "train" && o["voc_set"] != "val" &&
      o["voc_set"] != "trainval")
    fail("synth segmix: voc_set '{}' is not train, val or trainval",
         o["voc_set"].get<std::string>());
  g.Check();
  return g;
}

dif::DifSetOptions dif_options(const SuiteSet& s, const std::string& device, int threads,
                               bool quiet) {
  const nlohmann::json& o = s.recipe->options;
  dif::DifSetOptions d;
  d.kind = s.recipe->generator == "dif-patch" ? dif::DifKind::kPatch : dif::DifKind::kDiagonal;
  d.source_dir = opt<std::string>(o, "source", "");
  d.model = opt<std::string>(o, "model", "");
  d.out_dir = s.recipe->out;
  d.count = opt<int64_t>(o, "count", 0);
  d.copies_per_source = static_cast<int>(opt<int64_t>(o, "copies", d.copies_per_source));
  d.seed = static_cast<uint64_t>(opt<int64_t>(o, "seed", 0));
  d.patch_fraction = opt<double>(o, "patch_fraction", d.patch_fraction);
  d.diagonals = dif::parse_diagonals(opt<std::string>(o, "diagonals", "both"));
  d.query_side = dif::parse_query_side(opt<std::string>(o, "query_side", "source"));
  d.batch_size = static_cast<int>(opt<int64_t>(o, "batch", d.batch_size));
  d.repaint.timestep_respacing = opt<std::string>(o, "steps", d.repaint.timestep_respacing);
  d.repaint.t_T = opt<int64_t>(o, "t_T", d.repaint.t_T);
  d.repaint.jump_length = opt<int64_t>(o, "jump_length", d.repaint.jump_length);
  d.repaint.jump_n_sample = opt<int64_t>(o, "jump_n_sample", d.repaint.jump_n_sample);
  d.repaint.n_sample = opt<int64_t>(o, "n_sample", d.repaint.n_sample);
  d.repaint.class_label = static_cast<int>(opt<int64_t>(o, "class", d.repaint.class_label));
  d.repaint.clip_denoised = opt<bool>(o, "clip", d.repaint.clip_denoised);
  d.repaint.paste_known = opt<bool>(o, "paste_known", d.repaint.paste_known);
  d.device = {device, threads};
  d.progress = quiet ? ProgressMode::kOff : ProgressMode::kAuto;
  d.Check();
  return d;
}

bool is_dif(const std::string& generator) {
  return generator == "dif-patch" || generator == "dif-diagonal";
}

// The recipe and a listing of its inputs, hashed (see recipe.h on what "stale" means).
std::string recipe_hash(const SuiteSet& s) {
  nlohmann::json inputs = nlohmann::json::array();
  for (const RecipeInput& in : recipe_inputs(*s.recipe)) {
    std::error_code ec;
    nlohmann::json listing = nlohmann::json::array();
    if (in.folder && fs::is_directory(in.path, ec)) {
      for (const std::string& name : imaging::list_image_files(in.path))
        listing.push_back({name, static_cast<int64_t>(fs::file_size(fs::path(in.path) / name, ec))});
    } else {
      listing.push_back(static_cast<int64_t>(fs::file_size(in.path, ec)));
    }
    inputs.push_back({in.option, listing});
  }
  const nlohmann::json key = {{"generator", s.recipe->generator},
                              {"name", s.name},
                              {"options", s.recipe->options},
                              {"inputs", inputs}};
  return sha256_hex(key.dump());
}

std::string recipe_file(const SetRecipe& r) { return (fs::path(r.out) / "recipe.json").string(); }

}  // namespace

void check_recipes(const Suite& suite) {
  for (const SuiteSet& s : suite.sets) {
    if (!s.recipe) continue;
    try {
      const std::string& g = s.recipe->generator;
      if (g == "cutmix") cutmix_options(s, 0, true);
      if (g == "segmix") segmix_options(s, 0, true);
      if (is_dif(g)) dif_options(s, "cpu", 0, true);
    } catch (const Error& e) {
      fail("{}: {}", s.recipe->where, e.what());
    }
  }
}

std::vector<RecipeInput> recipe_inputs(const SetRecipe& r) {
  const nlohmann::json& o = r.options;
  std::vector<RecipeInput> in;
  auto path = [&](const char* key) { return o.value(key, std::string()); };
  if (r.generator == "cutmix") {
    // Sources and partners come from one folder: count + distractors images, and at least 2.
    const int64_t needed = std::max<int64_t>(2, o.value("count", int64_t{0}) +
                                                    o.value("distractors", int64_t{0}));
    in.push_back({"source", path("source"), true, needed});
  } else if (r.generator == "segmix") {
    if (o.contains("voc")) {
      in.push_back({"voc", path("voc"), true, 0});
    } else {
      in.push_back({"coco", path("coco"), false, 0});
      in.push_back({"images", path("images"), true, 0});
    }
    if (o.contains("backgrounds")) in.push_back({"backgrounds", path("backgrounds"), true, 1});
  } else if (is_dif(r.generator)) {
    in.push_back({"source", path("source"), true, o.value("count", int64_t{0})});
    in.push_back({"model", path("model"), false, 0});
  }
  return in;
}

int64_t count_images(const std::string& dir) {
  int64_t n = static_cast<int64_t>(imaging::list_image_files(dir).size());
  for (const std::string& sub : imaging::list_subfolders(dir))
    n += static_cast<int64_t>(imaging::list_image_files((fs::path(dir) / sub).string()).size());
  return n;
}

bool recipe_current(const SuiteSet& s) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(s.recipe->out) / "gnd.json", ec)) return false;
  if (!fs::is_regular_file(recipe_file(*s.recipe), ec)) return false;
  const nlohmann::json j =
      nlohmann::json::parse(read_file(recipe_file(*s.recipe)), nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.value("hash", "") == recipe_hash(s);
}

std::string build_recipe(const SuiteSet& s, const Suite& suite, bool quiet) {
  const SetRecipe& r = *s.recipe;
  const std::string label = s.name.empty() ? r.generator : s.name;
  // Two runs building one set take turns (core/file_lock.h): the second finds it current.
  const FileLock lock((fs::path(r.out) / ".build.lock").string());
  if (recipe_current(s)) return fmt::format("{}: built from this recipe in {}", label, r.out);
  std::string done;
  if (r.generator == "cutmix") {
    std::vector<std::string> images;
    for (const std::string& name : imaging::list_image_files(r.options["source"]))
      images.push_back((fs::path(r.options["source"].get<std::string>()) / name).string());
    const synth::GenerationSummary g =
        synth::generate_cutmix(images, cutmix_options(s, suite.threads, quiet), r.out);
    done = fmt::format("{} images written, {} kept", g.images_written, g.images_reused);
  } else if (r.generator == "segmix") {
    const nlohmann::json& o = r.options;
    const synth::SegmentationSource src =
        o.contains("voc") ? synth::read_voc(o["voc"], o.value("voc_set", "val"))
                          : synth::read_coco(o["coco"], o["images"]);
    std::vector<std::string> backgrounds;
    if (o.contains("backgrounds"))
      for (const std::string& name : imaging::list_image_files(o["backgrounds"]))
        backgrounds.push_back((fs::path(o["backgrounds"].get<std::string>()) / name).string());
    const synth::GenerationSummary g =
        synth::generate_segmix(src, backgrounds, segmix_options(s, suite.threads, quiet), r.out);
    done = fmt::format("{} images written, {} kept", g.images_written, g.images_reused);
  } else {
    const dif::GenerationSummary g =
        dif::generate_dif_set(dif_options(s, suite.device, suite.threads, quiet));
    done = fmt::format("{} copies outpainted, {} kept", g.generated, g.reused);
  }
  const nlohmann::json record = {{"schema", "repbench.recipe/1"},
                                 {"generator", r.generator},
                                 {"name", s.name},
                                 {"options", r.options},
                                 {"hash", recipe_hash(s)}};
  write_file_atomic(recipe_file(r), record.dump(2) + "\n");
  return fmt::format("{}: built in {} ({})", label, r.out, done);
}

}  // namespace repbench::suite
