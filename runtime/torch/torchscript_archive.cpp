// The plugin's part of runtime/: TorchScript archives read with LibTorch's zip reader
// (runtime/torchscript_archive.h), and the plugin's interface number (runtime/torch_plugin.h).
#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>

#include "core/error.h"
#include "runtime/impl/torch_entry.h"
#include "runtime/torch_plugin.h"
#include "runtime/torchscript_archive.h"

namespace repbench::runtime {

namespace {

void check_archive(const std::string& path) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    (void)reader.version();
  } catch (const c10::Error& e) {
    fail("{}: not a TorchScript archive ({})", path, first_line(e.what_without_backtrace()));
  }
}

std::string read_extra(const std::string& path, const std::string& name) {
  std::string text;
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    const std::string record = "extra/" + name;
    if (reader.hasRecord(record)) {
      auto [data, size] = reader.getRecord(record);
      text.assign(static_cast<const char*>(data.get()), size);
    }
  } catch (const c10::Error& e) {
    fail("{}: cannot read {} from the TorchScript archive: {}", path, name,
         first_line(e.what_without_backtrace()));
  }
  return text;
}

}  // namespace

}  // namespace repbench::runtime

extern "C" __attribute__((visibility("default"))) int repbench_torch_plugin_abi() {
  return repbench::runtime::kTorchPluginAbi;
}

REPBENCH_TORCH_ENTRY(repbench_runtime_torch_entry, repbench::runtime::impl::TorchEntry,
                     &repbench::runtime::check_archive, &repbench::runtime::read_extra)
