// What `repbench leaderboard` does between its options and its output: records (or a scores CSV)
// -> the board, with published reference rows, rank statistics, page links, the
// critical-difference diagram, its rendering and, with a baseline, the check. The verb and the
// Python module (repbench.leaderboard) both call run_leaderboard(), so a board and its check are
// the same whoever asked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "report/leaderboard.h"
#include "report/leaderboard_check.h"

namespace repbench::report {

struct LeaderboardRequest {
  std::vector<std::string> records;  // record files or folders; or
  std::string scores;                // a long-format scores CSV (exactly one of the two)
  std::string format = "md";         // md | csv | tex | html | json
  std::string out;                   // where the caller will write the table ("" = stdout):
                                     // html links are made relative to its folder
  std::string check;                 // baseline leaderboard (csv or json); "" = no check
  CheckOptions check_options;        // the rule, tolerance, alpha, permutations, seed
  std::string reference;             // published rows to rank among; "" = none
  bool reference_synthetic = false;
  int rank_resamples = 1000;
  uint64_t seed = 0;                 // of the rank bootstrap
  std::string cd_diagram;            // PREFIX: PREFIX.svg and PREFIX.png are written; "" = none
};

struct LeaderboardOutcome {
  Leaderboard board;
  std::string text;              // the rendered table
  bool checked = false;          // a baseline was given
  CheckResult check;             // with checked
  std::string check_text;        // the check report (JSON with --format json), with checked
  std::string cd_diagram_note;   // why no diagram was drawn when one was asked for; "" = drawn
};

// Throws Error on unreadable or missing input, as the verb reports it. Writes only the
// diagram's files (when asked); the caller writes the table.
LeaderboardOutcome run_leaderboard(const LeaderboardRequest& r);

}  // namespace repbench::report
