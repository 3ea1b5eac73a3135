// DiffusionModel's torch-free half: the options, the checks of a call's inputs, class labels and
// step counts; loading and running the network is the LibTorch plugin's (torch/sampler.cpp).
#include "diffusion/sampler.h"

#include "core/error.h"
#include "diffusion/image_prep.h"
#include "core/rng.h"
#include "diffusion/impl/torch_entry.h"
#include "runtime/torch_plugin.h"

namespace repbench::diffusion {

void SampleOptions::Check(const std::string& where) const {
  if (class_label < -1)
    fail("{}: class label must be >= 0, or -1 for random; got {}", where, class_label);
}

nlohmann::json SampleOptions::to_json() const {
  return {
      {"timestep_respacing", timestep_respacing},
      {"clip_denoised", clip_denoised},
      {"class_label", class_label < 0 ? nlohmann::json("random") : nlohmann::json(class_label)}};
}

void RePaintOptions::Check(const std::string& where) const {
  if (t_T < 0) fail("{}: t_T must be >= 0 (0 = the number of respaced steps); got {}", where, t_T);
  if (class_label < -1)
    fail("{}: class label must be >= 0, or -1 for random; got {}", where, class_label);
  JumpParams p;
  p.t_T = t_T > 0 ? t_T : 1000000;  // the step count is not known here; checked again later
  p.n_sample = n_sample;
  p.jump_length = jump_length;
  p.jump_n_sample = jump_n_sample;
  p.Check(where);
}

JumpParams RePaintOptions::jump_params(int64_t steps) const {
  JumpParams p;
  p.t_T = t_T > 0 ? t_T : steps;
  if (p.t_T > steps)
    fail("RePaint: t_T {} exceeds the {} steps of the respaced schedule (\"{}\")", p.t_T, steps,
         timestep_respacing);
  p.n_sample = n_sample;
  p.jump_length = jump_length;
  p.jump_n_sample = jump_n_sample;
  p.Check("RePaint");
  return p;
}

nlohmann::json RePaintOptions::to_json() const {
  return {{"timestep_respacing", timestep_respacing},
          {"t_T", t_T == 0 ? nlohmann::json("steps") : nlohmann::json(t_T)},
          {"n_sample", n_sample},
          {"jump_length", jump_length},
          {"jump_n_sample", jump_n_sample},
          {"clip_denoised", clip_denoised},
          {"class_label", class_label < 0 ? nlohmann::json("random") : nlohmann::json(class_label)},
          {"paste_known", paste_known},
          {"classifier_guidance", false},
          {"known_region_injection", "before each reverse step, fresh noise (RePaint reference)"}};
}

uint64_t image_seed(uint64_t seed, int64_t index) {
  return derive_seed(seed, 0x1A6E5EEDull, static_cast<uint64_t>(index));
}

namespace impl {

const TorchEntry& torch_entry() {
  return runtime::torch_plugin_entry<TorchEntry>(kTorchEntry);
}

}  // namespace impl

struct DiffusionModel::Impl {
  std::unique_ptr<impl::ModelBackend> backend;
  DiffusionSchedule base;  // the training schedule, for step counts

  explicit Impl(std::unique_ptr<impl::ModelBackend> b)
      : backend(std::move(b)), base(DiffusionSchedule::from_betas(backend->info().config.betas())) {}

  std::string where() const {
    const EpsModelInfo& info = backend->info();
    return info.format == ModelFormat::kNull ? std::string("null model") : info.path;
  }
};

DiffusionModel::DiffusionModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DiffusionModel::DiffusionModel(const std::string& path, const DeviceOptions& device)
    : impl_(std::make_unique<Impl>(impl::torch_entry().load_model(path, device))) {}

DiffusionModel DiffusionModel::null_model(const EpsModelConfig& config,
                                          const DeviceOptions& device) {
  config.Check("null model");
  return DiffusionModel(std::make_unique<Impl>(impl::torch_entry().null_model(config, device)));
}

DiffusionModel::~DiffusionModel() = default;
DiffusionModel::DiffusionModel(DiffusionModel&&) noexcept = default;
DiffusionModel& DiffusionModel::operator=(DiffusionModel&&) noexcept = default;

const EpsModelInfo& DiffusionModel::info() const {
  return impl_->backend->info();
}

int DiffusionModel::label_for_seed(uint64_t seed, int class_label) const {
  const int n = info().config.num_classes;
  if (n == 0) return -1;
  if (class_label >= n)
    fail("{}: class label {} is outside the model's {} classes", impl_->where(), class_label, n);
  if (class_label >= 0) return class_label;
  SplitMix64 rng(derive_seed(seed, 2));
  return static_cast<int>(rng.below(static_cast<uint64_t>(n)));
}

int64_t DiffusionModel::sample_model_calls(const SampleOptions& options) const {
  return static_cast<int64_t>(
      space_timesteps(impl_->base.size(), options.timestep_respacing).size());
}

int64_t DiffusionModel::repaint_model_calls(const RePaintOptions& options) const {
  const int64_t steps =
      static_cast<int64_t>(space_timesteps(impl_->base.size(), options.timestep_respacing).size());
  const std::vector<int64_t> ts = repaint_times(options.jump_params(steps));
  int64_t calls = 0;
  for (size_t k = 0; k + 1 < ts.size(); ++k) calls += ts[k + 1] < ts[k];
  return calls;
}

namespace {

// The class label of each seed; empty for an unconditional model.
std::vector<int64_t> labels_of(const DiffusionModel& model, const std::vector<uint64_t>& seeds,
                               int class_label) {
  std::vector<int64_t> y;
  if (model.config().num_classes == 0) return y;
  for (const uint64_t s : seeds) y.push_back(model.label_for_seed(s, class_label));
  return y;
}

}  // namespace

Images DiffusionModel::sample(const std::vector<uint64_t>& seeds, const SampleOptions& options,
                              const StepCallback& on_step) const {
  options.Check();
  if (seeds.empty()) return {};
  return impl_->backend->sample(seeds, labels_of(*this, seeds, options.class_label), options,
                                on_step);
}

Images DiffusionModel::repaint(const Images& known, const std::vector<uint8_t>& keep,
                               const std::vector<uint64_t>& seeds, const RePaintOptions& options,
                               const StepCallback& on_step) const {
  options.Check();
  const EpsModelConfig& cfg = config();
  const int64_t side = cfg.image_size, hw = side * side;
  if (known.n != static_cast<int64_t>(seeds.size()))
    fail("RePaint: {} images but {} seeds", known.n, seeds.size());
  if (known.n == 0) return {};
  if (known.c != cfg.channels || known.h != side || known.w != side)
    fail("RePaint: images are {}x{}x{}, the model {} works at {}x{}x{}", known.c, known.h, known.w,
         impl_->where(), cfg.channels, side, side);
  if (static_cast<int64_t>(keep.size()) != known.n * hw)
    fail("RePaint: {} mask bytes for {} masks of {}x{}", keep.size(), known.n, side, side);
  for (int64_t i = 0; i < known.n; ++i) {
    const MaskCounts mc = count_mask(keep.data() + i * hw, hw);
    if (mc.keep == 0) fail("RePaint: mask {} keeps nothing (255 = keep, 0 = generate)", i);
    if (mc.generate == 0)
      fail("RePaint: mask {} leaves nothing to generate (255 = keep, 0 = generate)", i);
  }
  return impl_->backend->repaint(known, keep, seeds, labels_of(*this, seeds, options.class_label),
                                 options, on_step);
}

}  // namespace repbench::diffusion
