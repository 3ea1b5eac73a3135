// OpenMP's wait policy for the processes that run LibTorch. Torch-free header.
//
// libgomp (the OpenMP runtime of LibTorch, of FAISS and of metrics/) reads OMP_WAIT_POLICY once,
// when it is loaded: before main, since the repbench binary links it. Its default makes idle
// worker threads spin; when other processes share the cores (a CI job running tests in parallel,
// a cluster node) the spinning threads take the cores from the working ones, and a two-thread
// run was measured 7x slower than a one-thread run (a DDPM demo test: 685 s instead of 101 s under
// load). A process that may run LibTorch therefore restarts itself once with the passive policy,
// unless the user chose a policy.
#pragma once

namespace repbench::runtime {

// When OMP_WAIT_POLICY is unset: sets it to "passive" and executes /proc/self/exe with `argv`
// again (returns only when that fails: the process then goes on as it is). Does nothing when the
// user set a policy.
void restart_with_passive_openmp(char** argv);

}  // namespace repbench::runtime
