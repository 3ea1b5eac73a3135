// Plugins opened with dlopen on first use: the one loader behind the LibTorch plugin
// (runtime/torch_plugin.h) and the image-codecs plugin (imaging/codecs_plugin.h). A plugin keeps
// a heavy library (LibTorch; OpenCV's imgcodecs, which maps GDAL and ~140 libraries) out of the
// start-up of every verb that does not need it.
//
// Where a plugin is looked for: $ENV when set (a path to the file), else FILE beside the running
// executable (/proc/self/exe), else FILE beside the shared library that holds the spec's `anchor`
// (test and benchmark programs live in subfolders of the build). A missing or unloadable plugin,
// or one of another build (its ABI function reports another number), is an Error naming the path.
//
// The interface: each module with code in a plugin declares, in a header of its impl/, a struct
// of function pointers (its "entry"); the plugin exports one C function per module returning it
// (REPBENCH_PLUGIN_ENTRY) and a C function returning its interface number; the module calls
// through the entry. Plugin and binary are one build, from the same headers.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

namespace repbench {

struct PluginSpec {
  const char* what;          // "LibTorch plugin", in messages
  const char* file;          // "librepbench_torch.so"
  const char* env;           // "REPBENCH_TORCH_PLUGIN"
  const char* target;        // the CMake target that builds it, for the message of a missing one
  const char* abi_function;  // the exported C function `int f()` returning the interface number
  int abi;                   // the number this build expects
  const void* anchor;        // an address in the library beside which the plugin may lie
};

class Plugin {
 public:
  explicit Plugin(const PluginSpec& spec) : spec_(spec) {}
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  // Where the plugin is (or would be) loaded from, by the rule above. Does not load it.
  std::string path() const;

  // Whether this process has loaded the plugin.
  bool loaded() const { return handle_.load() != nullptr; }

  // Loads the plugin when not loaded yet (thread safe; a failed load is retried by the next
  // call). Throws Error naming the path when it is missing, cannot be loaded or is of another
  // build.
  void load();

  // The address of the plugin's exported symbol `name`, loading the plugin first. Throws Error
  // naming the path as load() does, or when the symbol is missing.
  void* symbol(const char* name);

  // The entry struct `Entry` that the plugin's C function `name` returns.
  template <typename Entry>
  const Entry& entry(const char* name) {
    using Function = const Entry* (*)();
    return *reinterpret_cast<Function>(symbol(name))();
  }

 private:
  PluginSpec spec_;
  std::mutex mutex_;
  std::atomic<void*> handle_{nullptr};
  std::string loaded_path_;
};

}  // namespace repbench

// Defines a plugin's C function `name` returning a module's entry struct (plugin side only).
#define REPBENCH_PLUGIN_ENTRY(name, Entry, ...)                           \
  extern "C" __attribute__((visibility("default"))) const Entry* name() { \
    static const Entry entry{__VA_ARGS__};                                \
    return &entry;                                                        \
  }

// Defines a plugin's C function `name` returning its interface number (plugin side only).
#define REPBENCH_PLUGIN_ABI(name, number) \
  extern "C" __attribute__((visibility("default"))) int name() { return number; }
