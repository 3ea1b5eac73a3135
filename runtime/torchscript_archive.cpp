#include "runtime/torchscript_archive.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "runtime/impl/torch_entry.h"
#include "runtime/torch_plugin.h"

namespace repbench::runtime {

namespace {

const impl::TorchEntry& torch_entry() {
  return torch_plugin_entry<impl::TorchEntry>(impl::kTorchEntry);
}

// A file that does not open is reported without loading LibTorch.
void check_opens(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("{}: cannot open model file ({})", path, std::strerror(errno));
}

}  // namespace

void check_torchscript_archive(const std::string& path) {
  check_opens(path);
  torch_entry().check_torchscript_archive(path);
}

std::string read_archive_extra(const std::string& path, const std::string& name) {
  check_opens(path);
  return torch_entry().read_archive_extra(path, name);
}

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
