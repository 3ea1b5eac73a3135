// The bad-input contract's "writes nothing" for the verbs that write into an output folder.
#pragma once

#include <functional>
#include <string>

namespace repbench::app {

// Runs `work`, a verb's work that writes into the folder `out`: when a repbench::Error (bad
// input) ends it, the folder goes again if this run made it, so that bad input writes nothing
// (README, "Bad input"). A folder that was there before is left as it is, and so is the work
// done before running out of memory (runtime::OutOfMemory: its caches resume the rerun).
void remove_new_output_on_error(const std::string& out, const std::function<void()>& work);

}  // namespace repbench::app
