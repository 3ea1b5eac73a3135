#include "models/impl/torch_util.h"

#include <algorithm>
#include <thread>

#include <ATen/Parallel.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/cuda.h>

namespace repbench::models::impl {

c10::Device resolve_device(const std::string& device) {
  if (device == "cpu") return c10::Device(c10::kCPU);
  if (device.rfind("cuda", 0) != 0) fail("device \"{}\" is not one of cpu, cuda, cuda:N", device);
  c10::Device d(c10::kCPU);
  try {
    d = c10::Device(device);
  } catch (const c10::Error&) {
    fail("device \"{}\" is not one of cpu, cuda, cuda:N", device);
  }
  if (!torch::cuda::is_available())
    fail(
        "device \"{}\" requested, but CUDA is not available (LibTorch built without CUDA, or no "
        "GPU visible); use --device cpu",
        device);
  if (d.has_index() && d.index() >= static_cast<int>(torch::cuda::device_count()))
    fail("device \"{}\" requested, but only {} CUDA device(s) are visible", device,
         torch::cuda::device_count());
  return d;
}

void set_torch_threads(int threads) {
  const int n =
      threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (at::get_num_threads() != n) at::set_num_threads(n);
}

std::string first_line(const std::string& message) {
  const size_t nl = message.find('\n');
  return nl == std::string::npos ? message : message.substr(0, nl);
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

nlohmann::json parse_archive_json(const std::string& path, const std::string& name,
                                  const std::string& text, const std::string& how_to_add) {
  if (text.empty()) fail("{}: no {} in the archive; {}", path, name, how_to_add);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for 1e999
    fail("{}: {}: invalid JSON: {}", path, name, first_line(e.what()));
  }
}

}  // namespace repbench::models::impl
