// FeatureExtractor: anything that turns preprocessed images into descriptors (a TorchScript model,
// a built-in baseline). Like OpenCV's Feature2D, each extractor reports what it produces (output
// kind, dim, tokens, whether rows are L2-normalised) and how it wants its input (Preprocess), so
// that the pipeline, the cache and the evaluation need no knowledge of the model.
//
// Output layout: one row of tokens() * dim() floats per image. An embedding has tokens() == 1; a
// token output is [tokens, dim] per image (token t at row[t * dim + j]), e.g. a ViT's CLS token
// followed by its patch tokens in raster order, as split-product similarity expects.
// This header is torch-free.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/preprocess.h"
#include "runtime/out_of_memory.h"

namespace repbench::models {

enum class OutputKind { kEmbedding, kTokens };

const char* to_string(OutputKind kind);  // "embedding" | "tokens"
// Parses "embedding" | "tokens"; throws Error prefixed with `where` otherwise.
OutputKind parse_output_kind(const std::string& s, const std::string& where);

// Categories of Table 1 of the paper, plus the built-in baselines.
inline constexpr const char* kCategoryCopyDetection = "CD/IR";  // copy detection / image retrieval
inline constexpr const char* kCategoryPretrained = "PT";        // supervised pre-training
inline constexpr const char* kCategorySelfSupervised = "SSL";   // self-supervised
inline constexpr const char* kCategoryBuiltin = "builtin";      // weight-free baseline
// Throws Error prefixed with `where` unless `category` is one of the four above.
void check_category(const std::string& category, const std::string& where);

// What an extractor is: everything a record or a cache key needs to know about it.
struct ExtractorInfo {
  std::string name;      // human-readable, e.g. "SSCD ResNet-50 (disc_mixup)"
  std::string spec;      // canonical spec string: create_extractor(spec) gives this extractor back
  std::string category;  // kCategory* above
  OutputKind output_kind = OutputKind::kEmbedding;
  int64_t dim = 0;           // floats per token
  int64_t tokens = 1;        // tokens per image (1 for an embedding)
  bool normalized = false;   // whether each row comes out with unit L2 norm
  Preprocess preprocess;     // how images are prepared for it
  std::string model_path;    // weights file ("" for weight-free extractors)
  std::string model_sha256;  // sha256 of the weights file, part of the extractor's identity
  std::string device = "cpu";
  // TorchScript models: "optimized" (frozen and optimized for inference: CNNs), "frozen" (only
  // frozen: transformers, and bf16, whose autocast does not reach the optimized graph's oneDNN
  // operators), each checked against the original at load, or "original" (the check failed);
  // graph_note says why the optimized graph does not run. "" for other extractors.
  std::string graph;
  std::string graph_note;
  std::string precision = "fp32";  // "fp32", or "bf16" (CPU autocast, `--precision bf16`)
  // Where each setting came from, e.g. {"preprocess.size": "flag", "dim": "metadata"}: which
  // value won when a command-line flag overrode the model's metadata.
  nlohmann::json provenance = nlohmann::json::object();

  int64_t row_size() const { return tokens * dim; }
  // All of the above as one JSON object (for result records and cache sidecars).
  nlohmann::json to_json() const;
};

// A batch of preprocessed images of one size.
// data: [n, 3, height, width] float RGB, normalised, contiguous row-major:
// data[((i * 3 + c) * height + y) * width + x].
struct ImageBatch {
  const float* data = nullptr;
  int64_t n = 0;
  int height = 0;
  int width = 0;
};

class FeatureExtractor {
 public:
  explicit FeatureExtractor(ExtractorInfo info) : info_(std::move(info)) {}
  virtual ~FeatureExtractor() = default;
  FeatureExtractor(const FeatureExtractor&) = delete;
  FeatureExtractor& operator=(const FeatureExtractor&) = delete;

  const ExtractorInfo& info() const { return info_; }
  const std::string& name() const { return info_.name; }
  const std::string& spec() const { return info_.spec; }
  const std::string& category() const { return info_.category; }
  OutputKind output_kind() const { return info_.output_kind; }
  int64_t dim() const { return info_.dim; }
  int64_t tokens() const { return info_.tokens; }
  int64_t row_size() const { return info_.row_size(); }
  bool normalized() const { return info_.normalized; }
  const Preprocess& preprocess() const { return info_.preprocess; }

  // Whether batches larger than one image pay off (a LibTorch forward pass, which the OOM
  // halving applies to); informational: the pipeline batches every extractor the same way.
  virtual bool prefers_batches() const { return false; }

  // Computes the descriptors of `batch`. out: [batch.n, row_size()] floats, row i = image i.
  // Throws runtime::OutOfMemory when the device is out of memory (the pipeline halves the batch
  // and retries), Error for anything else.
  // Not thread-safe: the pipeline calls it from one thread.
  virtual void extract(const ImageBatch& batch, float* out) = 0;

 protected:
  ExtractorInfo info_;
};

}  // namespace repbench::models
