// The envelope every repbench output record shares: evaluation records (records/record.h),
// `scan.json` (scan/scan.h) and `experiment.json` (experiment/copying.h). Each is one JSON object
// whose own fields sit beside three common ones:
//
//   "schema":  "repbench.<kind>/<n>"   what the object is and its version (bumped when a field
//                                      changes meaning)
//   "context": {"repbench", "git_commit", "libtorch", "opencv", "faiss", "compiler",
//               "date", "host", "omp_wait_policy"}   who made it, where and when
//   "timings": {"<stage>_seconds": ..., ...}         wall-clock seconds of the run's stages
//
// docs/PROTOCOLS.md §9.4 describes the three records and their envelope.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace repbench::records {

// The schemas of the records that are not evaluation records (those are records/record.h's
// kRecordSchema). Their writers (scan/, experiment/) and readers (report/scan_report,
// report/copying_report) sit in modules that do not link each other, so the tags live here.
// Version 1 was the integer `"schema": 1` with "repbench_version", "git_commit", "created" and
// "seconds" at the top; readers still accept it.
// Scan schema 3: the baseline's and the duplicate count's samples are drawn with core/rng (2 drew
// them with std::shuffle over std::mt19937_64); the fields are those of 2, which is still read.
inline constexpr const char* kScanSchema = "repbench.scan/3";
inline constexpr const char* kCopyingExperimentSchema = "repbench.copying-experiment/2";

// The "context" block: version_info() (program, git commit, library versions, compiler) plus
// "date" (UTC, ISO-8601, e.g. "2026-11-23T09:00:00Z"), "host" (hostname) and "omp_wait_policy"
// (the OMP_WAIT_POLICY the process ran with, null when unset: libgomp's idle threads spin or
// sleep by it, which can change run times several-fold on a shared machine).
nlohmann::json record_context();

// {"schema": schema, "context": record_context(), "timings": timings}: the start of a record.
// `timings` must be a JSON object (REPBENCH_ASSERT).
nlohmann::json record_envelope(const std::string& schema,
                               nlohmann::json timings = nlohmann::json::object());

}  // namespace repbench::records
