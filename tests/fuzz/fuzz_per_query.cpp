// libFuzzer target: a record's "per_query" block (records/per_query.h): validation and reading.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "records/per_query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json record = nlohmann::json::parse(data, data + size, nullptr, false);
  if (record.is_discarded()) return 0;  // not JSON: the record reader's own error
  try {
    const auto pq = repbench::records::read_per_query(record, "fuzz.json");
    // What was accepted must be consistent: one AP per image, a 64-digit hash.
    if (pq && (pq->ap.size() != pq->images.size() || pq->queries_sha256.size() != 64))
      __builtin_trap();
  } catch (const repbench::Error&) {
  }
  return 0;
}
