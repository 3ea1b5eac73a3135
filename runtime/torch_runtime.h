// The LibTorch runtime shared by every translation unit that runs LibTorch (the TorchScript and
// random-CNN extractors of models/, the samplers and trainer of diffusion/): devices,
// intra-op threads, and LibTorch's exceptions turned into repbench's. Includes LibTorch headers:
// only LibTorch translation units may include it (each compiles in ~15 s); the torch-free parts
// of the runtime are runtime/torchscript_archive.h and runtime/openmp_policy.h.
#pragma once

#include <string>
#include <utility>

#include <c10/core/Device.h>
#include <c10/util/Exception.h>

#include "core/error.h"
#include "runtime/out_of_memory.h"
#include "runtime/torchscript_archive.h"

namespace repbench::runtime {

// Parses "cpu", "cuda", "cuda:N". Throws Error when CUDA is requested but this LibTorch has no
// CUDA support or sees no GPU.
c10::Device resolve_device(const std::string& device);

// Sets LibTorch's intra-op threads (0 = all hardware threads). Debian's LibTorch starts with
// one thread, which halves the speed of a ResNet-50 on two cores.
void set_torch_threads(int threads);

// Keeps freed heap blocks of up to 1 GiB in the process for the next allocation instead of
// handing them back to the kernel. By default glibc maps every block above its mmap threshold
// (32 MiB at most) afresh and unmaps it when freed, so every batch's large activations (a
// ResNet-50 batch of 16: 51 MB per layer output) were faulted in and zeroed again page by page
// (48 images: 350k minor faults before, 163k after; docs/extraction.md). Process-wide; memory
// freed below the peak stays with the process, and the peak can grow (there: 624 to 762 MB).
void keep_freed_blocks_for_reuse();

// Whether the CPU runs bf16 matrix products natively (AVX512_BF16 or AMX-BF16), where
// LibTorch's CPU autocast to bf16 pays off.
bool cpu_has_bf16();

// Runs f(), turning LibTorch exceptions into repbench ones: out-of-memory into OutOfMemory
// (runtime/out_of_memory.h: the pipeline halves its batch), anything else into Error, each
// prefixed with `where`.
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

}  // namespace repbench::runtime
