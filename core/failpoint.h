// Fail points: a TEST-ONLY way to kill the process at a named place, so that crash-safety tests
// interrupt a run at a deterministic point instead of racing a poll against it.
//
//   REPBENCH_FAILPOINT=NAME      the first time the code reaches fail_point("NAME"), the process
//   REPBENCH_FAILPOINT=NAME:N    (or the N-th time) raises SIGKILL on itself: no destructor, no
//                                flush, no atexit handler runs, exactly as with `kill -9`.
//
// Unset (the only setting a user has any reason for), a fail point costs one load of a cached
// flag. The names are listed in docs/testing.md with where each one is reached; they are not a
// user interface and may change with the tests that use them.
#pragma once

namespace repbench {

// Raises SIGKILL when REPBENCH_FAILPOINT names `name` and this is the call it asks for.
void fail_point(const char* name);

}  // namespace repbench
