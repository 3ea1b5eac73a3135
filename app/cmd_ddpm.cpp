// repbench ddpm train | sample | info: the built-in DDPM (diffusion/ddpm.h) and plain
// sampling of any eps-model (diffusion/sampler.h).
#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app/commands.h"
#include "core/error.h"
#include "core/parse_list.h"
#include "core/progress.h"
#include "diffusion/ddpm.h"
#include "diffusion/image_prep.h"
#include "diffusion/sampler.h"

namespace fs = std::filesystem;
namespace dif = repbench::diffusion;

namespace repbench::app {

namespace {

// A comma-separated list of small integers (UNet widths and resolutions).
std::vector<int> int_list(const std::string& text, const char* option) {
  std::vector<int> out;
  for (int64_t v : parse_int_list(text, option)) {
    if (v < INT32_MIN || v > INT32_MAX) fail("{} \"{}\": {} is out of range", option, text, v);
    out.push_back(static_cast<int>(v));
  }
  return out;
}

struct TrainArgs {
  std::string images, out, channel_mult, attention = "8", beta_schedule = "linear", device = "cpu";
  int size = 32, batch = 16, base_channels = 32, res_blocks = 1, threads = 0;
  int64_t steps = 2000, timesteps = 1000, checkpoint_every = 500, log_every = 100;
  double lr = 1e-3, ema = 0.999, max_seconds = 0, beta_start = 0.0001, beta_end = 0.02, dropout = 0;
  uint64_t seed = 0;
  bool no_flip = false, quiet = false;
};

void run_train(const TrainArgs& a) {
  dif::TrainOptions o;
  o.unet = dif::UNetConfig::small(a.size);
  o.unet.base_channels = a.base_channels;
  if (!a.channel_mult.empty())
    o.unet.channel_mult = int_list(a.channel_mult, "--channel-mult");
  o.unet.num_res_blocks = a.res_blocks;
  o.unet.attention_resolutions =
      a.attention.empty() ? std::vector<int>{} : int_list(a.attention, "--attention");
  o.unet.dropout = a.dropout;
  o.timesteps = a.timesteps;
  o.beta_schedule = dif::parse_beta_schedule(a.beta_schedule, "--beta-schedule");
  o.beta_start = a.beta_start;
  o.beta_end = a.beta_end;
  o.steps = a.steps;
  o.batch_size = a.batch;
  o.lr = a.lr;
  o.ema_decay = a.ema;
  o.random_flip = !a.no_flip;
  o.seed = a.seed;
  o.checkpoint_every = a.checkpoint_every;
  o.max_seconds = a.max_seconds;
  o.log_every = a.log_every;
  o.device.device = a.device;
  o.device.threads = a.threads;
  o.progress = a.quiet ? ProgressMode::kOff : ProgressMode::kAuto;
  o.on_log = [](const dif::TrainLog& l) {
    fmt::print("step {}/{}  loss {:.4f}  {:.1f} img/s  {}\n", l.step, l.steps, l.loss,
               l.images_per_second, format_duration(l.seconds));
    std::fflush(stdout);
  };
  o.Check();
  const std::vector<std::string> paths = dif::list_training_images(a.images);
  fmt::print("loading {} images from {} at {}x{}\n", paths.size(), a.images, a.size, a.size);
  const dif::TrainImages images = dif::load_training_images(paths, a.size, o.unet.channels);
  const dif::TrainResult r = dif::train_ddpm(images, o, a.out);
  if (r.resumed_from > 0) fmt::print("resumed from step {}\n", r.resumed_from);
  const nlohmann::json j = r.to_json();
  fmt::print("trained {} steps (now {} of {}{}) in {}, {:.1f} img/s, {} parameters\n",
             r.steps_this_run, r.steps_done, a.steps,
             r.stopped_by_time ? ", stopped by --max-seconds" : "", format_duration(r.seconds),
             r.images_per_second, r.parameters);
  if (j.contains("loss_first"))
    fmt::print("loss: first {:.4f}, last {:.4f} (means of up to 100 steps)\n",
               j["loss_first"].get<double>(), j["loss_last"].get<double>());
  fmt::print("wrote {} (sha256 {})\n", r.checkpoint, r.sha256);
}

struct SampleArgs {
  std::string model, out, steps, device = "cpu";
  int64_t count = 16;
  int batch = 16, class_label = -1, threads = 0;
  uint64_t seed = 0;
  bool no_clip = false, quiet = false;
};

void run_sample(const SampleArgs& a) {
  if (a.count < 1) fail("--count must be at least 1; got {}", a.count);
  if (a.batch < 1) fail("--batch must be at least 1; got {}", a.batch);
  const dif::DiffusionModel model(a.model, {a.device, a.threads});
  dif::SampleOptions o;
  o.timestep_respacing = a.steps;
  o.clip_denoised = !a.no_clip;
  o.class_label = a.class_label;
  o.Check();
  const dif::FolderSampleResult r = dif::sample_to_folder(
      model, a.count, a.seed, a.batch, o, a.out, a.quiet ? ProgressMode::kOff : ProgressMode::kAuto);
  fmt::print("{} images in {} ({} written, {} already there); model {} ({}, sha256 {}), {} steps\n",
             a.count, a.out, r.written, r.kept, a.model, dif::to_string(model.info().format),
             model.info().sha256.substr(0, 12), model.sample_model_calls(o));
}

}  // namespace

void add_ddpm_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "ddpm", "Train repbench's small DDPM on your images, sample any noise-prediction model.");
  cmd->require_subcommand(1);

  auto t = std::make_shared<TrainArgs>();
  CLI::App* train = cmd->add_subcommand(
      "train", "Train the built-in UNet (EMA weights, resumable checkpoint, loss and throughput).");
  train
      ->add_option("--images", t->images,
                   "Folder of images (or of class subfolders), or a list file")
      ->required();
  train->add_option("--size", t->size, "Image side the model works at")
      ->check(CLI::IsMember({32, 64}))
      ->capture_default_str();
  train->add_option("--out", t->out, "Checkpoint file (resumed when it exists)")->required();
  train->add_option("--steps", t->steps, "Total optimisation steps (counting resumed ones)")
      ->capture_default_str();
  train->add_option("--batch", t->batch, "Images per step")->capture_default_str();
  train->add_option("--lr", t->lr, "Adam learning rate")->capture_default_str();
  train->add_option("--ema", t->ema, "EMA decay of the sampling weights")->capture_default_str();
  train->add_option("--seed", t->seed, "Seed of the initial weights and of every draw")
      ->capture_default_str();
  train->add_option("--base-channels", t->base_channels, "UNet channels of the first level")
      ->capture_default_str();
  train->add_option("--channel-mult", t->channel_mult,
                    "Per-level channel multipliers (default 1,2,2 at 32 px, 1,2,2,2 at 64 px)");
  train->add_option("--res-blocks", t->res_blocks, "Residual blocks per level")
      ->capture_default_str();
  train
      ->add_option("--attention", t->attention, "Feature-map sides with self-attention ('' = none)")
      ->capture_default_str();
  train->add_option("--dropout", t->dropout, "Dropout in residual blocks")->capture_default_str();
  train->add_option("--timesteps", t->timesteps, "Diffusion steps")->capture_default_str();
  train->add_option("--beta-schedule", t->beta_schedule, "linear | cosine")
      ->check(CLI::IsMember({"linear", "cosine"}))
      ->capture_default_str();
  train->add_option("--beta-start", t->beta_start, "First beta (linear)")->capture_default_str();
  train->add_option("--beta-end", t->beta_end, "Last beta (linear)")->capture_default_str();
  train->add_flag("--no-flip", t->no_flip, "No random left-right flips");
  train
      ->add_option("--checkpoint-every", t->checkpoint_every,
                   "Steps between checkpoints (0 = end only)")
      ->capture_default_str();
  train
      ->add_option("--max-seconds", t->max_seconds,
                   "Stop (and checkpoint) after this long (0 = no limit)")
      ->capture_default_str();
  train->add_option("--log-every", t->log_every, "Steps between loss lines")->capture_default_str();
  add_device_options(train, t->device, t->threads);
  train->add_flag("--quiet", t->quiet, "No progress line on stderr");
  train->footer(
      "The checkpoint is accepted wherever a TorchScript eps-model is (ddpm sample, synth\n"
      "dif-patch/dif-diagonal/inpaint); its format is described in diffusion/ddpm.h.\n"
      "Example:\n"
      "  repbench ddpm train --images pool/ --size 32 --steps 3000 --out ddpm32.ckpt");
  train->callback([t] { run_train(*t); });

  auto s = std::make_shared<SampleArgs>();
  CLI::App* sample =
      cmd->add_subcommand("sample", "Draw images from an eps-model (DDPM ancestral sampling).");
  sample
      ->add_option("--model", s->model,
                   "TorchScript eps-model (.pt with metadata.json) or checkpoint")
      ->required();
  sample->add_option("--count", s->count, "Images to draw")->capture_default_str();
  sample->add_option("--out", s->out, "Output folder (NNNNNN.png; existing images are kept)")
      ->required();
  sample->add_option("--seed", s->seed, "Seed (image i uses a seed derived from it and i)")
      ->capture_default_str();
  sample->add_option("--steps", s->steps,
                     "Timestep respacing: N, N1,N2,... or ddimN (default: every training step)");
  sample->add_option("--batch", s->batch, "Images per batch")->capture_default_str();
  sample->add_option("--class", s->class_label, "Class label for conditional models (-1 = random)")
      ->capture_default_str();
  sample->add_flag("--no-clip", s->no_clip, "Do not clamp x0 predictions to [-1, 1]");
  add_device_options(sample, s->device, s->threads);
  sample->add_flag("--quiet", s->quiet, "No progress line on stderr");
  sample->footer(
      "Example:\n  repbench ddpm sample --model ddpm32.ckpt --count 64 --steps 100 --out samples/");
  sample->callback([s] { run_sample(*s); });

  auto model = std::make_shared<std::string>();
  CLI::App* info = cmd->add_subcommand("info", "Print a model file's format, sha256 and metadata.");
  info->add_option("--model", *model, "TorchScript eps-model or checkpoint")->required();
  info->callback([model] {
    const dif::EpsModelInfo i = dif::inspect_eps_model(*model);
    fmt::print("{}\n", i.to_json().dump(2));
  });
}

}  // namespace repbench::app
