// Running an external program (gnuplot for the scan plots, chromium in the page tests) without a
// shell: the arguments go to the program as they are, so a path with quotes, spaces or `;` in it
// is only ever a path.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace repbench {

struct ProcessResult {
  int exit_code = -1;      // the program's exit status; 128 + signal when a signal ended it
  bool timed_out = false;  // killed (with its process group) after the timeout
  std::string out;         // everything it wrote to stdout
  std::string err;         // everything it wrote to stderr
};

// The full path of `name` found on PATH (or `name` itself when it contains a '/' and is an
// executable file); nullopt when there is none.
std::optional<std::string> find_program(const std::string& name);

// Runs argv[0] (looked up with find_program) with `argv`, stdin from /dev/null, in `cwd` when it
// is not empty, in its own process group, and collects stdout and stderr. A timeout > 0 kills
// the whole group after that many seconds. Throws Error when argv[0] is not found or cannot be
// started; a program that runs and fails is a result, not an exception.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& cwd = {},
                          double timeout_s = 0);

// The first non-empty line of `text` (trimmed), for one-line error messages.
std::string first_line(const std::string& text);

}  // namespace repbench
