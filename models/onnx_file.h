// The top level of an ONNX file (a serialized onnx.ModelProto), read without protobuf or ONNX
// libraries: enough to tell an ONNX model from any other file and to read its metadata_props
// (where scripts/export_models.py --format onnx stores the model's metadata). The graph itself is
// left to OpenCV's importer. Torch- and OpenCV-free.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace repbench::models {

struct OnnxFileInfo {
  int64_t ir_version = 0;
  std::string producer;                           // producer_name, e.g. "pytorch"
  std::map<std::string, std::string> properties;  // metadata_props (key -> value)
};

// Parses the top-level fields of `bytes`. Throws Error prefixed with `where` (the file's path)
// when they are not an ONNX model: malformed protobuf wire format, a known field with the wrong
// wire type, no ir_version or no graph.
OnnxFileInfo parse_onnx_file_info(std::string_view bytes, const std::string& where);

}  // namespace repbench::models
