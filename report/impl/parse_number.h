// Reading a number out of a CSV field, shared by the leaderboard's csv readers (scores csv and
// --check baselines) so that both accept and refuse exactly the same text.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

namespace repbench::report::impl {

// Parses a whole field as a finite double; nullopt for text, NaN, inf, or trailing junk.
inline std::optional<double> parse_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v))
    return std::nullopt;
  return v;
}

}  // namespace repbench::report::impl
