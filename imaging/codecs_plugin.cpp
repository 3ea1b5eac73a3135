#include "imaging/codecs_plugin.h"

#include "core/plugin.h"
#include "imaging/impl/codecs.h"
#include "imaging/impl/codecs_entry.h"

namespace repbench::imaging {

namespace {

// librepbench_imaging.so is the library beside which the plugin may lie.
Plugin& codecs_plugin() {
  static Plugin plugin(PluginSpec{"image-codecs plugin", kCodecsPluginFile, kCodecsPluginEnv,
                                  "repbench_imagecodecs", impl::kCodecsAbiFunction,
                                  kCodecsPluginAbi,
                                  reinterpret_cast<const void*>(&codecs_plugin_path)});
  return plugin;
}

}  // namespace

std::string codecs_plugin_path() {
  return codecs_plugin().path();
}

bool codecs_plugin_loaded() {
  return codecs_plugin().loaded();
}

void require_codecs() {
  codecs_plugin().load();
}

namespace impl {

const CodecsEntry& codecs() {
  static const CodecsEntry& entry = codecs_plugin().entry<CodecsEntry>(kCodecsEntry);
  return entry;
}

}  // namespace impl

}  // namespace repbench::imaging
