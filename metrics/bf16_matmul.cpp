#include "metrics/bf16_matmul.h"

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <tuple>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/error.h"

namespace repbench::metrics {

void to_bf16(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = to_bf16(x[i]);
}

namespace {

using dnnl::memory;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// The primitive of one shape: a [m x k] row-major, b given as [n x k] row-major (the weights
// [k x n] with strides {1, k}), c [m x n] with row stride ldc.
dnnl::matmul::primitive_desc describe(int64_t m, int64_t n, int64_t k, int64_t ldc) {
  const memory::desc a({m, k}, memory::data_type::bf16, memory::dims{k, 1});
  const memory::desc b({k, n}, memory::data_type::bf16, memory::dims{1, k});
  const memory::desc c({m, n}, memory::data_type::f32, memory::dims{ldc, 1});
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), cpu_engine());
}

struct Support {
  bool ok = false;
  std::string impl;
};

const Support& support() {
  static const Support s = [] {
    Support r;
    try {
      const unsigned isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
      const unsigned bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
      if ((isa & bf16) != bf16) {
        r.impl = "unsupported: the CPU (or ONEDNN_MAX_CPU_ISA) has no AVX512_BF16";
        return r;
      }
      r.impl = describe(64, 64, 64, 64).impl_info_str();
      r.ok = true;
    } catch (const dnnl::error& e) {
      r.impl = std::string("unsupported: oneDNN refused the bf16 matmul (") + e.what() + ")";
    }
    return r;
  }();
  return s;
}

}  // namespace

bool bf16_matmul_supported() { return support().ok; }

std::string bf16_matmul_impl() { return support().impl; }

void bf16_matmul(const uint16_t* a, int64_t m, const uint16_t* b, int64_t n, int64_t k, float* c,
                 int64_t ldc) {
  REPBENCH_ASSERT(bf16_matmul_supported());
  if (m == 0 || n == 0) return;
  // Creating a primitive costs far more than a small product: one per shape and thread.
  struct Cached {
    dnnl::matmul::primitive_desc pd;
    dnnl::matmul prim;
  };
  thread_local std::map<std::tuple<int64_t, int64_t, int64_t, int64_t>, std::unique_ptr<Cached>>
      cache;
  std::unique_ptr<Cached>& slot = cache[{m, n, k, ldc}];
  if (!slot) {
    if (cache.size() > 64) {  // shapes of edge blocks come and go: keep the cache small
      cache.clear();
      return bf16_matmul(a, m, b, n, k, c, ldc);
    }
    auto pd = describe(m, n, k, ldc);
    slot = std::make_unique<Cached>(Cached{pd, dnnl::matmul(pd)});
  }
  dnnl::engine& engine = cpu_engine();
  dnnl::stream stream(engine);
  memory ma(slot->pd.src_desc(), engine, const_cast<uint16_t*>(a));
  memory mb(slot->pd.weights_desc(), engine, const_cast<uint16_t*>(b));
  memory mc(slot->pd.dst_desc(), engine, c);
  slot->prim.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
  stream.wait();
}

}  // namespace repbench::metrics
