// DDPM training: DdpmTrainer's torch-free half, which runs the LibTorch plugin's trainer
// (torch/trainer.cpp), and train_ddpm()'s loop of steps, logs and checkpoints (see ddpm.h).
#include <algorithm>
#include <chrono>
#include <filesystem>

#include "core/elapsed.h"
#include "core/error.h"
#include "core/sha256.h"
#include "diffusion/ddpm.h"
#include "diffusion/impl/torch_entry.h"

namespace repbench::diffusion {

namespace fs = std::filesystem;

struct DdpmTrainer::Impl {
  std::unique_ptr<impl::TrainerBackend> backend;
};

DdpmTrainer::DdpmTrainer(TrainImages data, const TrainOptions& options)
    : impl_(std::make_unique<Impl>()) {
  options.Check();
  impl_->backend = impl::torch_entry().trainer(std::move(data), options);
}

DdpmTrainer::~DdpmTrainer() = default;
DdpmTrainer::DdpmTrainer(DdpmTrainer&&) noexcept = default;
DdpmTrainer& DdpmTrainer::operator=(DdpmTrainer&&) noexcept = default;

float DdpmTrainer::step() {
  return impl_->backend->step();
}
int64_t DdpmTrainer::step_count() const {
  return impl_->backend->step_count();
}
const std::vector<float>& DdpmTrainer::losses() const {
  return impl_->backend->losses();
}
int64_t DdpmTrainer::parameter_count() const {
  return impl_->backend->parameter_count();
}
const std::string& DdpmTrainer::data_sha256() const {
  return impl_->backend->data_sha256();
}
float DdpmTrainer::fixed_batch_loss(int64_t n, uint64_t seed) const {
  return impl_->backend->fixed_batch_loss(n, seed);
}
void DdpmTrainer::save_checkpoint(const std::string& path, const nlohmann::json& extra) const {
  impl_->backend->save_checkpoint(path, extra);
}
void DdpmTrainer::load_checkpoint(const std::string& path) {
  impl_->backend->load_checkpoint(path);
}

TrainResult train_ddpm(const TrainImages& images, const TrainOptions& options,
                       const std::string& checkpoint) {
  options.Check();
  DdpmTrainer trainer(images, options);
  TrainResult r;
  r.checkpoint = checkpoint;
  r.parameters = trainer.parameter_count();
  std::error_code ec;
  const bool existed = fs::exists(checkpoint, ec);
  if (existed) {
    trainer.load_checkpoint(checkpoint);
    r.resumed_from = trainer.step_count();
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return seconds_since(t0);
  };
  // No wall time in the file: the same training writes the same bytes (its sha256 names the
  // demo's dif sets and keys the sets made from it); TrainResult::seconds has this run's time.
  auto save = [&] { trainer.save_checkpoint(checkpoint, {{"steps_budget", options.steps}}); };
  Progress progress("ddpm train (steps)", std::max(options.steps, trainer.step_count()),
                    options.progress, trainer.step_count());
  double interval_sum = 0;
  int64_t interval_n = 0;
  while (trainer.step_count() < options.steps) {
    interval_sum += trainer.step();
    ++interval_n;
    ++r.steps_this_run;
    progress.advance(1);
    const int64_t k = trainer.step_count();
    if (options.on_log && (k % options.log_every == 0 || k == options.steps)) {
      TrainLog log;
      log.step = k;
      log.steps = options.steps;
      log.loss = interval_sum / static_cast<double>(interval_n);
      log.seconds = elapsed();
      log.images_per_second = r.steps_this_run * options.batch_size / std::max(log.seconds, 1e-9);
      options.on_log(log);
      interval_sum = 0;
      interval_n = 0;
    }
    if (options.checkpoint_every > 0 && k % options.checkpoint_every == 0 && k < options.steps)
      save();
    if (options.max_seconds > 0 && elapsed() >= options.max_seconds && k < options.steps) {
      r.stopped_by_time = true;
      break;
    }
  }
  progress.finish();
  r.seconds = elapsed();
  if (r.steps_this_run > 0 || !existed) save();
  r.steps_done = trainer.step_count();
  r.losses = trainer.losses();
  r.images_per_second = r.steps_this_run > 0
                            ? r.steps_this_run * options.batch_size / std::max(r.seconds, 1e-9)
                            : 0.0;
  r.sha256 = sha256_file(checkpoint);
  return r;
}

}  // namespace repbench::diffusion
