// libFuzzer target: a TorchScript archive's metadata.json (models/model_metadata.h), parsed as
// the extractor parses it.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/model_metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;  // the extractor reports unparsable JSON before this point
  try {
    repbench::models::ModelMetadata m =
        repbench::models::ModelMetadata::from_json(j, "metadata.json");
    (void)m.to_json();
    (void)m.select_string();
  } catch (const repbench::Error&) {
  }
  return 0;
}
