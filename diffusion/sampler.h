// DiffusionModel: a noise-prediction model and the samplers that run it: DDPM ancestral sampling
// with timestep respacing, and RePaint inpainting (Lugmayr et al. 2022). Torch-free header.
//
// Two kinds of model file are accepted, told apart by their first bytes:
//   - a TorchScript archive (a zip, torch.jit.save) with a metadata.json extra file
//     (diffusion/model_config.h): any eps-model a user brings, e.g. guided-diffusion's
//     256x256 ImageNet model exported by scripts/export_models.py --guided-diffusion;
//   - a repbench DDPM checkpoint (diffusion/ddpm.h), sampled with its EMA weights.
//
// Sampling follows guided-diffusion's GaussianDiffusion.p_sample with model_mean_type EPSILON:
//   pred_x0 = sqrt(1/abar_t) x_t - sqrt(1/abar_t - 1) eps      (clamped to [-1, 1] when clipping)
//   mean    = coef1_t pred_x0 + coef2_t x_t
//   x_{t-1} = mean + exp(log_var_t / 2) z   (no noise at t = 0)
// with log_var_t: learned range (learn_sigma: frac = (v + 1) / 2, frac log beta_t + (1 - frac)
// log posterior_var_t), else posterior variance (sigma_small) or beta_t (guided-diffusion's
// default, FIXED_LARGE). The model sees the original timestep of each respaced step.
//
// RePaint follows andreas128/RePaint (gaussian_diffusion.py p_sample_loop_progressive with
// schedule_jump_params, inpa_inj_sched_prev true, inpa_inj_sched_prev_cumnoise false): the walk
// of repaint_times(); before every reverse step but the first, the known region of x_t is replaced
// by the forward-noised original sqrt(abar_t) x0 + sqrt(1 - abar_t) z (fresh z); a step up from t
// to t + 1 re-noises x with sqrt(1 - beta_{t+1}) x + sqrt(beta_{t+1}) z. Unlike the reference code,
// whose output keeps the model's reconstruction of the known region, the last step of the paper's
// Algorithm 1 is applied (x_0 = m * x0 + (1 - m) * x_0^unknown, paste_known), so kept pixels are
// exactly the original's. Classifier guidance (the ImageNet config's classifier_scale 1.0) is not
// implemented: the sampler is guided by the known region only.
//
// Randomness: each image has its own seed; its noise comes from its own CPU generator (then moved
// to the device), so an image's result does not depend on the device's generator; with the same
// options, batch composition and thread count the same seeds give the same values.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.h"

#include "diffusion/model_config.h"
#include "diffusion/schedule.h"

namespace repbench::diffusion {

struct DeviceOptions {
  std::string device = "cpu";  // cpu | cuda | cuda:N
  int threads = 0;             // LibTorch intra-op threads (0 = all cores)
};

enum class ModelFormat { kTorchScript, kCheckpoint, kNull };
const char* to_string(ModelFormat format);  // "torchscript" | "repbench-ddpm" | "null"

struct EpsModelInfo {
  std::string path;
  std::string sha256;  // of the whole file ("" for the null model)
  ModelFormat format = ModelFormat::kTorchScript;
  EpsModelConfig config;
  // Checkpoints: how the model was trained (steps, images, batch size, learning rate, seed, data
  // sha256, and the mean loss of the first and last 100 steps); null for TorchScript models.
  nlohmann::json training;
  // {"path", "sha256", "format", "config": metadata[, "training"]} for records.
  nlohmann::json to_json() const;
};

// The format, sha256 and metadata of a model file, without loading its weights. Throws Error
// naming the file when it is neither format or its metadata is missing or invalid.
EpsModelInfo inspect_eps_model(const std::string& path);

// Float images [n, c, h, w] in [-1, 1]: data[((i * c + k) * h + y) * w + x].
struct Images {
  int64_t n = 0, c = 0, h = 0, w = 0;
  std::vector<float> data;
  int64_t image_size() const { return c * h * w; }
  float* image(int64_t i) { return data.data() + i * image_size(); }
  const float* image(int64_t i) const { return data.data() + i * image_size(); }
};

// Plain DDPM sampling.
struct SampleOptions {
  std::string timestep_respacing;  // space_timesteps() counts, "" = every training step
  bool clip_denoised = true;       // clamp pred_x0 to [-1, 1] (guided-diffusion's default)
  int class_label = -1;            // class-conditional models: -1 = uniform random per image

  void Check(const std::string& where = "sampling") const;
  nlohmann::json to_json() const;
};

// RePaint. Defaults: the ImageNet configuration (confs/test_inet256_*.yml): 250 respaced steps,
// t_T 250, n_sample 1, jump_length 10, jump_n_sample 10, clip_denoised true, random class.
struct RePaintOptions {
  std::string timestep_respacing = "250";  // "" = every training step
  int64_t t_T = 0;                         // 0 = the number of respaced steps
  int64_t n_sample = 1;
  int64_t jump_length = 10;
  int64_t jump_n_sample = 10;
  bool clip_denoised = true;
  int class_label = -1;     // class-conditional models: -1 = uniform random per image
  bool paste_known = true;  // final x_0 keeps the original's known pixels (paper, Algorithm 1)

  void Check(const std::string& where = "RePaint") const;
  // The jump schedule for a respaced schedule of `steps` steps.
  JumpParams jump_params(int64_t steps) const;
  nlohmann::json to_json() const;
};

// The seed of image `index` of a run seeded with `seed` (what `repbench ddpm sample` uses).
uint64_t image_seed(uint64_t seed, int64_t index);

// Called after each model evaluation: (done, total).
using StepCallback = std::function<void(int64_t, int64_t)>;

class DiffusionModel {
 public:
  // Loads `path` (format chosen by content, see above). Throws Error naming the file.
  explicit DiffusionModel(const std::string& path, const DeviceOptions& device = {});
  // An eps-model that predicts zeros (for measuring the sampler's own cost).
  static DiffusionModel null_model(const EpsModelConfig& config, const DeviceOptions& device = {});
  ~DiffusionModel();
  DiffusionModel(DiffusionModel&&) noexcept;
  DiffusionModel& operator=(DiffusionModel&&) noexcept;

  const EpsModelInfo& info() const;
  const EpsModelConfig& config() const { return info().config; }

  // Draws seeds.size() images [n, C, S, S] (S = image_size), one seed per image, in one batch.
  Images sample(const std::vector<uint64_t>& seeds, const SampleOptions& options,
                const StepCallback& on_step = {}) const;

  // Inpaints a batch: known [n, C, S, S] in [-1, 1], keep [n, S, S] bytes (255 = keep, 0 =
  // generate; any value >= 128 counts as keep), one seed per image. Returns [n, C, S, S]. Throws
  // Error when sizes disagree with the model or a mask keeps nothing or everything.
  Images repaint(const Images& known, const std::vector<uint8_t>& keep,
                 const std::vector<uint64_t>& seeds, const RePaintOptions& options,
                 const StepCallback& on_step = {}) const;

  // The class label each seed gets (-1 for unconditional models) under `class_label`.
  int label_for_seed(uint64_t seed, int class_label) const;

  // Model evaluations of one RePaint run / one plain sampling run with these options.
  int64_t repaint_model_calls(const RePaintOptions& options) const;
  int64_t sample_model_calls(const SampleOptions& options) const;

  struct Impl;

 private:
  explicit DiffusionModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Draws `count` images into `out_dir`/NNNNNN.png, image i from image_seed(seed, i), in fixed
// batches of `batch` indices (so an image does not depend on how many were asked for). A batch
// whose images all exist is skipped: a rerun after a kill redoes only the missing batches. Each
// PNG is written atomically. What `repbench ddpm sample` and the copying experiment run.
struct FolderSampleResult {
  int64_t written = 0;  // images drawn by this call
  int64_t kept = 0;     // images already there
};
FolderSampleResult sample_to_folder(const DiffusionModel& model, int64_t count, uint64_t seed,
                                    int batch, const SampleOptions& options,
                                    const std::string& out_dir, ProgressMode progress,
                                    const std::string& label = "ddpm sample (images)");

}  // namespace repbench::diffusion
