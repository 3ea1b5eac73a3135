// DDPM training of the built-in UNet in the LibTorch plugin: DdpmTrainer's backend (see ddpm.h).
#include <cmath>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/sha256.h"
#include "runtime/torch_runtime.h"
#include "diffusion/ddpm.h"
#include "diffusion/impl/checkpoint_file.h"
#include "core/rng.h"
#include "diffusion/torch/backends.h"
#include "diffusion/torch/unet.h"

namespace repbench::diffusion {

namespace {

// Streams of derive_seed(seed, stream, k).
enum Stream : uint64_t { kInit = 10, kStepDraws = 11, kStepNoise = 12, kEpoch = 13, kDropout = 14 };

// The options a checkpoint must share with a run that resumes it.
nlohmann::json fingerprint(const TrainOptions& o, const std::string& data_sha256, int64_t n) {
  return {{"seed", o.seed},
          {"batch_size", o.batch_size},
          {"lr", o.lr},
          {"ema_decay", o.ema_decay},
          {"grad_clip", o.grad_clip},
          {"random_flip", o.random_flip},
          {"data_sha256", data_sha256},
          {"images", n}};
}

struct State {
  TrainImages data;
  TrainOptions opts;
  c10::Device device{c10::kCPU};
  impl::UNet model{nullptr}, ema{nullptr};
  std::unique_ptr<torch::optim::Adam> optim;
  torch::Tensor sqrt_ac, sqrt_1m_ac;  // [T] float on device
  torch::Tensor pixels;               // uint8 [N, S, S, C] on the CPU
  int64_t step = 0;
  std::vector<float> losses;
  std::string data_sha;
  int64_t perm_epoch = -1;
  std::vector<int64_t> perm;

  const std::vector<int64_t>& permutation(int64_t epoch) {
    if (epoch != perm_epoch) {
      perm.resize(static_cast<size_t>(data.n));
      for (int64_t i = 0; i < data.n; ++i) perm[i] = i;
      SplitMix64 rng(derive_seed(opts.seed, kEpoch, static_cast<uint64_t>(epoch)));
      for (int64_t i = data.n - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);
      perm_epoch = epoch;
    }
    return perm;
  }

  // x0 [B, C, S, S] in [-1, 1] (CPU) of the given images, flipped where asked.
  torch::Tensor batch_x0(const std::vector<int64_t>& idx, const std::vector<bool>& flip) const {
    const torch::Tensor sel = pixels.index_select(0, torch::tensor(idx, torch::kLong));
    torch::Tensor x = sel.permute({0, 3, 1, 2}).to(torch::kFloat).div(127.5).sub(1.0);
    std::vector<uint8_t> f(flip.begin(), flip.end());
    const torch::Tensor fm = torch::tensor(f, torch::kUInt8).to(torch::kBool).view({-1, 1, 1, 1});
    return torch::where(fm, x.flip({3}), x).contiguous();
  }

  // MSE of eps on x0 at timesteps t (CPU int64 [B]) with noise (CPU float).
  torch::Tensor loss(const torch::Tensor& x0, const torch::Tensor& t, const torch::Tensor& noise) {
    const torch::Tensor x0d = x0.to(device), nd = noise.to(device), td = t.to(device);
    const torch::Tensor a = sqrt_ac.index_select(0, td).view({-1, 1, 1, 1});
    const torch::Tensor b = sqrt_1m_ac.index_select(0, td).view({-1, 1, 1, 1});
    const torch::Tensor xt = a * x0d + b * nd;
    return torch::mse_loss(model->forward(xt, td), nd);
  }

  void ema_update() {
    torch::NoGradGuard no_grad;
    // Warm-up decay: the EMA of a short run follows the weights instead of the initialisation.
    const double k = static_cast<double>(step);
    const double d = std::min(opts.ema_decay, (1.0 + k) / (10.0 + k));
    auto p = model->parameters();
    auto e = ema->parameters();
    for (size_t i = 0; i < p.size(); ++i) e[i].mul_(d).add_(p[i].detach(), 1.0 - d);
  }
};

class TorchTrainer : public impl::TrainerBackend {
 public:
  TorchTrainer(TrainImages data, const TrainOptions& options);
  float step() override;
  int64_t step_count() const override;
  const std::vector<float>& losses() const override;
  int64_t parameter_count() const override;
  const std::string& data_sha256() const override;
  float fixed_batch_loss(int64_t n, uint64_t seed) const override;
  void save_checkpoint(const std::string& path, const nlohmann::json& extra) const override;
  void load_checkpoint(const std::string& path) override;

 private:
  std::unique_ptr<State> s_ = std::make_unique<State>();
};

}  // namespace

TorchTrainer::TorchTrainer(TrainImages data, const TrainOptions& options) {
  State& m = *s_;
  options.Check();
  if (data.n < 1) fail("ddpm train: no training images");
  if (data.size != options.unet.image_size || data.channels != options.unet.channels)
    fail("ddpm train: images are {}x{} with {} channels, the UNet wants {}x{} with {}", data.size,
         data.size, data.channels, options.unet.image_size, options.unet.image_size,
         options.unet.channels);
  REPBENCH_ASSERT(data.pixels.size() ==
                  static_cast<size_t>(data.n) * data.size * data.size * data.channels);
  m.data = std::move(data);
  m.opts = options;
  m.device = runtime::resolve_device(options.device.device);
  runtime::set_torch_threads(options.device.threads);
  m.data_sha = sha256_hex(
      std::string_view(reinterpret_cast<const char*>(m.data.pixels.data()), m.data.pixels.size()));
  m.pixels = torch::from_blob(m.data.pixels.data(),
                              {m.data.n, m.data.size, m.data.size, m.data.channels}, torch::kUInt8);

  torch::manual_seed(derive_seed(options.seed, kInit));
  m.model = impl::UNet(options.unet);
  m.ema = impl::UNet(options.unet);
  {
    torch::NoGradGuard no_grad;
    auto p = m.model->parameters();
    auto e = m.ema->parameters();
    for (size_t i = 0; i < p.size(); ++i) e[i].copy_(p[i]);
  }
  m.model->to(m.device);
  m.ema->to(m.device);
  m.ema->eval();
  for (auto& p : m.ema->parameters()) p.set_requires_grad(false);
  m.optim = std::make_unique<torch::optim::Adam>(m.model->parameters(),
                                                 torch::optim::AdamOptions(options.lr));
  const DiffusionSchedule s = DiffusionSchedule::from_betas(options.model_config().betas());
  std::vector<float> a, b;
  for (const double ac : s.alphas_cumprod) {
    a.push_back(static_cast<float>(std::sqrt(ac)));
    b.push_back(static_cast<float>(std::sqrt(1.0 - ac)));
  }
  m.sqrt_ac = torch::tensor(a).to(m.device);
  m.sqrt_1m_ac = torch::tensor(b).to(m.device);
}

float TorchTrainer::step() {
  State& m = *s_;
  const int64_t bsz = m.opts.batch_size, k = m.step;
  // Every draw of step k comes from (seed, k): resuming at k continues the same stream.
  SplitMix64 rng(derive_seed(m.opts.seed, kStepDraws, static_cast<uint64_t>(k)));
  std::vector<int64_t> idx(bsz), ts(bsz);
  std::vector<bool> flip(bsz);
  for (int64_t j = 0; j < bsz; ++j) {
    const int64_t p = k * bsz + j;
    idx[j] = m.permutation(p / m.data.n)[p % m.data.n];
    flip[j] = m.opts.random_flip && rng.below(2) == 1;
    ts[j] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(m.opts.timesteps)));
  }
  auto gen = at::make_generator<at::CPUGeneratorImpl>(
      derive_seed(m.opts.seed, kStepNoise, static_cast<uint64_t>(k)));
  const int64_t c = m.data.channels, s = m.data.size;
  const torch::Tensor noise = at::randn({bsz, c, s, s}, gen, torch::kFloat);
  if (m.opts.unet.dropout > 0) torch::manual_seed(derive_seed(m.opts.seed, kDropout, k));

  m.model->train();
  m.optim->zero_grad();
  const torch::Tensor loss = runtime::run_translating_errors("ddpm train", [&] {
    torch::Tensor l = m.loss(m.batch_x0(idx, flip), torch::tensor(ts, torch::kLong), noise);
    l.backward();
    return l;
  });
  if (m.opts.grad_clip > 0)
    torch::nn::utils::clip_grad_norm_(m.model->parameters(), m.opts.grad_clip);
  m.optim->step();
  m.ema_update();
  ++m.step;
  const float v = loss.item<float>();
  if (!std::isfinite(v))
    fail("ddpm train: the loss became {} at step {}; lower the learning rate (--lr {})", v, m.step,
         m.opts.lr);
  m.losses.push_back(v);
  return v;
}

int64_t TorchTrainer::step_count() const {
  return s_->step;
}
const std::vector<float>& TorchTrainer::losses() const {
  return s_->losses;
}
const std::string& TorchTrainer::data_sha256() const {
  return s_->data_sha;
}

int64_t TorchTrainer::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : s_->model->parameters()) n += p.numel();
  return n;
}

float TorchTrainer::fixed_batch_loss(int64_t n, uint64_t seed) const {
  State& m = *s_;
  const int64_t b = std::max<int64_t>(1, std::min(n, m.data.n));
  std::vector<int64_t> idx(b), ts(b);
  SplitMix64 rng(derive_seed(seed, 1));
  for (int64_t j = 0; j < b; ++j) {
    idx[j] = j;
    ts[j] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(m.opts.timesteps)));
  }
  auto gen = at::make_generator<at::CPUGeneratorImpl>(derive_seed(seed, 2));
  const torch::Tensor noise =
      at::randn({b, m.data.channels, m.data.size, m.data.size}, gen, torch::kFloat);
  torch::NoGradGuard no_grad;
  m.model->eval();
  const float v =
      m.loss(m.batch_x0(idx, std::vector<bool>(b, false)), torch::tensor(ts, torch::kLong), noise)
          .item<float>();
  m.model->train();
  return v;
}

namespace {

// Adam's own archive (libtorch's optim/serialize.h) keys its state by the parameters' addresses,
// so the same training wrote other checkpoint bytes on every run, and the demo's dif sets, named
// by the checkpoint's sha256, moved to another folder each time. The state is written by
// parameter index instead ("format" 2); checkpoints written before are read by Adam's own load.
constexpr int64_t kOptimizerStateFormat = 2;

std::string adam_key(const torch::Tensor& p) {
  return c10::guts::to_string(p.unsafeGetTensorImpl());
}

void save_adam_state(const torch::optim::Adam& optim, const std::vector<torch::Tensor>& params,
                     torch::serialize::OutputArchive& out) {
  out.write("format", torch::tensor(kOptimizerStateFormat), /*is_buffer=*/true);
  const auto& state = optim.state();
  for (size_t i = 0; i < params.size(); ++i) {
    const auto it = state.find(adam_key(params[i]));
    if (it == state.end()) continue;  // a parameter that never had a gradient
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
    const std::string p = std::to_string(i);
    out.write(p + ".step", torch::tensor(s.step()), true);
    out.write(p + ".exp_avg", s.exp_avg(), true);
    out.write(p + ".exp_avg_sq", s.exp_avg_sq(), true);
    if (s.max_exp_avg_sq().defined()) out.write(p + ".max_exp_avg_sq", s.max_exp_avg_sq(), true);
  }
}

void load_adam_state(torch::optim::Adam& optim, const std::vector<torch::Tensor>& params,
                     torch::serialize::InputArchive& in) {
  torch::Tensor format;
  if (!in.try_read("format", format, true)) {
    optim.load(in);
    return;
  }
  TORCH_CHECK(format.item<int64_t>() == kOptimizerStateFormat, "optimizer state of format ",
              format.item<int64_t>(), ", this build reads ", kOptimizerStateFormat);
  auto& state = optim.state();
  state.clear();
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string p = std::to_string(i);
    torch::Tensor step, exp_avg, exp_avg_sq, max_exp_avg_sq;
    if (!in.try_read(p + ".step", step, true)) continue;
    in.read(p + ".exp_avg", exp_avg, true);
    in.read(p + ".exp_avg_sq", exp_avg_sq, true);
    auto s = std::make_unique<torch::optim::AdamParamState>();
    s->step(step.item<int64_t>());
    s->exp_avg(exp_avg);
    s->exp_avg_sq(exp_avg_sq);
    if (in.try_read(p + ".max_exp_avg_sq", max_exp_avg_sq, true)) s->max_exp_avg_sq(max_exp_avg_sq);
    state[adam_key(params[i])] = std::move(s);
  }
}

}  // namespace

void TorchTrainer::save_checkpoint(const std::string& path, const nlohmann::json& extra) const {
  const State& m = *s_;
  nlohmann::json training = fingerprint(m.opts, m.data_sha, m.data.n);
  training["step"] = m.step;
  training["parameters"] = parameter_count();
  if (extra.is_object()) training.update(extra);
  const nlohmann::json header{{"format", kCheckpointFormat},
                              {"version", 1},
                              {"metadata", m.opts.model_config().to_json()},
                              {"unet", m.opts.unet.to_json()},
                              {"training", training},
                              {"losses", m.losses}};
  std::ostringstream os;
  torch::serialize::OutputArchive root, model, ema, optim;
  m.model->save(model);
  m.ema->save(ema);
  save_adam_state(*m.optim, m.model->parameters(), optim);
  root.write("model", model);
  root.write("ema", ema);
  root.write("optimizer", optim);
  root.save_to(os);
  impl::write_checkpoint_file(path, header, os.str());
}

// A function try block: the header is well-formed JSON (read_checkpoint_file) but any field read
// below can meet another type than it expects (json type_error), which must name the file.
void TorchTrainer::load_checkpoint(const std::string& path) try {
  State& m = *s_;
  impl::CheckpointBytes ck = impl::read_checkpoint_file(path);
  const nlohmann::json& h = ck.header;
  auto differs = [&](const std::string& what, const nlohmann::json& was,
                     const nlohmann::json& now) {
    fail(
        "{}: the checkpoint was trained with {} {}, this run asks for {}; resume with the same "
        "images and options, or write to another checkpoint",
        path, what, was.dump(), now.dump());
  };
  const nlohmann::json meta_now = m.opts.model_config().to_json();
  for (const char* key :
       {"image_size", "channels", "timesteps", "beta_schedule", "beta_start", "beta_end"})
    if (h["metadata"].value(key, nlohmann::json()) != meta_now[key])
      differs(key, h["metadata"].value(key, nlohmann::json()), meta_now[key]);
  if (h["unet"] != m.opts.unet.to_json()) differs("UNet", h["unet"], m.opts.unet.to_json());
  const nlohmann::json fp = fingerprint(m.opts, m.data_sha, m.data.n);
  const nlohmann::json& tr = h.value("training", nlohmann::json::object());
  for (auto it = fp.begin(); it != fp.end(); ++it) {
    const nlohmann::json was = tr.value(it.key(), nlohmann::json());
    if (was != it.value())
      differs(it.key() == "data_sha256" ? "images of sha256" : it.key(), was, it.value());
  }
  try {
    torch::serialize::InputArchive root, model, ema, optim;
    root.load_from(ck.archive.data(), ck.archive.size(), m.device);
    root.read("model", model);
    root.read("ema", ema);
    root.read("optimizer", optim);
    m.model->load(model);
    m.ema->load(ema);
    load_adam_state(*m.optim, m.model->parameters(), optim);
  } catch (const c10::Error& e) {
    fail("{}: cannot read the checkpoint's weights: {}", path,
         runtime::first_line(e.what_without_backtrace()));
  }
  m.model->to(m.device);
  m.ema->to(m.device);
  m.step = tr.value("step", int64_t{0});
  m.losses = h.value("losses", std::vector<float>());
  if (static_cast<int64_t>(m.losses.size()) != m.step)
    fail("{}: the checkpoint has {} losses for {} steps", path, m.losses.size(), m.step);
} catch (const nlohmann::json::exception& e) {
  fail("{}: checkpoint header: {}", path, e.what());
}

std::unique_ptr<impl::TrainerBackend> impl::trainer_torch(TrainImages data,
                                                          const TrainOptions& options) {
  return std::make_unique<TorchTrainer>(std::move(data), options);
}

}  // namespace repbench::diffusion
