// Published reference rows placed among a leaderboard's entries (`repbench leaderboard
// --reference FILE`); the file itself is read by records/reference.h.
#pragma once

#include <string>
#include <vector>

#include "records/reference.h"
#include "report/leaderboard.h"

namespace repbench::report {

// The mark after a published model's name.
inline constexpr const char* kPublishedMark = " \u2020";

// Places the published rows among `entries` (the user's scores): each published column whose
// datasets include a dataset of `entries` (synthetic columns only when `include_synthetic`) is
// matched to it, and the published scores are added under that dataset's label, the model named
// with kPublishedMark (so it never collides with a user's model of the same name) and marked
// published. The user's entries of datasets no published column matches are dropped, so that
// every model is ranked over the same columns. Returns the notes the board should carry (what
// is published, which columns were matched or left out). Throws Error naming the file when no
// column matches.
std::vector<std::string> add_reference_rows(const records::Reference& reference,
                                            std::vector<ScoreEntry>& entries,
                                            bool include_synthetic);

}  // namespace repbench::report
