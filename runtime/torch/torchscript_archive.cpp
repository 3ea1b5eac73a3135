// Reading TorchScript archives with LibTorch's zip reader (runtime/torchscript_archive.h).
#include <cerrno>
#include <cstring>
#include <fstream>

#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>

#include "core/error.h"
#include "runtime/torchscript_archive.h"

namespace repbench::runtime {

void check_torchscript_archive(const std::string& path) {
  {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail("{}: cannot open model file ({})", path, std::strerror(errno));
  }
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    (void)reader.version();
  } catch (const c10::Error& e) {
    fail("{}: not a TorchScript archive ({})", path, first_line(e.what_without_backtrace()));
  }
}

std::string read_archive_extra(const std::string& path, const std::string& name) {
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

}  // namespace repbench::runtime
