#include "report/leaderboard_run.h"

#include <filesystem>

#include "core/error.h"
#include "report/cd_diagram.h"
#include "report/reference_rows.h"

namespace fs = std::filesystem;

namespace repbench::report {

LeaderboardOutcome run_leaderboard(const LeaderboardRequest& r) {
  if (r.records.empty() == r.scores.empty())
    fail("give either --records FILE|DIR ... or --scores scores.csv");
  const Format format = parse_format(r.format);
  std::vector<ScoreEntry> entries =
      r.scores.empty() ? load_records(r.records) : load_scores_csv(r.scores);
  if (entries.empty()) fail("no result records found in the given paths");
  std::vector<std::string> reference_notes;
  if (!r.reference.empty())
    reference_notes =
        add_reference_rows(records::load_reference(r.reference), entries, r.reference_synthetic);
  LeaderboardOutcome o;
  o.board = build_leaderboard(entries);
  Leaderboard& board = o.board;
  board.notes.insert(board.notes.end(), reference_notes.begin(), reference_notes.end());
  add_rank_statistics(board, {r.rank_resamples, r.seed, 0});
  relative_page_links(board, r.out.empty() ? "" : fs::path(r.out).parent_path().string());
  if (!r.cd_diagram.empty()) {
    if (board.rank_statistics) {
      write_cd_diagram(board, r.cd_diagram);
    } else {
      // Not an error: the board says why (its last note), and the table is still written.
      o.cd_diagram_note = board.notes.back();
    }
  }
  o.text = render(board, format);
  if (!r.check.empty()) {
    const LeaderboardBaseline baseline = load_leaderboard_baseline(r.check);
    o.checked = true;
    o.check = check_leaderboard(baseline, board, r.check_options);
    o.check_text = format == Format::kJson ? render_check_json(o.check, r.check)
                                           : render_check(o.check, r.check);
  }
  return o;
}

}  // namespace repbench::report
