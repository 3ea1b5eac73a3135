#include "runtime/torchscript_archive.h"

#include "core/error.h"

namespace repbench::runtime {

std::string first_line(const std::string& message) {
  const size_t nl = message.find('\n');
  return nl == std::string::npos ? message : message.substr(0, nl);
}

nlohmann::json parse_archive_json(const std::string& path, const std::string& name,
                                  const std::string& text, const std::string& how_to_add) {
  if (text.empty()) fail("{}: no {} in the archive; {}", path, name, how_to_add);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for 1e999
    fail("{}: {}: invalid JSON: {}", path, name, first_line(e.what()));
  }
}

}  // namespace repbench::runtime
