#include "experiment/copying.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/elapsed.h"
#include "core/error.h"
#include "core/rng.h"
#include "diffusion/ddpm.h"
#include "diffusion/image_prep.h"
#include "diffusion/sampler.h"
#include "diffusion/schedule.h"
#include "metrics/bootstrap.h"
#include "models/registry.h"
#include "records/record_envelope.h"
#include "scan/scan.h"

namespace fs = std::filesystem;
namespace dif = repbench::diffusion;
using nlohmann::json;

namespace repbench::experiment {

namespace {

// The seeded stream of the subset permutation (Rng::for_item), apart from the model's.
constexpr uint64_t kSubsetStream = 0x5375627365747331ull;  // "Subsets1"
constexpr int kTopPairs = 8;                               // pairs per size in the record

std::string subset_dir_name(int64_t n, int64_t largest) {
  const int width = static_cast<int>(std::to_string(largest).size());
  return fmt::format("n{:0{}d}", n, width);
}

// The subset's identity: its source paths in order. A folder made from other images (other
// --images, --seed or a changed folder) is refused rather than mixed with this run.
void check_or_write_subset(const fs::path& dir, const std::vector<std::string>& paths) {
  const fs::path file = dir / "subset.json";
  const json want = {{"images", paths}};
  std::error_code ec;
  if (fs::exists(file, ec)) {
    json have;
    try {
      have = json::parse(read_file(file.string()));
    } catch (const json::exception& e) {
      fail("{}: not valid JSON ({}); remove the folder {} to start this size anew", file.string(),
           e.what(), dir.string());
    }
    if (have != want)
      fail(
          "{}: this size was made from other images (another --images or --seed); use another "
          "--out, or remove {} to start it anew",
          file.string(), dir.string());
    return;
  }
  fs::create_directories(dir);
  write_file_atomic(file.string(), want.dump(2) + "\n");
}

// The first n prepared images of `all`.
dif::TrainImages take_first(const dif::TrainImages& all, int64_t n) {
  dif::TrainImages t;
  t.n = n;
  t.size = all.size;
  t.channels = all.channels;
  const size_t per = static_cast<size_t>(all.size) * all.size * all.channels;
  t.pixels.assign(all.pixels.begin(), all.pixels.begin() + static_cast<std::ptrdiff_t>(per * n));
  t.paths.assign(all.paths.begin(), all.paths.begin() + n);
  return t;
}

// The prepared training images as the model saw them, train/NNNNNN.png (kept when present: they
// are a function of the subset, which subset.json pins).
void write_train_pngs(const dif::TrainImages& t, const fs::path& dir) {
  fs::create_directories(dir);
  const size_t per = static_cast<size_t>(t.size) * t.size * 3;
  for (int64_t i = 0; i < t.n; ++i) {
    const fs::path png = dir / fmt::format("{:06d}.png", i);
    if (fs::exists(png)) continue;
    imaging::RgbImage im;
    im.width = im.height = t.size;
    im.pixels.assign(t.pixels.begin() + static_cast<std::ptrdiff_t>(per * i),
                     t.pixels.begin() + static_cast<std::ptrdiff_t>(per * (i + 1)));
    dif::write_png(png.string(), im);
  }
}

// Removes samples-* folders of older checkpoints of this size.
void remove_other_sample_folders(const fs::path& dir, const std::string& keep) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && name != keep && name.rfind("samples-", 0) == 0)
      fs::remove_all(e.path(), ec);
  }
}

// Count, mean, median, 5th and 95th percentiles and maximum of `x` (metrics' quantiles).
json summary(std::vector<double> x) {
  if (x.empty())
    return {{"count", 0}, {"mean", 0}, {"median", 0}, {"p05", 0}, {"p95", 0}, {"max", 0}};
  std::sort(x.begin(), x.end());
  double mean = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  return {{"count", x.size()},
          {"mean", mean},
          {"median", metrics::quantile_sorted(x, 0.5)},
          {"p05", metrics::quantile_sorted(x, 0.05)},
          {"p95", metrics::quantile_sorted(x, 0.95)},
          {"max", x.back()}};
}

}  // namespace

void CopyingOptions::Check() const {
  if (images.empty()) fail("give --images DIR_OR_LIST");
  if (out.empty()) fail("give --out DIR");
  if (model.empty()) fail("give --model SPEC (the detector)");
  if (train_sizes.empty()) fail("give --train-sizes, e.g. 10,100,1000");
  std::set<int64_t> seen;
  for (int64_t n : train_sizes) {
    if (n < 1) fail("--train-sizes: {} is not a size (each must be >= 1)", n);
    if (!seen.insert(n).second) fail("--train-sizes: {} is given twice", n);
  }
  if (size != 32 && size != 64) fail("--size {} is not supported (32 or 64)", size);
  if (steps < 1) fail("--steps {} must be >= 1", steps);
  if (batch_size < 1) fail("--batch {} must be >= 1", batch_size);
  if (base_channels < 8 || base_channels % 8 != 0)
    fail("--base-channels {} must be a positive multiple of 8", base_channels);
  if (!(lr > 0)) fail("--lr {} must be > 0", lr);
  if (samples < 1) fail("--samples {} must be >= 1", samples);
  if (threads < 0) fail("--threads {} is negative", threads);
  scan::ScanParams p;
  p.thresholds = thresholds;
  p.baseline_sample = baseline_sample;
  p.Check();
  // The trained models have 1000 steps (TrainOptions' default): the respacing must fit them.
  try {
    dif::space_timesteps(dif::TrainOptions{}.timesteps, sample_steps);
  } catch (const Error& e) {
    fail("--sample-steps \"{}\": {}", sample_steps, e.what());
  }
}

json run_copying_experiment(const CopyingOptions& o) {
  o.Check();
  const auto t0 = std::chrono::steady_clock::now();
  auto log = [&](const std::string& line) {
    if (o.log) o.log(line);
  };
  const std::string spec = models::canonical_spec(o.model);
  std::vector<int64_t> sizes = o.train_sizes;
  std::sort(sizes.begin(), sizes.end());
  const int64_t largest = sizes.back();

  const std::vector<std::string> listed = dif::list_training_images(o.images);
  const int64_t available = static_cast<int64_t>(listed.size());
  if (largest > available)
    fail("{}: --train-sizes asks for {} images; it holds {}", o.images, largest, available);
  // Nested subsets: size n is the first n of one seeded permutation.
  const std::vector<int64_t> perm =
      Rng::for_item(o.seed, kSubsetStream, 0).permutation(available);
  std::vector<std::string> chosen;
  for (int64_t i = 0; i < largest; ++i) chosen.push_back(listed[perm[i]]);
  log(fmt::format("loading {} of the {} images of {} at {}x{}", largest, available, o.images,
                  o.size, o.size));
  const dif::TrainImages all = dif::load_training_images(chosen, o.size, 3);
  fs::create_directories(o.out);
  remove_stale_temporaries(o.out);

  // Wall-clock seconds of this run's stages, summed over the sizes (a resumed run's training
  // counts only what it trained; each size's training record has its own total).
  double train_seconds = 0, sample_seconds = 0, scan_seconds = 0;
  json per_size = json::array();
  for (int64_t n : sizes) {
    const std::string name = subset_dir_name(n, largest);
    const fs::path dir = fs::path(o.out) / name;
    const std::vector<std::string> subset(chosen.begin(), chosen.begin() + n);
    check_or_write_subset(dir, subset);
    const dif::TrainImages train = take_first(all, n);
    write_train_pngs(train, dir / "train");

    dif::TrainOptions t;
    t.unet = dif::UNetConfig::small(o.size);
    t.unet.base_channels = o.base_channels;
    t.steps = o.steps;
    t.batch_size = o.batch_size;
    t.lr = o.lr;
    t.seed = o.seed;
    t.checkpoint_every = 500;
    t.log_every = std::max<int64_t>(1, o.steps / 4);
    t.device = {o.device, o.threads};
    t.progress = o.progress;
    t.on_log = [&](const dif::TrainLog& l) {
      log(fmt::format("  {}: step {}/{}  loss {:.4f}  {:.1f} img/s", name, l.step, l.steps, l.loss,
                      l.images_per_second));
    };
    log(fmt::format("{}: training a DDPM on {} images ({} steps of {})", name, n, o.steps,
                    o.batch_size));
    const std::string ckpt = (dir / "ddpm.ckpt").string();
    auto t_stage = std::chrono::steady_clock::now();
    const dif::TrainResult trained = dif::train_ddpm(train, t, ckpt);
    train_seconds += seconds_since(t_stage);
    if (trained.steps_done < o.steps)
      fail("{}: training stopped at step {} of {}", ckpt, trained.steps_done, o.steps);

    const dif::DiffusionModel model(ckpt, {o.device, o.threads});
    const std::string samples_name = "samples-" + model.info().sha256.substr(0, 12);
    remove_other_sample_folders(dir, samples_name);
    dif::SampleOptions so;
    so.timestep_respacing = o.sample_steps;
    log(fmt::format("{}: sampling {} images ({} steps each)", name, o.samples,
                    model.sample_model_calls(so)));
    t_stage = std::chrono::steady_clock::now();
    dif::sample_to_folder(model, o.samples, o.seed, 16, so, (dir / samples_name).string(),
                          o.progress, fmt::format("{} samples", name));
    sample_seconds += seconds_since(t_stage);

    scan::ScanOptions sc;
    sc.generated = (dir / samples_name).string();
    sc.train = (dir / "train").string();
    sc.model = o.model;
    sc.extractor.device = o.device;
    sc.extractor.threads = o.threads;
    sc.out = (dir / "scan").string();
    sc.params.thresholds = o.thresholds;
    sc.params.baseline_sample = o.baseline_sample;
    sc.params.seed = o.seed;
    sc.params.index.threads = o.threads;
    sc.progress = o.progress;
    log(fmt::format("{}: scanning the samples against their {} training images", name, n));
    t_stage = std::chrono::steady_clock::now();
    const json rec = scan::run_scan(sc);
    scan_seconds += seconds_since(t_stage);

    const std::vector<double> gen_top1 = rec["generations_top1"].get<std::vector<double>>();
    const std::vector<double> base_top1 = rec["baseline"]["top1"].get<std::vector<double>>();
    // The highest-scoring pairs (the paper shows the 20 best generations of each model).
    json pairs = rec["pairs"];
    std::vector<json> sorted(pairs.begin(), pairs.end());
    std::stable_sort(sorted.begin(), sorted.end(), [](const json& a, const json& b) {
      return a["score"].get<double>() > b["score"].get<double>();
    });
    if (sorted.size() > kTopPairs) sorted.resize(kTopPairs);
    json top = json::array();
    for (const json& p : sorted)
      top.push_back({{"generated", fs::relative(p["generated"].get<std::string>(), o.out).string()},
                     {"train", fs::relative(p["train"].get<std::string>(), o.out).string()},
                     {"score", p["score"]}});

    const json gen_summary = summary(gen_top1), base_summary = summary(base_top1);
    per_size.push_back({{"n", n},
                        {"folder", name},
                        {"images", subset},
                        {"training", trained.to_json()},
                        {"checkpoint_sha256", trained.sha256},
                        {"samples",
                         {{"count", rec["generated"]["count"]},
                          {"folder", name + "/" + samples_name},
                          {"model_calls", model.sample_model_calls(so)}}},
                        {"scan", name + "/scan/scan.json"},
                        {"generations_top1", gen_top1},
                        {"baseline_top1", base_top1},
                        {"generations_summary", gen_summary},
                        {"baseline_summary", base_summary},
                        {"above", rec["above"]},
                        {"top_pairs", top}});
    log(
        fmt::format("{}: median top-1 {:.3f} (training baseline {:.3f}); {:.1f}% of samples above "
                    "{:g}",
                    name, gen_summary["median"].get<double>(), base_summary["median"].get<double>(),
                    100 * rec["above"][0]["fraction"].get<double>(),
                    rec["above"][0]["threshold"].get<double>()));
  }

  json r = records::record_envelope(records::kCopyingExperimentSchema);
  r["kind"] = "copying-experiment";
  r["images"] = {{"source", o.images}, {"count", available}};
  r["model"] = spec;
  r["thresholds"] = o.thresholds;
  r["options"] = {{"size", o.size},
                  {"steps", o.steps},
                  {"batch_size", o.batch_size},
                  {"base_channels", o.base_channels},
                  {"lr", o.lr},
                  {"samples", o.samples},
                  {"sample_steps", o.sample_steps},
                  {"baseline_sample", o.baseline_sample},
                  {"seed", o.seed},
                  {"device", o.device}};
  r["protocol"] = json::array(
      {"Subsets are nested: one seeded permutation of the images; size n takes its first n.",
       fmt::format("Every size is trained for the same {} steps of {} images, so smaller sets "
                   "see more passes over each image.",
                   o.steps, o.batch_size),
       fmt::format("Training images are compared as the model saw them: center-cropped and "
                   "resized to {} px.",
                   o.size),
       "Baseline: each sampled training image against its nearest other training image of the "
       "same subset (Somepalli et al., Section 5)."});
  r["sizes"] = per_size;
  r["timings"] = {{"train_seconds", train_seconds},
                  {"sample_seconds", sample_seconds},
                  {"scan_seconds", scan_seconds},
                  {"total_seconds", seconds_since(t0)}};
  // Written last: an experiment.json means every size finished.
  write_file_atomic((fs::path(o.out) / "experiment.json").string(), r.dump(2) + "\n");
  return r;
}

}  // namespace repbench::experiment
