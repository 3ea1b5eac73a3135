// Program and library versions, for `repbench --version` and the context block of every record.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace repbench {

const char* version();     // e.g. "0.1.0"
const char* git_commit();  // short hash, "-dirty" when the tree had changes at build time

// {"repbench": ..., "git_commit": ..., "libtorch": ..., "opencv": ..., "faiss": ..., ...}
nlohmann::json version_info();

// The current UTC time as "YYYY-MM-DDTHH:MM:SSZ": the "created"/"date" of every record.
std::string utc_now_iso8601();

// Multi-line text for `repbench --version`.
std::string version_text();

}  // namespace repbench
