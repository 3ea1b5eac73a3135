// repbench experiment copying: the paper's Section 5 on the user's images (experiment/copying.h).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app/commands.h"
#include "core/error.h"
#include "core/parse_list.h"
#include "demo/demo_pool.h"
#include "experiment/copying.h"
#include "report/copying_report.h"
#include "scan/scan.h"

namespace fs = std::filesystem;

namespace repbench::app {

namespace {

struct CopyingArgs {
  experiment::CopyingOptions o;
  std::string sizes;
  std::vector<std::string> thresholds;
  bool demo_pool = false, quiet = false;
};

void run_copying(CopyingArgs& a) {
  if (a.demo_pool == !a.o.images.empty()) fail("give either --images DIR_OR_LIST or --demo-pool");
  if (a.o.out.empty()) fail("give --out DIR");
  a.o.train_sizes = parse_int_list(a.sizes, "--train-sizes");
  a.o.thresholds = scan::parse_thresholds(
      a.thresholds.empty() ? std::vector<std::string>{"0.5"} : a.thresholds);
  a.o.progress = a.quiet ? ProgressMode::kOff : ProgressMode::kAuto;
  a.o.log = [](const std::string& line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  if (a.demo_pool) a.o.images = (fs::path(a.o.out) / "pool").string();
  a.o.Check();
  // The demo's photographs (Debian's opencv-doc), checked against their pinned sha256.
  if (a.demo_pool) demo::stage_demo_pool(demo::default_pool_dir(), a.o.images);
  const nlohmann::json r = experiment::run_copying_experiment(a.o);
  report::write_copying_report(r, a.o.out);
  const double t = a.o.thresholds[0];
  fmt::print("{:>8}  {:>13}  {:>15}  {:>11}  {:>10}\n", "n", "median top-1", "baseline median",
             fmt::format("> {:g}", t), "baseline");
  for (const auto& z : r["sizes"])
    fmt::print("{:>8}  {:>13.3f}  {:>15.3f}  {:>10.1f}%  {:>9.1f}%\n", z["n"].get<int64_t>(),
               z["generations_summary"]["median"].get<double>(),
               z["baseline_summary"]["median"].get<double>(),
               100 * z["above"][0]["fraction"].get<double>(),
               100 * z["above"][0]["baseline_fraction"].get<double>());
  fmt::print("{}: experiment.json, plots/, report.html (and each size's folder)\n", a.o.out);
}

}  // namespace

void add_experiment_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("experiment", "Studies that reproduce the paper's findings.");
  cmd->require_subcommand(1);

  auto a = std::make_shared<CopyingArgs>();
  CLI::App* c = cmd->add_subcommand(
      "copying",
      "Does a diffusion model copy more when its training set is small? Train a DDPM on each "
      "subset size, sample it, scan the samples against their own subset (Section 5).");
  c->add_option("--images", a->o.images, "Folder of images (or class subfolders), or a list file");
  c->add_flag("--demo-pool", a->demo_pool,
              "Use the demo's 51 photographs (Debian's opencv-doc) instead of --images");
  c->add_option("--train-sizes", a->sizes, "Training-set sizes, comma-separated (nested subsets)")
      ->required();
  c->add_option("--model,-m", a->o.model, "Detector spec (see `repbench models list`)")
      ->required();
  c->add_option("--size", a->o.size, "Image side the models work at")
      ->check(CLI::IsMember({32, 64}))
      ->capture_default_str();
  c->add_option("--steps", a->o.steps, "Training steps per size (the same budget at every size)")
      ->capture_default_str();
  c->add_option("--batch", a->o.batch_size, "Training images per step")->capture_default_str();
  c->add_option("--base-channels", a->o.base_channels, "UNet channels of the first level")
      ->capture_default_str();
  c->add_option("--lr", a->o.lr, "Adam learning rate")->capture_default_str();
  c->add_option("--samples", a->o.samples, "Samples drawn per size")->capture_default_str();
  c->add_option("--sample-steps", a->o.sample_steps,
                "Timestep respacing of the sampler: N, N1,N2,... or ddimN ('' = all 1000)")
      ->capture_default_str();
  c->add_option("--threshold", a->thresholds,
                "Similarity threshold(s) in [-1, 1], comma-separated or repeated (default 0.5, "
                "the paper's for SSCD; the first one is plotted)");
  c->add_option("--baseline-sample", a->o.baseline_sample,
                "Training images in each size's self-similarity baseline")
      ->capture_default_str();
  c->add_option("--seed", a->o.seed, "Seed of the subsets, the models, sampling and baselines")
      ->capture_default_str();
  add_device_options(c, a->o.device, a->o.threads);
  c->add_option("--out,-o", a->o.out, "Output folder (resumed when it exists)")->required();
  c->add_flag("--quiet", a->quiet, "No progress lines on stderr");
  c->footer(
      "Every stage resumes (checkpoints, sample batches, descriptor caches): rerun the same\n"
      "command after a kill. experiment.json is written last; report.html renders it.\n"
      "Examples:\n"
      "  repbench experiment copying --images flowers/ --train-sizes 100,1000,8189 \\\n"
      "      -m torchscript:weights/sscd_disc_mixup.pt --steps 50000 --out copying\n"
      "  repbench experiment copying --demo-pool --train-sizes 10,51 -m 'builtin:tiny?flip=1' \\\n"
      "      --base-channels 16 --steps 1500 --samples 64 --out copying-demo");
  c->callback([a] { run_copying(*a); });
}

}  // namespace repbench::app
