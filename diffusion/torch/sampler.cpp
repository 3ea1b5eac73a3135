// DDPM ancestral sampling and RePaint in the LibTorch plugin (see sampler.h for the exact steps
// and their sources): DiffusionModel's backend.
#include "diffusion/sampler.h"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "core/error.h"
#include "runtime/torch_runtime.h"
#include "diffusion/image_prep.h"
#include "core/rng.h"
#include "diffusion/impl/torch_entry.h"
#include "diffusion/torch/backends.h"
#include "diffusion/torch/eps_net.h"

namespace repbench::diffusion {

namespace {

class TorchModel : public impl::ModelBackend {
 public:
  EpsModelInfo info_;
  std::unique_ptr<impl::EpsNet> net;
  c10::Device device{c10::kCPU};
  DiffusionSchedule base;

  DiffusionSchedule schedule(const std::string& respacing) const {
    return base.respaced(space_timesteps(base.size(), respacing));
  }

  std::string where() const {
    return info_.format == ModelFormat::kNull ? std::string("null model") : info_.path;
  }

  // One generator per image (seeded from the image's seed), on the CPU.
  static std::vector<at::Generator> generators(const std::vector<uint64_t>& seeds) {
    std::vector<at::Generator> g;
    g.reserve(seeds.size());
    for (const uint64_t s : seeds)
      g.push_back(at::make_generator<at::CPUGeneratorImpl>(derive_seed(s, 1)));
    return g;
  }

  // Standard normal noise [n, C, S, S], image i from generator i.
  torch::Tensor noise(std::vector<at::Generator>& gens) const {
    const int64_t c = info_.config.channels, s = info_.config.image_size;
    std::vector<torch::Tensor> parts;
    parts.reserve(gens.size());
    for (auto& g : gens) parts.push_back(at::randn({c, s, s}, g, torch::kFloat));
    return torch::stack(parts).to(device);
  }

  torch::Tensor labels(const std::vector<int64_t>& y) const {
    if (info_.config.num_classes == 0) return {};
    return torch::tensor(y, torch::kLong).to(device);
  }

  // guided-diffusion p_sample at step i: x_i -> x_{i-1}.
  torch::Tensor p_sample(const torch::Tensor& x, int64_t i, const DiffusionSchedule& s,
                         const torch::Tensor& y, bool clip,
                         std::vector<at::Generator>& gens) const {
    const int64_t b = x.size(0), c = info_.config.channels;
    const torch::Tensor t = torch::full({b}, s.timestep_map[i],
                                        torch::TensorOptions().dtype(torch::kLong).device(device));
    const torch::Tensor out =
        runtime::run_translating_errors(where(), [&] { return net->forward(x, t, y); });
    const int64_t want_c = info_.config.learn_sigma ? 2 * c : c;
    if (out.dim() != 4 || out.size(0) != b || out.size(1) != want_c || out.size(2) != x.size(2) ||
        out.size(3) != x.size(3))
      fail(
          "{}: output [{}] does not match the metadata (channels {}, learn_sigma {}): expected "
          "[{}, "
          "{}, {}, {}]",
          where(), fmt::join(out.sizes(), ", "), c, info_.config.learn_sigma, b, want_c, x.size(2),
          x.size(3));
    const torch::Tensor eps = out.slice(1, 0, c).to(torch::kFloat);
    torch::Tensor pred_x0 = x * static_cast<float>(s.sqrt_recip_alphas_cumprod[i]) -
                            eps * static_cast<float>(s.sqrt_recipm1_alphas_cumprod[i]);
    if (clip) pred_x0 = pred_x0.clamp(-1.0, 1.0);
    const torch::Tensor mean = pred_x0 * static_cast<float>(s.posterior_mean_coef1[i]) +
                               x * static_cast<float>(s.posterior_mean_coef2[i]);
    if (i == 0) return mean;  // no noise at the last step
    const torch::Tensor z = noise(gens);
    if (info_.config.learn_sigma) {
      // Learned range: frac in [0, 1] interpolates between the posterior and beta_t log variances.
      const torch::Tensor frac = (out.slice(1, c, 2 * c).to(torch::kFloat) + 1.0) * 0.5;
      const double max_log = std::log(s.betas[i]), min_log = s.posterior_log_variance_clipped[i];
      const torch::Tensor log_var =
          frac * static_cast<float>(max_log) + (1.0 - frac) * static_cast<float>(min_log);
      return mean + torch::exp(0.5 * log_var) * z;
    }
    // Fixed: posterior variance (sigma_small) or beta_t (FIXED_LARGE; its step-0 value is unused).
    const double log_var =
        info_.config.sigma_small ? s.posterior_log_variance_clipped[i] : std::log(s.betas[i]);
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

  const EpsModelInfo& info() const override { return info_; }

  Images sample(const std::vector<uint64_t>& seeds, const std::vector<int64_t>& label_list,
                const SampleOptions& options, const StepCallback& on_step) const override {
    const DiffusionSchedule s = schedule(options.timestep_respacing);
    torch::NoGradGuard no_grad;
    std::vector<at::Generator> gens = generators(seeds);
    const torch::Tensor y = labels(label_list);
    torch::Tensor x = noise(gens);
    for (int64_t i = s.size() - 1; i >= 0; --i) {
      x = p_sample(x, i, s, y, options.clip_denoised, gens);
      if (on_step) on_step(s.size() - i, s.size());
    }
    return to_images(x);
  }

  Images repaint(const Images& known, const std::vector<uint8_t>& keep,
                 const std::vector<uint64_t>& seeds, const std::vector<int64_t>& label_list,
                 const RePaintOptions& options, const StepCallback& on_step) const override {
    const int64_t side = info_.config.image_size;
    const DiffusionSchedule s = schedule(options.timestep_respacing);
    const std::vector<int64_t> times = repaint_times(options.jump_params(s.size()));
    int64_t total = 0;
    for (size_t k = 0; k + 1 < times.size(); ++k) total += times[k + 1] < times[k];

    torch::NoGradGuard no_grad;
    std::vector<at::Generator> gens = generators(seeds);
    const torch::Tensor y = labels(label_list);
    const torch::Tensor gt = to_device(known);
    const torch::Tensor mask = torch::from_blob(const_cast<uint8_t*>(keep.data()),
                                                {known.n, 1, side, side}, torch::kUInt8)
                                   .ge(128)
                                   .to(device);
    torch::Tensor x = noise(gens);
    bool first = true;
    int64_t done = 0;
    for (size_t k = 0; k + 1 < times.size(); ++k) {
      const int64_t t_last = times[k], t_cur = times[k + 1];
      if (t_cur < t_last) {
        if (!first) {
          // Known region <- the original noised to level t_last (fresh noise).
          const double ac = s.alphas_cumprod[t_last];
          const torch::Tensor known_t = gt * static_cast<float>(std::sqrt(ac)) +
                                        noise(gens) * static_cast<float>(std::sqrt(1.0 - ac));
          x = torch::where(mask, known_t, x);
        }
        x = p_sample(x, t_last, s, y, options.clip_denoised, gens);
        first = false;
        if (on_step) on_step(++done, total);
      } else {
        // Re-noise one step: q(x_{t+1} | x_t).
        const double beta = s.betas[t_last + 1];
        x = x * static_cast<float>(std::sqrt(1.0 - beta)) +
            noise(gens) * static_cast<float>(std::sqrt(beta));
      }
    }
    if (options.paste_known) x = torch::where(mask, gt, x);
    return to_images(x);
  }
};

}  // namespace

namespace impl {

std::unique_ptr<ModelBackend> load_model_torch(const std::string& path,
                                               const DeviceOptions& device) {
  auto m = std::make_unique<TorchModel>();
  m->device = runtime::resolve_device(device.device);
  runtime::set_torch_threads(device.threads);
  m->net = load_eps_net(path, m->device, &m->info_);
  m->base = DiffusionSchedule::from_betas(m->info_.config.betas());
  return m;
}

std::unique_ptr<ModelBackend> null_model_torch(const EpsModelConfig& config,
                                               const DeviceOptions& device) {
  auto m = std::make_unique<TorchModel>();
  m->device = runtime::resolve_device(device.device);
  runtime::set_torch_threads(device.threads);
  m->info_.format = ModelFormat::kNull;
  m->info_.path = "null";
  m->info_.config = config;
  m->net = make_null_net(config);
  m->base = DiffusionSchedule::from_betas(config.betas());
  return m;
}

}  // namespace impl

}  // namespace repbench::diffusion
