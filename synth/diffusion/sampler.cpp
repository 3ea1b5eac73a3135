// DDPM ancestral sampling and RePaint (see sampler.h for the exact steps and their sources).
#include "synth/diffusion/sampler.h"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "core/error.h"
#include "runtime/torch_runtime.h"
#include "synth/diffusion/image_prep.h"
#include "synth/diffusion/impl/eps_net.h"
#include "synth/diffusion/impl/rng.h"

namespace repbench::synth::diffusion {

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
  return impl::derive_seed(seed, 0x1A6E5EEDull, static_cast<uint64_t>(index));
}

struct DiffusionModel::Impl {
  EpsModelInfo info;
  std::unique_ptr<impl::EpsNet> net;
  c10::Device device{c10::kCPU};
  DiffusionSchedule base;

  DiffusionSchedule schedule(const std::string& respacing) const {
    return base.respaced(space_timesteps(base.size(), respacing));
  }

  std::string where() const {
    return info.format == ModelFormat::kNull ? std::string("null model") : info.path;
  }

  // One generator per image (seeded from the image's seed), on the CPU.
  static std::vector<at::Generator> generators(const std::vector<uint64_t>& seeds) {
    std::vector<at::Generator> g;
    g.reserve(seeds.size());
    for (const uint64_t s : seeds)
      g.push_back(at::make_generator<at::CPUGeneratorImpl>(impl::derive_seed(s, 1)));
    return g;
  }

  // Standard normal noise [n, C, S, S], image i from generator i.
  torch::Tensor noise(std::vector<at::Generator>& gens) const {
    const int64_t c = info.config.channels, s = info.config.image_size;
    std::vector<torch::Tensor> parts;
    parts.reserve(gens.size());
    for (auto& g : gens) parts.push_back(at::randn({c, s, s}, g, torch::kFloat));
    return torch::stack(parts).to(device);
  }

  torch::Tensor labels(const std::vector<uint64_t>& seeds, int class_label,
                       const DiffusionModel& owner) const {
    if (info.config.num_classes == 0) return {};
    std::vector<int64_t> y;
    for (const uint64_t s : seeds) y.push_back(owner.label_for_seed(s, class_label));
    return torch::tensor(y, torch::kLong).to(device);
  }

  // guided-diffusion p_sample at step i: x_i -> x_{i-1}.
  torch::Tensor p_sample(const torch::Tensor& x, int64_t i, const DiffusionSchedule& s,
                         const torch::Tensor& y, bool clip,
                         std::vector<at::Generator>& gens) const {
    const int64_t b = x.size(0), c = info.config.channels;
    const torch::Tensor t = torch::full({b}, s.timestep_map[i],
                                        torch::TensorOptions().dtype(torch::kLong).device(device));
    const torch::Tensor out =
        runtime::run_translating_errors(where(), [&] { return net->forward(x, t, y); });
    const int64_t want_c = info.config.learn_sigma ? 2 * c : c;
    if (out.dim() != 4 || out.size(0) != b || out.size(1) != want_c || out.size(2) != x.size(2) ||
        out.size(3) != x.size(3))
      fail(
          "{}: output [{}] does not match the metadata (channels {}, learn_sigma {}): expected "
          "[{}, "
          "{}, {}, {}]",
          where(), fmt::join(out.sizes(), ", "), c, info.config.learn_sigma, b, want_c, x.size(2),
          x.size(3));
    const torch::Tensor eps = out.slice(1, 0, c).to(torch::kFloat);
    torch::Tensor pred_x0 = x * static_cast<float>(s.sqrt_recip_alphas_cumprod[i]) -
                            eps * static_cast<float>(s.sqrt_recipm1_alphas_cumprod[i]);
    if (clip) pred_x0 = pred_x0.clamp(-1.0, 1.0);
    const torch::Tensor mean = pred_x0 * static_cast<float>(s.posterior_mean_coef1[i]) +
                               x * static_cast<float>(s.posterior_mean_coef2[i]);
    if (i == 0) return mean;  // no noise at the last step
    const torch::Tensor z = noise(gens);
    if (info.config.learn_sigma) {
      // Learned range: frac in [0, 1] interpolates between the posterior and beta_t log variances.
      const torch::Tensor frac = (out.slice(1, c, 2 * c).to(torch::kFloat) + 1.0) * 0.5;
      const double max_log = std::log(s.betas[i]), min_log = s.posterior_log_variance_clipped[i];
      const torch::Tensor log_var =
          frac * static_cast<float>(max_log) + (1.0 - frac) * static_cast<float>(min_log);
      return mean + torch::exp(0.5 * log_var) * z;
    }
    // Fixed: posterior variance (sigma_small) or beta_t (FIXED_LARGE; its step-0 value is unused).
    const double log_var =
        info.config.sigma_small ? s.posterior_log_variance_clipped[i] : std::log(s.betas[i]);
    return mean + z * static_cast<float>(std::exp(0.5 * log_var));
  }

  torch::Tensor to_device(const Images& im) const {
    return torch::from_blob(const_cast<float*>(im.data.data()), {im.n, im.c, im.h, im.w},
                            torch::kFloat)
        .to(device);
  }

  static Images to_images(const torch::Tensor& x) {
    const torch::Tensor c = x.to(torch::kCPU, torch::kFloat).contiguous();
    Images im;
    im.n = c.size(0);
    im.c = c.size(1);
    im.h = c.size(2);
    im.w = c.size(3);
    im.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    return im;
  }
};

DiffusionModel::DiffusionModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DiffusionModel::DiffusionModel(const std::string& path, const DeviceOptions& device)
    : impl_(std::make_unique<Impl>()) {
  impl_->device = runtime::resolve_device(device.device);
  runtime::set_torch_threads(device.threads);
  impl_->net = impl::load_eps_net(path, impl_->device, &impl_->info);
  impl_->base = DiffusionSchedule::from_betas(impl_->info.config.betas());
}

DiffusionModel DiffusionModel::null_model(const EpsModelConfig& config,
                                          const DeviceOptions& device) {
  config.Check("null model");
  auto impl = std::make_unique<Impl>();
  impl->device = runtime::resolve_device(device.device);
  runtime::set_torch_threads(device.threads);
  impl->info.format = ModelFormat::kNull;
  impl->info.path = "null";
  impl->info.config = config;
  impl->net = impl::make_null_net(config);
  impl->base = DiffusionSchedule::from_betas(config.betas());
  return DiffusionModel(std::move(impl));
}

DiffusionModel::~DiffusionModel() = default;
DiffusionModel::DiffusionModel(DiffusionModel&&) noexcept = default;
DiffusionModel& DiffusionModel::operator=(DiffusionModel&&) noexcept = default;

const EpsModelInfo& DiffusionModel::info() const {
  return impl_->info;
}

int DiffusionModel::label_for_seed(uint64_t seed, int class_label) const {
  const int n = impl_->info.config.num_classes;
  if (n == 0) return -1;
  if (class_label >= n)
    fail("{}: class label {} is outside the model's {} classes", impl_->where(), class_label, n);
  if (class_label >= 0) return class_label;
  impl::Rng rng(impl::derive_seed(seed, 2));
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

Images DiffusionModel::sample(const std::vector<uint64_t>& seeds, const SampleOptions& options,
                              const StepCallback& on_step) const {
  options.Check();
  if (seeds.empty()) return {};
  const Impl& m = *impl_;
  const DiffusionSchedule s = m.schedule(options.timestep_respacing);
  torch::NoGradGuard no_grad;
  std::vector<at::Generator> gens = Impl::generators(seeds);
  const torch::Tensor y = m.labels(seeds, options.class_label, *this);
  torch::Tensor x = m.noise(gens);
  for (int64_t i = s.size() - 1; i >= 0; --i) {
    x = m.p_sample(x, i, s, y, options.clip_denoised, gens);
    if (on_step) on_step(s.size() - i, s.size());
  }
  return Impl::to_images(x);
}

Images DiffusionModel::repaint(const Images& known, const std::vector<uint8_t>& keep,
                               const std::vector<uint64_t>& seeds, const RePaintOptions& options,
                               const StepCallback& on_step) const {
  options.Check();
  const Impl& m = *impl_;
  const EpsModelConfig& cfg = m.info.config;
  const int64_t side = cfg.image_size, hw = side * side;
  if (known.n != static_cast<int64_t>(seeds.size()))
    fail("RePaint: {} images but {} seeds", known.n, seeds.size());
  if (known.n == 0) return {};
  if (known.c != cfg.channels || known.h != side || known.w != side)
    fail("RePaint: images are {}x{}x{}, the model {} works at {}x{}x{}", known.c, known.h, known.w,
         m.where(), cfg.channels, side, side);
  if (static_cast<int64_t>(keep.size()) != known.n * hw)
    fail("RePaint: {} mask bytes for {} masks of {}x{}", keep.size(), known.n, side, side);
  for (int64_t i = 0; i < known.n; ++i) {
    const MaskCounts mc = count_mask(keep.data() + i * hw, hw);
    if (mc.keep == 0) fail("RePaint: mask {} keeps nothing (255 = keep, 0 = generate)", i);
    if (mc.generate == 0)
      fail("RePaint: mask {} leaves nothing to generate (255 = keep, 0 = generate)", i);
  }
  const DiffusionSchedule s = m.schedule(options.timestep_respacing);
  const std::vector<int64_t> times = repaint_times(options.jump_params(s.size()));
  int64_t total = 0;
  for (size_t k = 0; k + 1 < times.size(); ++k) total += times[k + 1] < times[k];

  torch::NoGradGuard no_grad;
  std::vector<at::Generator> gens = Impl::generators(seeds);
  const torch::Tensor y = m.labels(seeds, options.class_label, *this);
  const torch::Tensor gt = m.to_device(known);
  const torch::Tensor mask =
      torch::from_blob(const_cast<uint8_t*>(keep.data()), {known.n, 1, side, side}, torch::kUInt8)
          .ge(128)
          .to(m.device);
  torch::Tensor x = m.noise(gens);
  bool first = true;
  int64_t done = 0;
  for (size_t k = 0; k + 1 < times.size(); ++k) {
    const int64_t t_last = times[k], t_cur = times[k + 1];
    if (t_cur < t_last) {
      if (!first) {
        // Known region <- the original noised to level t_last (fresh noise).
        const double ac = s.alphas_cumprod[t_last];
        const torch::Tensor known_t = gt * static_cast<float>(std::sqrt(ac)) +
                                      m.noise(gens) * static_cast<float>(std::sqrt(1.0 - ac));
        x = torch::where(mask, known_t, x);
      }
      x = m.p_sample(x, t_last, s, y, options.clip_denoised, gens);
      first = false;
      if (on_step) on_step(++done, total);
    } else {
      // Re-noise one step: q(x_{t+1} | x_t).
      const double beta = s.betas[t_last + 1];
      x = x * static_cast<float>(std::sqrt(1.0 - beta)) +
          m.noise(gens) * static_cast<float>(std::sqrt(beta));
    }
  }
  if (options.paste_known) x = torch::where(mask, gt, x);
  return Impl::to_images(x);
}

}  // namespace repbench::synth::diffusion
