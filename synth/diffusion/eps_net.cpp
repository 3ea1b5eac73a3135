// Loading eps-models: TorchScript archives with metadata.json, repbench checkpoints (their EMA
// UNet), and the null model; inspect_eps_model().
#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <torch/script.h>
#include <torch/serialize.h>

#include "core/error.h"
#include "core/sha256.h"
#include "runtime/torch_runtime.h"
#include "synth/diffusion/ddpm.h"
#include "synth/diffusion/impl/checkpoint_file.h"
#include "synth/diffusion/impl/eps_net.h"
#include "synth/diffusion/impl/unet.h"

namespace repbench::synth::diffusion {

namespace {

constexpr const char* kMetadataFile = "metadata.json";
using runtime::first_line;

// The file's format by its first bytes.
ModelFormat sniff(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("{}: cannot open model file ({})", path, std::strerror(errno));
  char head[8] = {};
  f.read(head, 8);
  if (f.gcount() == 8 && std::memcmp(head, kCheckpointMagic, 8) == 0)
    return ModelFormat::kCheckpoint;
  if (f.gcount() >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return ModelFormat::kTorchScript;
  fail(
      "{}: neither a TorchScript archive (torch.jit.save) nor a repbench DDPM checkpoint "
      "(repbench ddpm train)",
      path);
}

EpsModelConfig parse_metadata(const std::string& path, const std::string& text) {
  const nlohmann::json j = runtime::parse_archive_json(
      path, kMetadataFile, text,
      fmt::format("export the model with scripts/export_models.py or save it with "
                  "torch.jit.save(m, f, _extra_files={{\"{}\": ...}}) (see "
                  "synth/diffusion/model_config.h)",
                  kMetadataFile));
  return EpsModelConfig::from_json(j, fmt::format("{}: {}", path, kMetadataFile));
}

class TorchScriptNet : public impl::EpsNet {
 public:
  TorchScriptNet(std::string path, torch::jit::Module module, bool pass_y)
      : path_(std::move(path)), module_(std::move(module)), pass_y_(pass_y) {}

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t,
                        const torch::Tensor& y) override {
    std::vector<c10::IValue> args{x, t};
    if (pass_y_) args.emplace_back(y);
    const c10::IValue out = module_.forward(args);
    if (!out.isTensor()) fail("{}: forward returned {}, not a tensor", path_, out.tagKind());
    return out.toTensor();
  }

 private:
  std::string path_;
  torch::jit::Module module_;
  bool pass_y_;
};

class UNetNet : public impl::EpsNet {
 public:
  explicit UNetNet(impl::UNet unet) : unet_(std::move(unet)) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t,
                        const torch::Tensor&) override {
    return unet_->forward(x, t);
  }

 private:
  impl::UNet unet_;
};

class NullNet : public impl::EpsNet {
 public:
  explicit NullNet(int64_t out_channels) : out_channels_(out_channels) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor&,
                        const torch::Tensor&) override {
    return torch::zeros({x.size(0), out_channels_, x.size(2), x.size(3)}, x.options());
  }

 private:
  int64_t out_channels_;
};

std::unique_ptr<impl::EpsNet> load_torchscript(const std::string& path, const c10::Device& device,
                                               EpsModelInfo* info) {
  torch::jit::ExtraFilesMap extra{{kMetadataFile, ""}};
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, device, extra);
  } catch (const c10::Error& e) {
    fail("{}: cannot load the TorchScript model: {}", path, first_line(e.what_without_backtrace()));
  }
  module.eval();
  info->config = parse_metadata(path, extra[kMetadataFile]);
  // forward(self, x, t[, y]): the arity must agree with num_classes.
  const auto& schema = module.get_method("forward").function().getSchema();
  const auto& a = schema.arguments();
  const size_t n = a.empty() ? 0 : a.size() - 1;  // without self
  size_t required = 0;
  for (size_t i = 1; i < a.size(); ++i)
    if (!a[i].default_value()) ++required;
  const bool conditional = info->config.num_classes > 0;
  if (conditional && n < 3)
    fail("{}: metadata.json says num_classes {}, but forward takes {} arguments, not (x, t, y)",
         path, info->config.num_classes, n);
  if (!conditional && (required > 2 || n < 2))
    fail(
        "{}: metadata.json says num_classes 0 (unconditional), but forward takes {} required "
        "arguments, not (x, t)",
        path, required);
  return std::make_unique<TorchScriptNet>(path, std::move(module), conditional);
}

// The part of a checkpoint header's training block that a record of the model's use should carry:
// enough to see what it was trained on and that its loss went down (not the per-step bulk).
nlohmann::json training_summary(const nlohmann::json& header, const std::string& path) {
  try {
    const nlohmann::json& tr = header.at("training");
    nlohmann::json out = nlohmann::json::object();
    for (const char* key : {"step", "images", "batch_size", "lr", "seed", "data_sha256"})
      if (tr.contains(key)) out[key] = tr[key];
    const auto losses = header.value("losses", std::vector<double>());
    const size_t n = losses.size(), w = std::min<size_t>(100, n);
    if (w > 0) {
      double first = 0, last = 0;
      for (size_t i = 0; i < w; ++i) first += losses[i], last += losses[n - w + i];
      out["loss_first_100"] = first / static_cast<double>(w);
      out["loss_last_100"] = last / static_cast<double>(w);
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    fail("{}: checkpoint header: training: {}", path, e.what());
  }
}

std::unique_ptr<impl::EpsNet> load_checkpoint_net(const std::string& path,
                                                  const c10::Device& device, EpsModelInfo* info) {
  impl::CheckpointBytes ck = impl::read_checkpoint_file(path);
  info->config =
      EpsModelConfig::from_json(ck.header["metadata"], path + ": checkpoint header: metadata");
  info->training = training_summary(ck.header, path);
  const UNetConfig unet_config =
      UNetConfig::from_json(ck.header["unet"], path + ": checkpoint header: unet");
  impl::UNet unet(unet_config);
  try {
    torch::serialize::InputArchive root, ema;
    root.load_from(ck.archive.data(), ck.archive.size());
    root.read("ema", ema);
    unet->load(ema);
  } catch (const c10::Error& e) {
    fail("{}: cannot read the checkpoint's weights: {}", path,
         first_line(e.what_without_backtrace()));
  }
  unet->to(device);
  unet->eval();
  return std::make_unique<UNetNet>(std::move(unet));
}

}  // namespace

const char* to_string(ModelFormat format) {
  switch (format) {
    case ModelFormat::kTorchScript:
      return "torchscript";
    case ModelFormat::kCheckpoint:
      return kCheckpointFormat;
    case ModelFormat::kNull:
      return "null";
  }
  return "?";
}

nlohmann::json EpsModelInfo::to_json() const {
  nlohmann::json j{{"path", path},
                   {"sha256", sha256},
                   {"format", to_string(format)},
                   {"config", config.to_json()}};
  if (!training.is_null()) j["training"] = training;
  return j;
}

EpsModelInfo inspect_eps_model(const std::string& path) {
  EpsModelInfo info;
  info.path = path;
  info.format = sniff(path);
  if (info.format == ModelFormat::kCheckpoint) {
    const nlohmann::json h = read_checkpoint_header(path);
    info.config = EpsModelConfig::from_json(h["metadata"], path + ": checkpoint header: metadata");
    info.training = training_summary(h, path);
  } else {
    info.config = parse_metadata(path, runtime::read_archive_extra(path, kMetadataFile));
  }
  info.sha256 = sha256_file(path);
  return info;
}

namespace impl {

std::unique_ptr<EpsNet> load_eps_net(const std::string& path, const c10::Device& device,
                                     EpsModelInfo* info) {
  info->path = path;
  info->format = sniff(path);
  std::unique_ptr<EpsNet> net = info->format == ModelFormat::kCheckpoint
                                    ? load_checkpoint_net(path, device, info)
                                    : load_torchscript(path, device, info);
  info->sha256 = sha256_file(path);
  return net;
}

std::unique_ptr<EpsNet> make_null_net(const EpsModelConfig& config) {
  return std::make_unique<NullNet>(config.learn_sigma ? 2 * config.channels : config.channels);
}

}  // namespace impl

}  // namespace repbench::synth::diffusion
