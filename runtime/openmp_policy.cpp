#include "runtime/openmp_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace repbench::runtime {

void restart_with_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: then run as we are
}

}  // namespace repbench::runtime
