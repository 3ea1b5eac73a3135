// The bad-input contract, as tests assert it (README, "Bad input"): a command given a missing or
// corrupt file, a malformed annotation, a wrong shape or an unknown name exits with status exactly
// 2 (an abort, a crash or a plain failure does not pass), writes exactly one non-empty line on
// stderr, naming the input at fault and the problem, and creates none of its outputs; the library
// throws repbench::Error with that one line as its message.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"

namespace repbench::test_support {

// The outputs argument of a command given no output path (it must print, not write).
inline const std::vector<std::string> kNoOutput;

// `status`/`err` of a finished command (any result struct with those members, or ProcessResult's
// exit_code) against the contract. `input`: the file, or the name or option at fault;
// `problem`: a phrase of the message that says what is wrong; `outputs`: every path the command
// was told to write (its --out, its prefixes' files, a folder), none of which may exist after it
// (so none may exist before it either: give fresh names). With `after_progress`, the error line
// may follow the progress summaries ("LABEL: N items in ...", core/progress.h) of work the
// command finished before it met the bad input (scan and extract have no switch to silence them);
// nothing else may come before it.
inline ::testing::AssertionResult is_bad_input(int status, const std::string& err,
                                               const std::string& input, const std::string& problem,
                                               const std::vector<std::string>& outputs,
                                               bool after_progress = false) {
  auto failure = [&](const std::string& why) {
    return ::testing::AssertionFailure() << why << "\n  status " << status << ", stderr:\n" << err;
  };
  if (status != 2) return failure("exit status is not 2");
  std::string line = err;
  if (after_progress) {
    // Drop the progress summaries: every complete line before the last one.
    size_t end;
    while ((end = line.find('\n')) != std::string::npos && end + 1 < line.size()) {
      if (line.substr(0, end).find(" items in ") == std::string::npos)
        return failure("a line before the error is not a progress summary");
      line.erase(0, end + 1);
    }
  }
  if (line.empty() || line.back() != '\n' || std::count(line.begin(), line.end(), '\n') != 1)
    return failure("stderr is not exactly one line");
  if (line.find_first_not_of(" \t\n") == std::string::npos) return failure("stderr is blank");
  if (input.empty()) return failure("the test names no input to look for");
  if (line.find(input) == std::string::npos) return failure("stderr does not name '" + input + "'");
  if (line.find(problem) == std::string::npos)
    return failure("stderr does not say '" + problem + "'");
  for (const std::string& out : outputs) {
    std::error_code ec;
    if (out.empty()) return failure("an output path is empty (kNoOutput says there is none)");
    if (std::filesystem::exists(out, ec)) return failure("it wrote " + out);
  }
  return ::testing::AssertionSuccess();
}

// The outputs of EXPECT_BAD_INPUT: kNoOutput, or one or more paths.
inline std::vector<std::string> output_list(const std::vector<std::string>& none) {
  return none;
}
template <typename... Paths>
std::vector<std::string> output_list(const std::string& first, const Paths&... rest) {
  return {first, std::string(rest)...};
}

template <typename Result>
auto exit_status_of(const Result& r) -> decltype(r.status) {
  return r.status;
}
template <typename Result>
auto exit_status_of(const Result& r) -> decltype(r.exit_code) {
  return r.exit_code;
}

// is_bad_input on a finished command's result (evaluated once by the macros below).
template <typename Result>
::testing::AssertionResult is_bad_result(const Result& r, const std::string& input,
                                         const std::string& problem,
                                         const std::vector<std::string>& outputs,
                                         bool after_progress = false) {
  return is_bad_input(exit_status_of(r), r.err, input, problem, outputs, after_progress);
}

// A library call's error: the message of the repbench::Error that `f` throws ("(no error)" when
// it returns, "(other exception: ...)" for any other type).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("(other exception: ") + e.what() + ")";
  }
  return "(no error)";
}

inline ::testing::AssertionResult is_one_line_error(const std::string& message,
                                                    const std::string& phrase) {
  if (message == "(no error)") return ::testing::AssertionFailure() << "no repbench::Error thrown";
  if (message.empty() || message.find('\n') != std::string::npos)
    return ::testing::AssertionFailure() << "not one non-empty line: " << message;
  if (message.find(phrase) == std::string::npos)
    return ::testing::AssertionFailure() << "'" << phrase << "' not in: " << message;
  return ::testing::AssertionSuccess();
}

}  // namespace repbench::test_support

// EXPECT_BAD_INPUT(result, input, problem, outputs...): `result` (with .status or .exit_code, and
// .err) of a command line that must fail by the contract above; `outputs`: the paths it was told
// to write (strings), or kNoOutput.
#define EXPECT_BAD_INPUT(result, input, problem, ...)  \
  EXPECT_TRUE(::repbench::test_support::is_bad_result( \
      (result), (input), (problem), ::repbench::test_support::output_list(__VA_ARGS__)))

// The same for a command that may report finished work first (see is_bad_input).
#define EXPECT_BAD_INPUT_AFTER_PROGRESS(result, input, problem, ...) \
  EXPECT_TRUE(::repbench::test_support::is_bad_result(               \
      (result), (input), (problem), ::repbench::test_support::output_list(__VA_ARGS__), true))

// EXPECT_ERROR_CONTAINS(statement, phrase): the statement throws repbench::Error whose message is
// one line holding `phrase` (EXPECT_THROW(..., Error) alone lets any wrong message pass).
#define EXPECT_ERROR_CONTAINS(statement, phrase)           \
  EXPECT_TRUE(::repbench::test_support::is_one_line_error( \
      ::repbench::test_support::error_of([&] { (void)(statement); }), (phrase)))
