// libFuzzer target: the top level of an ONNX file (models/onnx_file.h), as onnx:PATH reads it
// before OpenCV sees the graph; a metadata property found is then parsed as the metadata.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/model_metadata.h"
#include "models/onnx_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const repbench::models::OnnxFileInfo info = repbench::models::parse_onnx_file_info(
        std::string_view(reinterpret_cast<const char*>(data), size), "m.onnx");
    const auto it = info.properties.find("repbench.metadata");
    if (it == info.properties.end()) return 0;
    const nlohmann::json j = nlohmann::json::parse(it->second, nullptr, false);
    if (!j.is_discarded()) (void)repbench::models::ModelMetadata::from_json(j, "m.onnx");
  } catch (const repbench::Error&) {
  }
  return 0;
}
