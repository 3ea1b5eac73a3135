// libFuzzer target: the strings of descriptor post-processing and re-ranking. The input is
// parsed as a re-ranking string (metrics::parse_rerank) and as a post-processing chain
// (postprocess::split_chain, then FAISS's factory through check_chain for 16-dimensional input).
#include <cstdint>
#include <string>

#include "core/error.h"
#include "metrics/rerank.h"
#include "postprocess/postprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const repbench::metrics::RerankSpec spec = repbench::metrics::parse_rerank(text);
    // The canonical spelling parses to the same steps.
    if (repbench::metrics::parse_rerank(spec.to_string()).to_string() != spec.to_string())
      __builtin_trap();
  } catch (const repbench::Error&) {
  }
  try {
    repbench::postprocess::check_chain(text, 16);
  } catch (const repbench::Error&) {
  }
  return 0;
}
