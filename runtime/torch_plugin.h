// The LibTorch plugin: librepbench_torch.so holds every translation unit that includes LibTorch
// (the torch/ folders of runtime/, models/ and diffusion/) and is the only repbench file
// linked against LibTorch. The repbench binary and its libraries are not: a verb that runs no
// network (eval, search, leaderboard, datasets, compare, synth cutmix/segmix, a scan of
// descriptors) never maps LibTorch, and start-up does not pay for loading it. The first call
// that needs LibTorch (creating a TorchScript or random-CNN extractor, reading a TorchScript
// archive, loading, sampling or training a diffusion model) opens the plugin with dlopen.
// Torch-free header.
//
// Where the plugin is looked for (core/plugin.h's loader, shared with imaging/'s image-codecs
// plugin): $REPBENCH_TORCH_PLUGIN when set (a path to the file), else librepbench_torch.so beside
// the running executable (/proc/self/exe), else beside librepbench_runtime.so (test and benchmark
// programs live in subfolders of the build). A missing or unloadable plugin is an Error naming
// the path.
//
// The interface: each module that has LibTorch code declares, in a torch-free header of its
// impl/, a struct of function pointers (its "entry"); the plugin exports one C function per
// module returning it (REPBENCH_TORCH_ENTRY), and the module's torch-free code calls through it.
// Objects cross the boundary as C++ objects (FeatureExtractor, a diffusion model's Impl): the
// plugin and the binary are built together, from the same headers, against the same shared
// repbench libraries; kTorchPluginAbi guards against a plugin of another build.
#pragma once

#include <string>

#include "core/plugin.h"

namespace repbench::runtime {

// Raised whenever an entry struct changes shape; the plugin must report the same number.
inline constexpr int kTorchPluginAbi = 1;
inline constexpr const char kTorchPluginFile[] = "librepbench_torch.so";
inline constexpr const char kTorchPluginEnv[] = "REPBENCH_TORCH_PLUGIN";

// Where the plugin is (or would be) loaded from, by the rule above. Does not load it.
std::string torch_plugin_path();

// Whether this process has loaded the plugin.
bool torch_plugin_loaded();

// The address of the plugin's exported symbol `name`, loading the plugin on first use (thread
// safe; a failed load is retried by the next call). Throws Error naming the plugin's path when it
// is missing, cannot be loaded, is of another build, or lacks the symbol.
void* torch_plugin_symbol(const char* name);

// The entry struct `Entry` that the plugin's C function `name` returns.
template <typename Entry>
const Entry& torch_plugin_entry(const char* name) {
  using Function = const Entry* (*)();
  return *reinterpret_cast<Function>(torch_plugin_symbol(name))();
}

}  // namespace repbench::runtime

// Defines the plugin's C function `name` returning a module's entry struct (plugin side only).
#define REPBENCH_TORCH_ENTRY(name, Entry, ...) REPBENCH_PLUGIN_ENTRY(name, Entry, __VA_ARGS__)
