// ModelMetadata: the metadata.json stored inside a TorchScript archive (an extra file written by
// scripts/export_models.py through torch.jit.save(..., _extra_files={"metadata.json": ...})).
// It says what the model outputs and how its input is prepared:
//
//   {
//     "metadata_version": 1,
//     "name": "DINO ViT-B/16 (all tokens)",
//     "category": "SSL",                    CD/IR | PT | SSL
//     "output": "tokens",                   embedding | tokens
//     "dim": 768,                           floats per token
//     "tokens": 197,                        tokens per image (1, or absent, for an embedding)
//     "normalized": false,                  whether rows come out L2-normalised
//     "select": null,                       which part of a tuple/list (index) or dict (key)
//                                           output is the descriptor, e.g. 1 (VICRegL global)
//                                           or "normalized_embedding" (MultiGrain)
//     "preprocess": {"resize": "short_side", "size": 256, "crop": 224,
//                    "interpolation": "bicubic", "mean": [...], "std": [...]},
//     "source": {...}                       free-form provenance (weights URL, exporter, ...)
//   }
// Unknown keys are errors (a typo must not silently fall back to a default), except inside
// "source". Torch-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "models/feature_extractor.h"
#include "models/preprocess.h"

namespace repbench::models {

inline constexpr int kModelMetadataVersion = 1;

struct ModelMetadata {
  std::string name;
  std::string category;  // CD/IR, PT or SSL
  OutputKind output = OutputKind::kEmbedding;
  int64_t dim = 0;
  int64_t tokens = 1;
  bool normalized = false;
  // No selection (the model returns a tensor), an index into a tuple/list, or a dict key.
  std::variant<std::monostate, int64_t, std::string> select;
  Preprocess preprocess;
  nlohmann::json source = nlohmann::json::object();

  // Parses and validates. `where` names the source in messages (e.g. "model.pt: metadata.json").
  static ModelMetadata from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
  // "none", "index 1" or "key \"normalized_embedding\"", for messages.
  std::string select_string() const;
};

}  // namespace repbench::models
