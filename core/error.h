// repbench::Error: the one exception type for user and data errors (missing or corrupt files,
// malformed annotations, wrong shapes, NaN). Its message is one line that says what was expected,
// what was found and where; the command line prints it and exits with status 2.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace repbench {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace repbench

// Internal invariants (not user errors): a failure here means a bug in repbench.
#define REPBENCH_ASSERT(cond)                                                              \
  do {                                                                                     \
    if (!(cond))                                                                           \
      throw std::logic_error(fmt::format("internal error: {} at {}:{}", #cond, __FILE__, \
                                         __LINE__));                                       \
  } while (0)
