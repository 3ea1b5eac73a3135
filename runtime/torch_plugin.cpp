#include "runtime/torch_plugin.h"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"

namespace repbench::runtime {

namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_loaded{false};

// The folder of the running executable, "" when /proc is not mounted.
std::string executable_folder() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

// The folder of the file this function was loaded from (librepbench_runtime.so).
std::string this_library_folder() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&torch_plugin_path), &info) == 0 || !info.dli_fname)
    return "";
  std::error_code ec;
  const fs::path lib = fs::canonical(info.dli_fname, ec);
  return ec ? std::string() : lib.parent_path().string();
}

struct Plugin {
  void* handle = nullptr;
  std::string path;
};

Plugin load_plugin() {
  Plugin p;
  p.path = torch_plugin_path();
  std::error_code ec;
  if (!fs::exists(p.path, ec))
    fail(
        "{}: the LibTorch plugin is missing (it is built beside repbench, e.g. `cmake --build "
        "build --target repbench_torch`; {} names another file)",
        p.path, kTorchPluginEnv);
  p.handle = dlopen(p.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!p.handle) {
    const char* why = dlerror();
    fail("{}: cannot load the LibTorch plugin: {}", p.path, why ? why : "unknown reason");
  }
  using AbiFunction = int (*)();
  const auto abi = reinterpret_cast<AbiFunction>(dlsym(p.handle, "repbench_torch_plugin_abi"));
  if (!abi) fail("{}: not a repbench LibTorch plugin (no repbench_torch_plugin_abi)", p.path);
  if (abi() != kTorchPluginAbi)
    fail("{}: a LibTorch plugin of another repbench build (interface {}, this binary needs {})",
         p.path, abi(), kTorchPluginAbi);
  g_loaded = true;
  return p;
}

const Plugin& plugin() {
  static const Plugin p = load_plugin();  // a throw leaves it unset: the next call retries
  return p;
}

}  // namespace

std::string torch_plugin_path() {
  const char* env = std::getenv(kTorchPluginEnv);
  if (env && *env) return env;
  std::error_code ec;
  const std::string beside_exe = executable_folder();
  if (!beside_exe.empty() && fs::exists(fs::path(beside_exe) / kTorchPluginFile, ec))
    return (fs::path(beside_exe) / kTorchPluginFile).string();
  const std::string beside_lib = this_library_folder();
  if (!beside_lib.empty() && fs::exists(fs::path(beside_lib) / kTorchPluginFile, ec))
    return (fs::path(beside_lib) / kTorchPluginFile).string();
  return (fs::path(beside_exe.empty() ? beside_lib : beside_exe) / kTorchPluginFile).string();
}

bool torch_plugin_loaded() {
  return g_loaded;
}

void* torch_plugin_symbol(const char* name) {
  const Plugin& p = plugin();
  void* symbol = dlsym(p.handle, name);
  if (!symbol) fail("{}: the LibTorch plugin has no {} (a plugin of another build?)", p.path, name);
  return symbol;
}

}  // namespace repbench::runtime
