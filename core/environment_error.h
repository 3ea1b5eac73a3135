// EnvironmentError: a failure of the environment rather than of the input: a write that failed
// (a full disk, an I/O error, a read-only or vanished folder), a read that failed with an I/O
// error, a lock that cannot be taken. It is an Error (one line, exit status 2); `run` stops on it
// instead of marking a row skipped (suite/runner.h, docs/safety.md).
#pragma once

#include "core/error.h"

namespace repbench {

class EnvironmentError : public Error {
 public:
  using Error::Error;
};

// Throws EnvironmentError with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail_environment(fmt::format_string<Args...> format, Args&&... args) {
  throw EnvironmentError(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace repbench
