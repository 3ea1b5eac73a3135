// Loading eps-models in the LibTorch plugin: TorchScript archives with metadata.json, repbench
// checkpoints (their EMA UNet), and the null model.
#include <vector>

#include <fmt/format.h>
#include <torch/script.h>
#include <torch/serialize.h>

#include "core/error.h"
#include "core/sha256.h"
#include "runtime/torch_runtime.h"
#include "diffusion/ddpm.h"
#include "diffusion/impl/checkpoint_file.h"
#include "diffusion/impl/model_file.h"
#include "diffusion/torch/eps_net.h"
#include "diffusion/torch/unet.h"

namespace repbench::diffusion {

namespace {

constexpr const char* kMetadataFile = "metadata.json";
using runtime::first_line;

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
  info->config = impl::parse_torchscript_metadata(path, extra[kMetadataFile]);
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

std::unique_ptr<impl::EpsNet> load_checkpoint_net(const std::string& path,
                                                  const c10::Device& device, EpsModelInfo* info) {
  impl::CheckpointBytes ck = impl::read_checkpoint_file(path);
  info->config =
      EpsModelConfig::from_json(ck.header["metadata"], path + ": checkpoint header: metadata");
  info->training = impl::training_summary(ck.header, path);
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

namespace impl {

std::unique_ptr<EpsNet> load_eps_net(const std::string& path, const c10::Device& device,
                                     EpsModelInfo* info) {
  info->path = path;
  info->format = sniff_model_file(path);
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

}  // namespace repbench::diffusion
