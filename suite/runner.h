// Runs a suite: models x sets x protocols -> descriptors (cached) -> result records ->
// leaderboards. A model or set that cannot be evaluated becomes records with status "skipped"
// and the reason, and the rest runs; a failure of the environment stops the run (RunOptions). Every file is written atomically; a rerun reuses finished descriptors
// (and resumes an interrupted extraction from its last finished chunk).
//
// Layout of suite.output:
//   cache/<model>/<set>.{db,queries}.<key>.npy + .json   descriptors and their sidecars
//                                                         (<key>.fast-decode.npy with fast_decode)
//   records/<model>/<set>.<protocol>.json                 one record per model x set x protocol
//   records/<model>/<set>.<protocol>.failures.html        its failure page, for a record with
//                                                         per-query data (report/failure_page.h)
//   leaderboard.{md,csv,tex,html,json}                    renderings of this run's records
//   cd_diagram.{svg,png}                                  the critical-difference diagram, when
//                                                         every model has per-query data on
//                                                         every set (report/cd_diagram.h)
#pragma once

#include <string>
#include <vector>

#include "suite/suite_file.h"

namespace repbench::suite {

struct SuiteRunResult {
  std::vector<std::string> records;       // paths, in run order
  std::vector<std::string> leaderboards;  // paths, in suite.formats order, then the CD diagram's
                                          // (the demo adds its compare.{md,json})
  int64_t records_skipped = 0;
  // Rows skipped because the environment failed (RunOptions::keep_going): `run` still exits 2.
  std::vector<std::string> environment_errors;
  std::string markdown;  // the leaderboard as markdown, for printing
};

struct RunOptions {
  bool quiet = false;  // no per-row lines on stdout
  // A failure of the environment (EnvironmentError: a full disk, an I/O error, a lock that cannot
  // be taken) stops the run with that error; with keep_going its rows are marked skipped, the
  // rest runs, and SuiteRunResult::environment_errors lists them. Skipped rows are otherwise only
  // for a model or set that cannot be evaluated (a model that cannot be created, a set that
  // cannot be loaded or built, undecodable images, a similarity or rerank the model's outputs
  // do not allow).
  bool keep_going = false;
};

SuiteRunResult run_suite(const Suite& suite, const RunOptions& options = {});

// A file-system-safe name for a model: its display name and a short hash of its spec.
std::string model_slug(const std::string& name, const std::string& spec);

}  // namespace repbench::suite
