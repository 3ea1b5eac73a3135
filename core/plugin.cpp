#include "core/plugin.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"

namespace repbench {

namespace {

namespace fs = std::filesystem;

// The folder of the running executable, "" when /proc is not mounted.
std::string executable_folder() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

// The folder of the shared library that holds `address`, "" when unknown.
std::string library_folder(const void* address) {
  Dl_info info{};
  if (!address || dladdr(address, &info) == 0 || !info.dli_fname) return "";
  std::error_code ec;
  const fs::path lib = fs::canonical(info.dli_fname, ec);
  return ec ? std::string() : lib.parent_path().string();
}

}  // namespace

std::string Plugin::path() const {
  const char* env = std::getenv(spec_.env);
  if (env && *env) return env;
  std::error_code ec;
  const std::string beside_exe = executable_folder();
  if (!beside_exe.empty() && fs::exists(fs::path(beside_exe) / spec_.file, ec))
    return (fs::path(beside_exe) / spec_.file).string();
  const std::string beside_lib = library_folder(spec_.anchor);
  if (!beside_lib.empty() && fs::exists(fs::path(beside_lib) / spec_.file, ec))
    return (fs::path(beside_lib) / spec_.file).string();
  return (fs::path(beside_exe.empty() ? beside_lib : beside_exe) / spec_.file).string();
}

void Plugin::load() {
  if (handle_.load()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (handle_.load()) return;
  const std::string p = path();
  std::error_code ec;
  if (!fs::exists(p, ec))
    fail("{}: the {} is missing (it is built beside repbench, e.g. `cmake --build build --target "
         "{}`; {} names another file)",
         p, spec_.what, spec_.target, spec_.env);
  void* handle = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    fail("{}: cannot load the {}: {}", p, spec_.what, why ? why : "unknown reason");
  }
  using AbiFunction = int (*)();
  const auto abi = reinterpret_cast<AbiFunction>(dlsym(handle, spec_.abi_function));
  if (!abi) fail("{}: not a repbench {} (no {})", p, spec_.what, spec_.abi_function);
  if (abi() != spec_.abi)
    fail("{}: a {} of another repbench build (interface {}, this binary needs {})", p, spec_.what,
         abi(), spec_.abi);
  loaded_path_ = p;
  handle_.store(handle);
}

void* Plugin::symbol(const char* name) {
  load();
  void* symbol = dlsym(handle_.load(), name);
  if (!symbol)
    fail("{}: the {} has no {} (a plugin of another build?)", loaded_path_, spec_.what, name);
  return symbol;
}

}  // namespace repbench
