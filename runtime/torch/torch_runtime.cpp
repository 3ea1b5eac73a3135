#include "runtime/torch_runtime.h"

#include <malloc.h>

#include <algorithm>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include "core/parallel.h"
#include "runtime/portable_numerics.h"

namespace repbench::runtime {

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

void keep_freed_blocks_for_reuse() {
  constexpr int kLargestReused = 1 << 30;
  mallopt(M_MMAP_THRESHOLD, kLargestReused);  // blocks below this come from the heap
  mallopt(M_TRIM_THRESHOLD, kLargestReused);  // the heap's free top is kept up to this
}

bool cpu_has_bf16() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16");
}

void set_torch_threads(int threads) {
  int n = resolve_threads(threads);
  if (portable_numerics()) {
    // One thread (no reduction split by the thread count) and no oneDNN convolutions (their
    // kernels are chosen by the CPU): runtime/portable_numerics.h.
    n = 1;
    at::globalContext().setUserEnabledMkldnn(false);
  }
  if (at::get_num_threads() != n) at::set_num_threads(n);
}

}  // namespace repbench::runtime
