#include "models/registry.h"

#include <cerrno>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "models/builtin_extractors.h"
#include "models/onnx_extractor.h"
#include "models/torchscript_extractor.h"

namespace repbench::models {

namespace {

constexpr const char* kBuiltinPrefix = "builtin";
constexpr const char* kTorchScriptPrefix = "torchscript";
constexpr const char* kOnnxPrefix = "onnx";

std::string known_list() {
  std::string s = "known: torchscript:PATH";
  for (const BuiltinDef& d : builtin_defs()) s += ", builtin:" + d.name;
  return s + ", onnx:PATH";
}

[[noreturn]] void unknown(const std::string& spec, const std::string& why) {
  fail("unknown extractor spec \"{}\": {} ({})", spec, why, known_list());
}

const BuiltinDef& find_builtin(const std::string& spec, const std::string& name) {
  for (const BuiltinDef& d : builtin_defs())
    if (d.name == name) return d;
  unknown(spec, fmt::format("no builtin named \"{}\"", name));
}

// Resolves the parameters of a builtin spec: every declared key with its value (defaults filled
// in), and the canonical spec string.
BuiltinParams resolve_params(const std::string& spec, const ParsedSpec& p, const BuiltinDef& def,
                             std::string* canonical) {
  BuiltinParams values;
  for (const BuiltinParam& bp : def.params) values[bp.key] = bp.default_value;
  for (const auto& [key, text] : p.params) {
    const BuiltinParam* bp = nullptr;
    for (const BuiltinParam& q : def.params)
      if (q.key == key) bp = &q;
    if (!bp) {
      std::string keys;
      for (const BuiltinParam& q : def.params) keys += (keys.empty() ? "" : ", ") + q.key;
      fail("extractor spec \"{}\": builtin:{} has no parameter \"{}\" (parameters: {})", spec,
           def.name, key, keys.empty() ? "none" : keys);
    }
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE)
      fail("extractor spec \"{}\": {} = \"{}\" is not an integer", spec, key, text);
    if (v < bp->min || v > bp->max)
      fail("extractor spec \"{}\": {} = {} is outside {}..{}", spec, key, v, bp->min, bp->max);
    values[key] = v;
  }
  std::string c = std::string(kBuiltinPrefix) + ":" + def.name;
  char sep = '?';
  for (const BuiltinParam& bp : def.params) {
    if (values[bp.key] == bp.default_value) continue;
    c += fmt::format("{}{}={}", sep, bp.key, values[bp.key]);
    sep = '&';
  }
  *canonical = c;
  return values;
}

}  // namespace

void ExtractorOptions::Check() const {
  if (device != "cpu" && device.rfind("cuda", 0) != 0)
    fail("device \"{}\" is not one of cpu, cuda, cuda:N", device);
  if (threads < 0) fail("threads must be >= 0 (0 = all hardware threads), found {}", threads);
  if (precision != "fp32" && precision != "bf16")
    fail("--precision '{}' is not fp32 or bf16", precision);
  if (!preprocess.is_null() && !preprocess.is_object())
    fail("preprocessing overrides must be a JSON object, found {}", preprocess.dump());
  Preprocess().with_overrides(preprocess, "preprocessing override");  // validates keys and values
}

ParsedSpec parse_spec(const std::string& spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) unknown(spec, "expected PREFIX:BODY");
  ParsedSpec p;
  p.prefix = spec.substr(0, colon);
  const std::string rest = spec.substr(colon + 1);
  if (p.prefix == kTorchScriptPrefix || p.prefix == kOnnxPrefix) {
    if (rest.empty()) unknown(spec, p.prefix + ": needs a model path");
    p.body = rest;  // the whole rest is the path ('?' and '&' may be part of a file name)
    return p;
  }
  if (p.prefix != kBuiltinPrefix) unknown(spec, fmt::format("unknown prefix \"{}\"", p.prefix));
  const size_t q = rest.find('?');
  p.body = rest.substr(0, q);
  if (p.body.empty()) unknown(spec, "builtin: needs a name");
  if (q == std::string::npos) return p;
  const std::string query = rest.substr(q + 1);
  std::set<std::string> seen;
  size_t start = 0;
  while (true) {
    const size_t amp = query.find('&', start);
    const std::string item = query.substr(start, amp == std::string::npos ? amp : amp - start);
    const size_t eq = item.find('=');
    if (item.empty() || eq == std::string::npos || eq == 0)
      fail("extractor spec \"{}\": parameter \"{}\" is not KEY=VALUE", spec, item);
    const std::string key = item.substr(0, eq);
    if (!seen.insert(key).second)
      fail("extractor spec \"{}\": parameter \"{}\" given twice", spec, key);
    p.params.emplace_back(key, item.substr(eq + 1));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return p;
}

std::string canonical_spec(const std::string& spec) {
  const ParsedSpec p = parse_spec(spec);
  if (p.prefix == kTorchScriptPrefix || p.prefix == kOnnxPrefix) return p.prefix + ":" + p.body;
  std::string canonical;
  resolve_params(spec, p, find_builtin(spec, p.body), &canonical);
  return canonical;
}

std::unique_ptr<FeatureExtractor> create_extractor(const std::string& spec,
                                                   const ExtractorOptions& options) {
  options.Check();
  const ParsedSpec p = parse_spec(spec);
  if (options.precision != "fp32" && p.prefix != kTorchScriptPrefix)
    fail("{}: --precision {} is for TorchScript models (torchscript:PATH); this extractor runs fp32",
         spec, options.precision);
  if (p.prefix == kTorchScriptPrefix)
    return create_torchscript_extractor(p.body, std::string(kTorchScriptPrefix) + ":" + p.body,
                                        options);
  if (p.prefix == kOnnxPrefix)
    return create_onnx_extractor(p.body, std::string(kOnnxPrefix) + ":" + p.body, options);
  const BuiltinDef& def = find_builtin(spec, p.body);
  std::string canonical;
  const BuiltinParams values = resolve_params(spec, p, def, &canonical);
  return def.create(values, canonical, options);
}

std::vector<KnownExtractor> known_extractors() {
  std::vector<KnownExtractor> out;
  for (const BuiltinDef& d : builtin_defs()) {
    KnownExtractor k;
    k.name = "builtin:" + d.name;
    k.family = "builtin";
    k.category = kCategoryBuiltin;
    k.spec = "builtin:" + d.name;
    k.weights = "none";
    k.output = to_string(d.output_kind);
    k.notes = d.summary;
    std::string params;
    for (const BuiltinParam& bp : d.params)
      params += fmt::format("{}{}={} ({})", params.empty() ? "" : ", ", bp.key, bp.default_value,
                            bp.help);
    if (!params.empty()) k.notes += "; parameters: " + params;
    out.push_back(k);
  }
  // The ten rows of Table 1. Exported by scripts/export_models.py to weights/<key>.pt.
  struct Row {
    const char* key;
    const char* name;
    const char* family;
    const char* category;
    const char* weights;
    const char* output;
    const char* notes;
  };
  static const Row kPaper[] = {
      {"multigrain_resnet50", "MultiGrain ResNet-50", "multigrain", kCategoryCopyDetection,
       "facebookresearch/multigrain: joint_3B_0.5.pth (dl.fbaipublicfiles.com/multigrain)",
       "embedding 2048, L2-normalised (output dict key \"normalized_embedding\")",
       "needs a clone of facebookresearch/multigrain on PYTHONPATH"},
      {"sscd_imagenet_mixup", "SSCD ResNet-50 (ImageNet, mixup)", "sscd", kCategoryCopyDetection,
       "dl.fbaipublicfiles.com/sscd-copy-detection/sscd_imagenet_mixup.torchscript.pt",
       "embedding 512, L2-normalised",
       "the paper used SSCD's ResNet-50 trained on ImageNet; sscd_disc_mixup also exportable"},
      {"vit_s16", "ViT-S/16 (IN-1k)", "timm", kCategoryPretrained,
       "timm vit_small_patch16_224 (pretrained=True)", "embedding 384 (CLS)", ""},
      {"vit_b16_in21k", "ViT-B/16 (IN-21k)", "timm", kCategoryPretrained,
       "timm vit_base_patch16_224.augreg_in21k", "embedding 768 (CLS)", ""},
      {"clip_vit_b16_laion", "CLIP ViT-B/16 (LAION-2B)", "timm", kCategoryPretrained,
       "timm vit_base_patch16_clip_224.laion2b (open_clip weights)",
       "embedding 768 (CLS, before the projection)", ""},
      {"swin_b", "Swin-B (patch 4, window 7)", "timm", kCategoryPretrained,
       "timm swin_base_patch4_window7_224", "embedding 1024 (average-pooled)", ""},
      {"mocov3_vit_b16", "MoCo v3 ViT-B/16", "mocov3", kCategorySelfSupervised,
       "dl.fbaipublicfiles.com/moco-v3/vit-b-300ep/vit-b-300ep.pth.tar (+ timm ViT-B/16)",
       "embedding 768 (CLS)", ""},
      {"mocov3_vit_b16_cutmix", "MoCo v3 ViT-B/16 + CutMix", "mocov3", kCategorySelfSupervised,
       "not public: the paper fine-tuned MoCo v3 for 50 epochs with CutMix; pass --checkpoint",
       "embedding 768 (CLS)", "export with --checkpoint PATH to your fine-tuned weights"},
      {"vicregl_resnet50", "VICRegL ResNet-50 (alpha 0.9)", "vicregl", kCategorySelfSupervised,
       "torch.hub facebookresearch/VICRegL resnet50_alpha0p9",
       "embedding 2048 (output index 1, global)", ""},
      {"dino_vitb16_tokens", "DINO ViT-B/16, all tokens (split-product)", "dino",
       kCategorySelfSupervised, "torch.hub facebookresearch/dino dino_vitb16",
       "tokens 197 x 768 (CLS + 196 patches, after the final norm)",
       "evaluate with split-product similarity (docs/PROTOCOLS.md §1.2)"},
  };
  for (const Row& r : kPaper) {
    KnownExtractor k;
    k.name = r.name;
    k.family = r.family;
    k.category = r.category;
    k.spec = fmt::format("torchscript:weights/{}.pt", r.key);
    k.weights = r.weights;
    k.export_command =
        fmt::format("python3 scripts/export_models.py --out weights --models {}", r.key);
    k.output = r.output;
    k.in_paper = true;
    k.notes = r.notes;
    out.push_back(k);
  }
  KnownExtractor cls;
  cls.name = "DINO ViT-B/16, CLS token";
  cls.family = "dino";
  cls.category = kCategorySelfSupervised;
  cls.spec = "torchscript:weights/dino_vitb16_cls.pt";
  cls.weights = "torch.hub facebookresearch/dino dino_vitb16";
  cls.export_command = "python3 scripts/export_models.py --out weights --models dino_vitb16_cls";
  cls.output = "embedding 768 (CLS)";
  cls.notes = "the inner-product variant of the DINO row";
  out.push_back(cls);
  return out;
}

std::string spec_model_file(const std::string& spec) {
  if (spec.rfind("builtin:", 0) == 0) return "";
  const size_t colon = spec.find(':');
  return colon == std::string::npos ? "" : spec.substr(colon + 1);
}

}  // namespace repbench::models
