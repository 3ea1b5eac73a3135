// torchscript:PATH in the LibTorch plugin (models/torchscript_extractor.h).
#include <algorithm>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include <ATen/autocast_mode.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/api/module.h>
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
// The optimized graph runs only when its normalised descriptors equal the original's to this.
constexpr double kGraphTolerance = 1e-6;

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

  // Switches to `module` (the optimized graph) from now on.
  void use_module(torch::jit::Module module) { module_ = std::move(module); }
  const torch::jit::Module& module() const { return module_; }
  void set_graph(const std::string& graph, const std::string& note) {
    info_.graph = graph;
    info_.graph_note = note;
  }
  void set_precision(const std::string& precision) { info_.precision = precision; }

  // Runs `module` (the extractor's by default) on `input` [n, 3, h, w] and returns the selected
  // output as float, checked against the metadata: [n, dim] or [n, tokens, dim].
  at::Tensor forward(const at::Tensor& input) { return forward(module_, input); }
  at::Tensor forward(torch::jit::Module& module, const at::Tensor& input) {
    torch::NoGradGuard no_grad;
    const bool bf16 = info_.precision == "bf16";
    if (bf16) {  // LibTorch's CPU autocast: matrix products and convolutions in bf16 (oneDNN)
      at::autocast::set_cpu_enabled(true);
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    }
    c10::IValue out;
    try {
      out = module.forward({input.to(device_)});
    } catch (...) {
      if (bf16) end_autocast();
      throw;
    }
    if (bf16) end_autocast();
    const at::Tensor t = select(out).to(at::kFloat);
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
    runtime::run_translating_errors(info_.model_path, [&] {
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

  static void end_autocast() {
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
  }

  torch::jit::Module module_;
  ModelMetadata meta_;
  c10::Device device_;
};

// The largest difference between the per-token L2-normalised rows of two outputs [n, dim] or
// [n, tokens, dim] (what cosine and split-product similarities see).
double normalised_max_diff(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes()) return std::numeric_limits<double>::infinity();
  auto norm = [](const at::Tensor& t) {
    const at::Tensor x = t.to(at::kCPU, at::kDouble);
    return x / x.norm(2, {-1}, true).clamp_min(1e-12);
  };
  const at::Tensor d = (norm(a) - norm(b)).abs();
  const double m = d.numel() ? d.max().item<double>() : 0.0;
  return std::isfinite(m) ? m : std::numeric_limits<double>::infinity();
}

// What was decided for one model file: the module that runs and why.
struct Prepared {
  torch::jit::Module module;
  std::string graph;  // "optimized" | "frozen" | "original"
  std::string note;   // why the optimized graph does not run ("" when it does)
};

// The convolutions and the matrix products (linear layers, attention) of a graph, its nested
// blocks included.
struct OpCounts {
  int convolutions = 0;
  int products = 0;
};

void count_ops(const torch::jit::Block* block, OpCounts& c) {
  static const std::set<std::string> kConvolutions = {
      "aten::conv1d", "aten::conv2d", "aten::conv3d", "aten::_convolution",
      "aten::conv_transpose1d", "aten::conv_transpose2d", "aten::conv_transpose3d"};
  static const std::set<std::string> kProducts = {
      "aten::linear", "aten::matmul", "aten::mm", "aten::bmm", "aten::addmm", "aten::baddbmm",
      "aten::einsum", "aten::_native_multi_head_attention"};
  for (const torch::jit::Node* n : block->nodes()) {
    const std::string kind = n->kind().toQualString();
    c.convolutions += kConvolutions.count(kind);
    c.products += kProducts.count(kind);
    for (const torch::jit::Block* b : n->blocks()) count_ops(b, c);
  }
}

// Frozen + optimized modules of this process, by the archive's sha256, the device and the probe's
// shape: a model file loaded twice (two sets of a suite) is optimized and checked once.
std::mutex g_prepared_mu;
std::map<std::string, Prepared> g_prepared;

// Freezes the extractor's module (in eval mode) and, for graphs of more convolutions than matrix
// products (CNNs), optimizes it for inference; keeps the result when its normalised descriptors
// of `probe` in fp32 equal the original's within kGraphTolerance, and otherwise (or when
// optimizing throws) keeps the original, saying why in one line on stderr.
// Why transformers stay frozen only: optimize_for_inference moves their linear layers to oneDNN,
// which ran slower than ATen's sgemm at extraction batch sizes (ViT-B/16, 8 images: 1.23 s per
// image against 0.84 frozen and 0.83 as exported; ResNet-50: 0.13 against 0.25 and 0.38).
// Under autocast the graph is only frozen: autocast does not reach oneDNN's operators.
Prepared prepare(TorchScriptExtractor& ex, const std::string& path, const at::Tensor& probe,
                 bool for_autocast) {
  Prepared p{ex.module(), "original", ""};
  const std::string key = fmt::format("{} {} {} {}", ex.info().model_sha256, ex.info().device,
                                      shape_string(probe), for_autocast ? "autocast" : "fp32");
  {
    std::lock_guard<std::mutex> lock(g_prepared_mu);
    auto it = g_prepared.find(key);
    if (it != g_prepared.end()) return it->second;
  }
  const at::Tensor want = ex.forward(p.module, probe);
  std::string graph = "frozen";
  std::string choice;  // why the frozen graph is not optimized further
  try {
    torch::jit::Module candidate = torch::jit::freeze(p.module);
    OpCounts ops;
    count_ops(candidate.get_method("forward").graph()->block(), ops);
    if (for_autocast) {
      choice = "the frozen graph runs: bf16 autocast does not reach oneDNN's optimized operators";
    } else if (ops.convolutions < ops.products) {
      choice = fmt::format(
          "the frozen graph runs: {} matrix products against {} convolutions (a transformer, which "
          "oneDNN's inference optimization slows down)",
          ops.products, ops.convolutions);
    } else {
      candidate = torch::jit::optimize_for_inference(candidate);
      graph = "optimized";
    }
    double diff = 0;
    // Twice: the profiling executor runs a different graph from the second call on.
    for (int i = 0; i < 2; ++i) diff = std::max(diff, normalised_max_diff(ex.forward(candidate, probe), want));
    if (diff <= kGraphTolerance) {
      p.module = candidate;
      p.graph = graph;
      p.note = choice;
    } else {
      p.note = fmt::format(
          "the {} graph's normalised descriptors differ from the original's by {:.2g} "
          "(> {:g}) on a probe batch",
          graph, diff, kGraphTolerance);
    }
  } catch (const std::exception& e) {  // c10::Error, or an Error of ours (an output check)
    std::string what = e.what();
    if (const auto* c = dynamic_cast<const c10::Error*>(&e)) what = c->what_without_backtrace();
    p.note = "optimizing the graph failed: " + runtime::first_line(what);
  }
  if (p.graph == "original")
    std::fprintf(stderr, "%s: running the original graph: %s\n", path.c_str(), p.note.c_str());
  std::lock_guard<std::mutex> lock(g_prepared_mu);
  g_prepared.emplace(key, p);
  return p;
}

// A deterministic probe batch of one image, values in [-2, 2) (normalised pixels): one image
// keeps the check cheap (the original graph is the slow one).
at::Tensor probe_batch(int h, int w) {
  at::Tensor x = at::empty({1, 3, h, w}, at::kFloat);
  float* d = x.data_ptr<float>();
  uint32_t s = 12345;
  for (int64_t i = 0; i < x.numel(); ++i) {
    s = s * 1664525u + 1013904223u;  // a fixed LCG: the same probe on every platform
    d[i] = static_cast<float>(s >> 8) / static_cast<float>(1 << 24) * 4.0f - 2.0f;
  }
  return x;
}

}  // namespace

namespace impl {

std::unique_ptr<FeatureExtractor> create_torchscript_torch(const std::string& path,
                                                           const std::string& spec,
                                                           const ExtractorOptions& options) {
  runtime::check_torchscript_archive(path);
  const c10::Device device = runtime::resolve_device(options.device);
  runtime::set_torch_threads(options.threads);
  runtime::keep_freed_blocks_for_reuse();
  if (options.precision == "bf16") {
    if (!device.is_cpu()) fail("{}: --precision bf16 is for the CPU (device {})", path, device.str());
    if (!runtime::cpu_has_bf16())
      fail("{}: --precision bf16 needs a CPU with AVX512_BF16 or AMX; this one has neither", path);
  }

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
  // A probe batch of the declared input size: shape mismatches surface here, at load time, and
  // the optimized graph is checked against the original on it (in fp32).
  const auto [w, h] = ex->preprocess().nominal_input_size();
  runtime::run_translating_errors(path, [&] {
    const at::Tensor probe = probe_batch(h, w);
    const Prepared p = prepare(*ex, path, probe, options.precision == "bf16");
    ex->use_module(p.module);
    ex->set_graph(p.graph, p.note);
    ex->set_precision(options.precision);
    // The check ran the graph in fp32 (twice, which warms the executor up); bf16 is warmed here.
    if (options.precision != "fp32") {
      try {
        ex->forward(probe);
      } catch (const c10::Error& e) {
        fail("{}: --precision {} cannot run this model (LibTorch's CPU autocast): {}", path,
             options.precision, runtime::first_line(e.what_without_backtrace()));
      } catch (const std::runtime_error& e) {  // torch::jit::JITException, e.g. ViT attention
        // Its message is the TorchScript traceback; the error is its last line.
        std::string what = e.what();
        while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
        fail("{}: --precision {} cannot run this model (LibTorch's CPU autocast): {}", path,
             options.precision, what.substr(what.find_last_of('\n') + 1));
      }
    }
  });
  return ex;
}

}  // namespace impl

}  // namespace repbench::models
