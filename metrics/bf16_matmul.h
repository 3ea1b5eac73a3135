// bf16 x bf16 -> f32 matrix products through oneDNN, behind one small interface: the only file
// that includes oneDNN is bf16_matmul.cpp (written against oneDNN 2.x, `matmul::desc`; a port to
// 3.x touches that file alone).
//
// bf16 here is the upper half of an IEEE float, rounded to nearest even (to_bf16). The product
// runs on the CPU's own bf16 dot-product instructions (AVX512_BF16, or AMX where present);
// bf16_matmul_supported() says whether this CPU has them, and nothing calls bf16_matmul()
// otherwise: a CPU without them (or a oneDNN that refuses the primitive) is answered with
// `false`, never an error, and callers take the fp32 path. docs/precision.md bounds the error.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace repbench::metrics {

// The nearest bf16 of x (ties to even; NaN stays NaN, infinities stay infinite). Inline and
// branch-free, so that loops over rows vectorise.
inline uint16_t to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  // Round to nearest even on the 16 bits dropped (an overflow to infinity is the right result).
  const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  const uint32_t quiet_nan = (u >> 16) | 0x40u;
  return static_cast<uint16_t>((u & 0x7FFFFFFFu) > 0x7F800000u ? quiet_nan : rounded);
}
// The float a bf16 stands for (exact).
inline float from_bf16(uint16_t h) {
  const uint32_t u = uint32_t{h} << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}
// n values, to_bf16 each.
void to_bf16(const float* x, int64_t n, uint16_t* out);

// True when oneDNN runs bf16 x bf16 -> f32 matmuls on this CPU's bf16 instructions (its
// effective ISA includes AVX512_BF16 and it creates the primitive). Decided once per process;
// ONEDNN_MAX_CPU_ISA (oneDNN's own variable, e.g. AVX2) lowers it, as on a CPU without bf16.
bool bf16_matmul_supported();
// oneDNN's name for the implementation it picked (e.g. "brg:avx512_core_bf16"), or why there is
// none ("unsupported: ...").
std::string bf16_matmul_impl();

// c[i * ldc + j] = sum_t a[i * k + t] * b[j * k + t] for i < m, j < n: a [m x k] and b [n x k]
// row-major bf16, c f32, accumulated in f32. Single-threaded on the calling thread when called
// from inside an OpenMP parallel region (as search_topk's workers do), else on oneDNN's OpenMP
// threads. Primitives are cached per thread and shape. Precondition: bf16_matmul_supported().
void bf16_matmul(const uint16_t* a, int64_t m, const uint16_t* b, int64_t n, int64_t k, float* c,
                 int64_t ldc);

}  // namespace repbench::metrics
