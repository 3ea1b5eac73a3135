// Portable numerics: the same bytes from LibTorch on every x86-64 CPU with AVX2 and FMA (AMD or
// Intel, AVX2 or AVX-512) and every thread count. Torch-free header.
//
// The LibTorch work of the demo (its DDPM's training, RePaint sampling, the random CNN) goes
// through code that picks its kernels by the CPU it runs on, and each kernel sums in its own
// order: ATen's element-wise and reduction kernels (a default, an AVX2 and an AVX-512 build, whose
// random normal fills differ too), OpenBLAS's sgemm behind convolutions and linear layers (a
// kernel per CPU family: Haswell, Zen, SkylakeX, ...), oneDNN's convolutions (by ISA), and the
// split of reductions among threads. Unpinned, the demo's dif-patch column moved by 2 mAP points
// between an Intel and an AMD machine. Portable numerics pin each of them:
//   ATEN_CPU_CAPABILITY=avx2        ATen's AVX2 kernels on every CPU (AVX-512 ones never)
//   OPENBLAS_CORETYPE=Haswell       OpenBLAS's Haswell kernels (AVX2 + FMA), whatever the CPU
//   OPENBLAS_NUM_THREADS=1          no split of a product among BLAS threads
//   DNNL_MAX_CPU_ISA=AVX2 (and ONEDNN_MAX_CPU_ISA)   oneDNN no higher than AVX2
// and, inside the LibTorch plugin (runtime/torch_runtime.h, set_torch_threads): one intra-op
// thread, and oneDNN's (mkldnn) convolutions off, so that convolutions are ATen's im2col + the
// pinned sgemm. OpenBLAS and libgomp are loaded with the binary, before main, so the pinning is
// an environment given to a fresh start of the process: restart_with_portable_numerics().
//
// The demo runs with portable numerics unless REPBENCH_NUMERICS=native; every other verb that
// may run LibTorch runs natively (all SIMD, all cores) unless REPBENCH_NUMERICS=portable. On a
// CPU without AVX2 and FMA the pins that need them are left out (a note on stderr says so) and
// the numbers may differ from those of AVX2 machines.
#pragma once

namespace repbench::runtime {

// The environment variable that chooses: "portable" or "native" (unset: the verb's default).
inline constexpr const char kNumericsEnv[] = "REPBENCH_NUMERICS";

// Whether this process runs with portable numerics (REPBENCH_NUMERICS=portable in its
// environment, which restart_with_portable_numerics() sets).
bool portable_numerics();

// When portable numerics are asked for (`by_default`, or REPBENCH_NUMERICS=portable; never when
// REPBENCH_NUMERICS=native) and the environment does not pin them yet: sets the variables above
// and REPBENCH_NUMERICS=portable, and executes /proc/self/exe with `argv` again (returns only when
// that fails: the process then goes on unpinned). Otherwise does nothing.
void restart_with_portable_numerics(char** argv, bool by_default);

}  // namespace repbench::runtime
