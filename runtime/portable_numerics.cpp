#include "runtime/portable_numerics.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace repbench::runtime {

namespace {

bool env_is(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v != nullptr && std::strcmp(v, value) == 0;
}

// The pins (portable_numerics.h), less those this CPU cannot run.
std::vector<std::pair<const char*, const char*>> pins() {
  std::vector<std::pair<const char*, const char*>> p = {{"OPENBLAS_NUM_THREADS", "1"}};
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    p.insert(p.end(), {{"ATEN_CPU_CAPABILITY", "avx2"},
                       {"OPENBLAS_CORETYPE", "Haswell"},
                       {"DNNL_MAX_CPU_ISA", "AVX2"},
                       {"ONEDNN_MAX_CPU_ISA", "AVX2"}});
  } else {
    p.insert(p.end(), {{"ATEN_CPU_CAPABILITY", "default"}});
  }
  p.emplace_back(kNumericsEnv, "portable");
  return p;
}

}  // namespace

bool portable_numerics() {
  return env_is(kNumericsEnv, "portable");
}

void restart_with_portable_numerics(char** argv, bool by_default) {
  if (env_is(kNumericsEnv, "native")) return;
  if (!by_default && !portable_numerics()) return;
  bool pinned = true;
  for (const auto& [name, value] : pins()) pinned = pinned && env_is(name, value);
  if (pinned) return;
  __builtin_cpu_init();
  if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
    std::fprintf(stderr,
                 "repbench: note: this CPU has no AVX2 and FMA: portable numerics pin what they "
                 "can, and LibTorch's numbers may differ from those of AVX2 machines\n");
  for (const auto& [name, value] : pins())
    if (setenv(name, value, 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: then run as we are
}

}  // namespace repbench::runtime
