// DDPM training (Ho et al. 2020) of repbench's built-in UNet on a user's images, with EMA weights,
// resumable checkpoints and the loss history. Torch-free header.
//
// The UNet (diffusion/torch/unet.h) is a small DDPM UNet: a 3x3 input convolution, per
// resolution level `num_res_blocks` residual blocks (GroupNorm, SiLU, 3x3 convolutions, the
// timestep embedding added in between) with self-attention at the listed resolutions, strided
// convolutions down and nearest-upsample + convolution up, skip connections by concatenation,
// a middle of residual / attention / residual, and a GroupNorm-SiLU-conv output predicting eps.
// The timestep embedding is guided-diffusion's sinusoidal one followed by a 2-layer MLP.
//
// Training: x0 = pixel / 127.5 - 1 (images prepared like guided-diffusion's center_crop_arr, and
// flipped left-right with probability 1/2), t ~ U{0..T-1}, x_t = sqrt(abar_t) x0 +
// sqrt(1 - abar_t) eps, loss = mean squared error of the predicted eps (the "simple" loss); Adam,
// gradient norm clipped, EMA of the weights with the warm-up decay min(decay, (1 + k) / (10 + k))
// at update k (so that a short run's EMA is not stuck at the initial weights). Batches walk
// through per-epoch permutations of the images; every random draw of step k comes from the seed
// and k alone, so a run resumed from a checkpoint continues exactly as an uninterrupted one.
//
// Checkpoint file (".ckpt"; accepted wherever an eps-model is, diffusion/sampler.h):
//   bytes 0..7   "RBDDPM01"
//   bytes 8..15  little-endian uint64 L
//   next L bytes a JSON header: {"format": "repbench-ddpm", "version": 1,
//                 "metadata": the eps-model metadata (model_config.h), "unet": UNetConfig,
//                 "training": {"step", "seed", "batch_size", "lr", ..., "data_sha256",
//                 "images", "steps_budget"}, "losses": [per-step loss, ...]}
//   the rest     a LibTorch archive (torch::serialize) with "model", "ema" and "optimizer" (Adam's
//                state by parameter index, so that the same training writes the same bytes).
// Sampling uses the EMA weights.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.h"
#include "diffusion/model_config.h"
#include "diffusion/sampler.h"

namespace repbench::diffusion {

inline constexpr char kCheckpointMagic[] = "RBDDPM01";  // 8 bytes, no terminator in the file
inline constexpr char kCheckpointFormat[] = "repbench-ddpm";

struct UNetConfig {
  int image_size = 32;                           // square input side; divisible by 2^(levels - 1)
  int channels = 3;                              // image channels (1 or 3)
  int base_channels = 32;                        // channels of the first level
  std::vector<int> channel_mult = {1, 2, 2};     // per level, times base_channels
  int num_res_blocks = 1;                        // residual blocks per level (down path)
  std::vector<int> attention_resolutions = {8};  // feature-map sides with self-attention
  double dropout = 0.0;

  // The defaults for a side of 32 (3 levels) or 64 (4 levels, {1, 2, 2, 2}); attention at 8.
  static UNetConfig small(int image_size);
  void Check(const std::string& where = "UNet") const;
  static UNetConfig from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
};

// Training images, prepared: pixels [n, size, size, channels] bytes, row-major.
struct TrainImages {
  int64_t n = 0;
  int size = 0;
  int channels = 3;
  std::vector<uint8_t> pixels;
  std::vector<std::string> paths;  // where each came from ("" when made in memory)
};

// The image files of `dir_or_list` (imaging/image_list.h, docs/PROTOCOLS.md §9.8): a folder (its
// images, naturally sorted, or when it has none, those of its subfolders: FolderRule::
// kTopOrSubfolders) or a list file of paths. Throws Error naming it when nothing is found.
std::vector<std::string> list_training_images(const std::string& dir_or_list);

// Decodes and prepares each file with center_crop_arr(size) (image_prep.h); 1 channel = PIL's "L".
// Throws Error naming a file that cannot be read.
TrainImages load_training_images(const std::vector<std::string>& paths, int size, int channels = 3);

// What train_ddpm() reports every log_every steps.
struct TrainLog {
  int64_t step = 0;              // steps done
  int64_t steps = 0;             // the budget
  double loss = 0;               // mean loss over the steps since the last report
  double images_per_second = 0;  // over this run so far
  double seconds = 0;            // of this run so far
};

struct TrainOptions {
  UNetConfig unet;
  int64_t timesteps = 1000;  // training diffusion steps
  BetaSchedule beta_schedule = BetaSchedule::kLinear;
  double beta_start = 0.0001;
  double beta_end = 0.02;
  int64_t steps = 2000;  // total optimisation steps (the budget, counting resumed ones)
  int batch_size = 16;
  double lr = 1e-3;  // Adam; higher than DDPM's 2e-4 because runs here are short
  double ema_decay = 0.999;
  double grad_clip = 1.0;          // max global gradient norm (0 = none)
  bool random_flip = true;         // left-right flips (guided-diffusion's random_flip)
  uint64_t seed = 0;               // weights' initialisation and every draw of every step
  int64_t checkpoint_every = 500;  // steps between checkpoints (0 = only at the end)
  double max_seconds = 0;          // stop (and checkpoint) once this run took longer (0 = no limit)
  int64_t log_every = 100;         // steps between on_log calls
  DeviceOptions device;
  ProgressMode progress = ProgressMode::kAuto;
  std::function<void(const TrainLog&)> on_log;

  void Check(const std::string& where = "ddpm train") const;
  // The eps-model metadata of the trained model.
  EpsModelConfig model_config() const;
};

struct TrainResult {
  std::string checkpoint;
  std::string sha256;      // of the checkpoint file
  int64_t steps_done = 0;  // in total
  int64_t steps_this_run = 0;
  int64_t resumed_from = 0;      // step of the checkpoint this run started from (0 = fresh)
  bool stopped_by_time = false;  // max_seconds ended the run before `steps`
  std::vector<float> losses;     // per step, from step 1
  double seconds = 0;            // of this run
  double images_per_second = 0;  // of this run (0 when nothing was trained)
  int64_t parameters = 0;
  nlohmann::json to_json() const;  // everything but the per-step losses' bulk is summarised
};

// Trains on `images` towards options.steps, writing `checkpoint` every checkpoint_every steps and
// at the end (atomically). An existing checkpoint is resumed when it was made with the same
// images (their pixels' sha256) and options; otherwise it is an Error naming what differs. When it
// already has `steps` steps, nothing is trained.
TrainResult train_ddpm(const TrainImages& images, const TrainOptions& options,
                       const std::string& checkpoint);

// The JSON header of a checkpoint (without loading the weights). Throws Error naming the file.
nlohmann::json read_checkpoint_header(const std::string& path);
// The same from a checkpoint's bytes in memory (`bytes`: the file from its start, at least up to
// the end of its header; the weights after it are not looked at). Throws Error prefixed with
// `name`, with read_checkpoint_header's messages.
nlohmann::json parse_checkpoint_header(std::string_view bytes, const std::string& name);
// Whether the file starts with kCheckpointMagic.
bool is_checkpoint_file(const std::string& path);

// Step-by-step training on prepared images, for tests and benchmarks (train_ddpm uses it).
class DdpmTrainer {
 public:
  DdpmTrainer(TrainImages data, const TrainOptions& options);
  ~DdpmTrainer();
  DdpmTrainer(DdpmTrainer&&) noexcept;
  DdpmTrainer& operator=(DdpmTrainer&&) noexcept;

  // One optimisation step (step_count() + 1); returns its loss.
  float step();
  int64_t step_count() const;
  const std::vector<float>& losses() const;
  int64_t parameter_count() const;
  // sha256 of the prepared pixels (what a checkpoint must have been trained on to be resumed).
  const std::string& data_sha256() const;

  // Mean squared eps error of the current (not EMA) weights on a fixed batch: the first
  // min(n, images) images at timesteps and noise drawn from `seed`. No gradient, no state change.
  float fixed_batch_loss(int64_t n, uint64_t seed) const;

  // Writes a checkpoint (atomically); `extra` is merged into its header's "training".
  void save_checkpoint(const std::string& path, const nlohmann::json& extra = {}) const;
  // Restores weights, EMA, optimiser, step and losses. Throws Error naming the file when it was
  // made with other data or options.
  void load_checkpoint(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace repbench::diffusion
