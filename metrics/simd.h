// CPU dispatch for the few hot loops of metrics/ (implementation detail, not API).
//
// The library is built for baseline x86-64 so that binaries run on any CPU of the family. Loops
// that the compiler vectorises by itself are marked REPBENCH_CLONES: GCC compiles them for
// AVX-512, AVX2 and baseline, and the dynamic loader picks one at startup (target_clones). Loops
// that need explicit intrinsics (mask tests that skip most of a row) have an AVX-512 version
// compiled with a function-level target attribute, chosen at run time when
// cpu_has_avx512() is true, and a portable version otherwise.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define REPBENCH_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define REPBENCH_CLONES
#endif

#if defined(__GNUC__) && defined(__x86_64__)
#define REPBENCH_X86_AVX512 1
#define REPBENCH_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,bmi,popcnt")))
#else
#define REPBENCH_X86_AVX512 0
#endif

namespace repbench::metrics::detail {

// True when the CPU (and OS) run AVX-512F/BW/DQ code. Evaluated once.
inline bool cpu_has_avx512() {
#if REPBENCH_X86_AVX512
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512dq");
  return has;
#else
  return false;
#endif
}

}  // namespace repbench::metrics::detail
