// The registry: spec strings -> extractors, in the manner of FAISS's index_factory.
//
// Spec grammar:
//   builtin:NAME                     a weight-free extractor (models/builtin_extractors.h)
//   builtin:NAME?KEY=VALUE&KEY=VALUE integer parameters, e.g. builtin:randcnn?seed=3&dim=128
//   torchscript:PATH                 a TorchScript archive with metadata.json (everything after
//                                    the colon is the path)
//   onnx:PATH                        an ONNX model with its metadata in PATH.json or in the
//                                    file's metadata_props, run by OpenCV's DNN module on the CPU
// Canonical form (what ExtractorInfo::spec holds): parameters in the extractor's declared order,
// those equal to their default left out, so that to_spec(create(s)) == s for every canonical s,
// and equivalent spellings ("builtin:randcnn?dim=256&seed=0") map to one canonical string (the
// cache key). A TorchScript or ONNX spec keeps its path as written.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/feature_extractor.h"

namespace repbench::models {

struct ExtractorOptions {
  std::string device = "cpu";  // "cpu", "cuda" or "cuda:N" (LibTorch extractors)
  int threads = 0;             // LibTorch intra-op threads; 0 = all hardware threads
  // "fp32", or "bf16": TorchScript models under LibTorch's CPU autocast to bf16 (CPUs with
  // AVX512_BF16 or AMX); other extractors refuse bf16.
  std::string precision = "fp32";
  // Overrides of the preprocessing, from command-line flags: a partial "preprocess" object of
  // metadata.json, e.g. {"size": 288, "crop": 0}. The extractor's provenance says which won.
  nlohmann::json preprocess = nlohmann::json::object();

  // Throws Error when a field is malformed (device string, negative threads, bad overrides).
  void Check() const;
};

// A spec split into its parts; parameters in the order written.
struct ParsedSpec {
  std::string prefix;  // "builtin", "torchscript" or "onnx"
  std::string body;    // the builtin's name, or the model path
  std::vector<std::pair<std::string, std::string>> params;
};

// Splits a spec string. Throws Error quoting the whole string when the prefix is unknown or the
// parameter list is malformed (empty key, missing '=', duplicate key).
ParsedSpec parse_spec(const std::string& spec);

// Creates the extractor a spec names. An unknown spec is an Error quoting the whole string and
// listing the known prefixes and builtins.
std::unique_ptr<FeatureExtractor> create_extractor(const std::string& spec,
                                                   const ExtractorOptions& options = {});

// The model file a spec names: everything after the prefix's colon ("" for builtins and for a
// spec without a prefix).
std::string spec_model_file(const std::string& spec);

// The canonical form of a spec without creating the extractor (no model file is opened).
std::string canonical_spec(const std::string& spec);

// One row of `repbench models list`: the builtins, and the paper's ten extractors of Table 1
// with where their weights come from and how to export them.
struct KnownExtractor {
  std::string name;            // e.g. "SSCD ResNet-50 (ImageNet, mixup)"
  std::string family;          // e.g. "sscd", "dino", "builtin"
  std::string category;        // CD/IR, PT, SSL or builtin
  std::string spec;            // the spec to pass (for exported models: the default output path)
  std::string weights;         // where the weights come from ("none" for builtins)
  std::string export_command;  // command that writes the TorchScript file ("" for builtins)
  std::string output;          // e.g. "embedding 512, L2-normalised" or "tokens 197 x 768"
  bool in_paper = false;       // one of the ten rows of Table 1
  std::string notes;
};

std::vector<KnownExtractor> known_extractors();

}  // namespace repbench::models
