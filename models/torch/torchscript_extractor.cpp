// torchscript:PATH in the LibTorch plugin (models/torchscript_extractor.h).
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/script.h>

#include "core/error.h"
#include "core/sha256.h"
#include "models/impl/extractor_util.h"
#include "models/impl/torch_entry.h"
#include "models/torch/extractors.h"
#include "runtime/torch_runtime.h"

namespace repbench::models {

namespace {

constexpr const char* kMetadataFile = "metadata.json";

std::string shape_string(const at::Tensor& t) {
  return fmt::format("[{}]", fmt::join(t.sizes(), ", "));
}

std::string ivalue_kind(const c10::IValue& v) {
  if (v.isTensor()) return "a tensor";
  if (v.isTuple()) return fmt::format("a tuple of {}", v.toTupleRef().elements().size());
  if (v.isList()) return fmt::format("a list of {}", v.toListRef().size());
  if (v.isGenericDict()) return fmt::format("a dict of {}", v.toGenericDict().size());
  return v.tagKind();
}

class TorchScriptExtractor : public FeatureExtractor {
 public:
  TorchScriptExtractor(ExtractorInfo info, torch::jit::Module module, ModelMetadata meta,
                       c10::Device device)
      : FeatureExtractor(std::move(info)),
        module_(std::move(module)),
        meta_(std::move(meta)),
        device_(device) {}

  bool prefers_batches() const override { return true; }

  // Runs the model on `input` [n, 3, h, w] and returns the selected output, checked against the
  // metadata: [n, dim] or [n, tokens, dim].
  at::Tensor forward(const at::Tensor& input) {
    torch::NoGradGuard no_grad;
    const c10::IValue out = module_.forward({input.to(device_)});
    const at::Tensor t = select(out);
    const int64_t n = input.size(0);
    const bool ok = meta_.output == OutputKind::kTokens
                        ? (t.dim() == 3 && t.size(0) == n && t.size(1) == meta_.tokens &&
                           t.size(2) == meta_.dim)
                        : (t.dim() == 2 && t.size(0) == n && t.size(1) == meta_.dim);
    if (!ok) {
      std::string expected;
      if (meta_.output == OutputKind::kTokens)
        expected = fmt::format("tokens {} x dim {}", meta_.tokens, meta_.dim);
      else if (t.dim() == 2 && t.size(0) == n)
        expected = fmt::format("dim {}", meta_.dim);
      else
        expected = fmt::format("output embedding [{}, {}]", n, meta_.dim);
      fail("{}: output {} does not match metadata {}", info_.model_path, shape_string(t), expected);
    }
    return t;
  }

  void extract(const ImageBatch& b, float* out) override {
    runtime::run_translating_errors<OutOfMemory>(info_.model_path, [&] {
      const at::Tensor input =
          at::from_blob(const_cast<float*>(b.data), {b.n, 3, b.height, b.width}, at::kFloat);
      const at::Tensor y = forward(input).to(at::kCPU, at::kFloat).contiguous();
      std::memcpy(out, y.data_ptr<float>(), sizeof(float) * b.n * row_size());
    });
  }

 private:
  at::Tensor select(const c10::IValue& out) const {
    const std::string& path = info_.model_path;
    const std::string sel = meta_.select_string();
    c10::IValue v = out;
    if (std::holds_alternative<int64_t>(meta_.select)) {
      const int64_t i = std::get<int64_t>(meta_.select);
      if (v.isTuple()) {
        const auto& e = v.toTupleRef().elements();
        if (i >= static_cast<int64_t>(e.size()))
          fail("{}: output is {}; metadata selects {}", path, ivalue_kind(out), sel);
        v = e[i];
      } else if (v.isList()) {
        const auto l = v.toList();
        if (i >= static_cast<int64_t>(l.size()))
          fail("{}: output is {}; metadata selects {}", path, ivalue_kind(out), sel);
        v = l.get(i);
      } else {
        fail("{}: output is {}, but metadata selects {} (set \"select\": null)", path,
             ivalue_kind(out), sel);
      }
    } else if (std::holds_alternative<std::string>(meta_.select)) {
      if (!v.isGenericDict())
        fail("{}: output is {}, but metadata selects {}", path, ivalue_kind(out), sel);
      const auto d = v.toGenericDict();
      const std::string& key = std::get<std::string>(meta_.select);
      auto it = d.find(c10::IValue(key));
      if (it == d.end()) {
        std::vector<std::string> keys;
        for (const auto& kv : d) keys.push_back(kv.key().isString() ? kv.key().toStringRef() : "?");
        fail("{}: output dict has no key \"{}\" (keys: {})", path, key, fmt::join(keys, ", "));
      }
      v = it->value();
    } else if (!v.isTensor()) {
      fail(
          "{}: output is {}; metadata.json must choose the descriptor with \"select\" (an index "
          "or a dict key)",
          path, ivalue_kind(out));
    }
    if (!v.isTensor())
      fail("{}: the output selected by {} is {}, not a tensor", path, sel, ivalue_kind(v));
    return v.toTensor();
  }

  torch::jit::Module module_;
  ModelMetadata meta_;
  c10::Device device_;
};

}  // namespace

namespace impl {

std::unique_ptr<FeatureExtractor> create_torchscript_torch(const std::string& path,
                                                           const std::string& spec,
                                                           const ExtractorOptions& options) {
  runtime::check_torchscript_archive(path);
  const c10::Device device = runtime::resolve_device(options.device);
  runtime::set_torch_threads(options.threads);

  torch::jit::ExtraFilesMap extra{{kMetadataFile, ""}};
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, device, extra);
  } catch (const c10::Error& e) {
    fail("{}: cannot load the TorchScript model: {}", path,
         runtime::first_line(e.what_without_backtrace()));
  }
  module.eval();
  ModelMetadata meta = impl::parse_torchscript_metadata(path, extra[kMetadataFile]);

  ExtractorInfo info =
      impl::info_from_metadata(meta, path, spec, options.preprocess, sha256_file(path));
  info.device = device.str();

  auto ex = std::make_unique<TorchScriptExtractor>(std::move(info), std::move(module),
                                                   std::move(meta), device);
  // Dummy batch of the declared input size: shape mismatches surface here, at load time.
  const auto [w, h] = ex->preprocess().nominal_input_size();
  runtime::run_translating_errors<OutOfMemory>(path, [&] { ex->forward(at::zeros({1, 3, h, w}, at::kFloat)); });
  return ex;
}

}  // namespace impl

}  // namespace repbench::models
