// LibTorch helpers shared by the extractors that run through LibTorch. Includes torch headers:
// only .cpp files of models/ may include it (each such translation unit compiles in ~15 s).
#pragma once

#include <string>
#include <utility>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/feature_extractor.h"

namespace repbench::models::impl {

// Parses "cpu", "cuda", "cuda:N". Throws Error when CUDA is requested but this LibTorch has no
// CUDA support or sees no GPU.
c10::Device resolve_device(const std::string& device);

// Sets LibTorch's intra-op threads (0 = all hardware threads). Debian's LibTorch starts with
// one thread, which halves the speed of a ResNet-50 on two cores.
void set_torch_threads(int threads);

// The first line of a c10::Error message (they carry a backtrace after it).
std::string first_line(const std::string& message);

// The text of the extra file `name` of the TorchScript archive `path` (torch.jit.save's
// _extra_files), "" when the archive has none. Throws Error naming the archive when it cannot be
// read.
std::string read_archive_extra(const std::string& path, const std::string& name);

// `text`, the extra file `name` of archive `path`, as JSON. Throws Error naming both when it is
// empty ("no NAME in the archive; " + how_to_add) or not JSON.
nlohmann::json parse_archive_json(const std::string& path, const std::string& name,
                                  const std::string& text, const std::string& how_to_add);

// Runs f(), turning LibTorch exceptions into repbench ones: out-of-memory into OutOfMemory (the
// pipeline halves the batch), anything else into Error prefixed with `where`.
template <typename F>
auto run_translating_errors(const std::string& where, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const c10::OutOfMemoryError& e) {
    throw OutOfMemory(where + ": out of memory: " + first_line(e.what_without_backtrace()));
  } catch (const c10::Error& e) {
    const std::string msg = first_line(e.what_without_backtrace());
    if (msg.find("out of memory") != std::string::npos) throw OutOfMemory(where + ": " + msg);
    throw Error(where + ": " + msg);
  }
}

}  // namespace repbench::models::impl
