// What the LibTorch plugin gives runtime/ (runtime/torch_plugin.h): LibTorch's reader of
// TorchScript archives. Torch-free.
#pragma once

#include <string>

namespace repbench::runtime::impl {

struct TorchEntry {
  // runtime/torchscript_archive.h, once the file is known to open.
  void (*check_torchscript_archive)(const std::string& path);
  std::string (*read_archive_extra)(const std::string& path, const std::string& name);
};

inline constexpr const char kTorchEntry[] = "repbench_runtime_torch_entry";

}  // namespace repbench::runtime::impl
