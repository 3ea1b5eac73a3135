#include "runtime/torch_plugin.h"

#include "core/plugin.h"

namespace repbench::runtime {

namespace {

// The loader is core/plugin.h's, shared with the image-codecs plugin; librepbench_runtime.so is
// the library beside which the plugin may lie.
Plugin& torch_plugin() {
  static Plugin plugin(PluginSpec{"LibTorch plugin", kTorchPluginFile, kTorchPluginEnv,
                                  "repbench_torch", "repbench_torch_plugin_abi", kTorchPluginAbi,
                                  reinterpret_cast<const void*>(&torch_plugin_path)});
  return plugin;
}

}  // namespace

std::string torch_plugin_path() {
  return torch_plugin().path();
}

bool torch_plugin_loaded() {
  return torch_plugin().loaded();
}

void* torch_plugin_symbol(const char* name) {
  return torch_plugin().symbol(name);
}

}  // namespace repbench::runtime
