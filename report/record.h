// The result record: the one canonical output of an evaluation, one JSON file per
// model x dataset x protocol. Every table, CSV and page that repbench produces is a rendering of
// records, so whatever a report shows must be in a record first.
//
// Schema "repbench.record/1" (fields marked * are required):
//   {
//     "schema"*:   "repbench.record/1",
//     "model"*:    {"name"*: "sscd", "category": "CD/IR", "spec": "torchscript:models/sscd.pt"},
//     "set":       "roxford5k",            // the dataset's machine name
//     "protocol":  "medium",               // easy|medium|hard|default|...
//     "dataset"*:  "rOxford5k (M)",        // display label = the leaderboard column
//     "similarity": "inner-product",
//     "metrics"*:  {"map"*: 0.53,           // a fraction in [0, 1]; required when status is "ok"
//                   "map_ci95": [0.49, 0.57], "mp@1": ..., "mp@5": ..., "mp@10": ...,
//                   "queries_scored": 70, "queries_empty": 0, ...any extra metrics},
//     "status":    "ok" | "skipped",       // absent = "ok"
//     "skipped_reason": "...",             // required (non-empty) when status is "skipped"
//     "inputs":    {"query_features": {"path": ..., "sha256": ...}, ...},
//     "options":   {...}, "timings": {...}, "seed": 0,
//     "context":   {"repbench", "git_commit", "libtorch", "opencv", "faiss", "date", "host", ...}
//   }
// A model or set that failed in a run is still written, as a record with status "skipped" and the
// reason, so that the leaderboard shows the row instead of silently dropping it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace repbench::report {

// The schema tag every record carries; bump the number when a field changes meaning. /2 adds the
// per_query block; /1 records (without it) are still read.
inline constexpr const char* kRecordSchema = "repbench.record/2";
inline constexpr const char* kRecordSchemaV1 = "repbench.record/1";

// Whether a record with this schema tag is readable (kRecordSchema or kRecordSchemaV1).
inline bool is_record_schema(const std::string& schema) {
  return schema == kRecordSchema || schema == kRecordSchemaV1;
}

// The "context" block of a record: version_info() (program, git commit, library versions,
// compiler) plus "date" (UTC, ISO-8601, e.g. "2026-11-23T09:00:00Z") and "host" (hostname).
nlohmann::json record_context();

// Checks the required fields listed above; throws Error "<where>: ..." naming the first problem.
// `where` is the file the record comes from or goes to.
void validate_record(const nlohmann::json& record, const std::string& where);

// Validates `record` and writes it to `path` atomically, pretty-printed (2-space indent) with a
// trailing newline. Throws Error naming `path` when a required field is missing or malformed.
void write_record(const std::string& path, const nlohmann::json& record);

// Reads and validates one record. Throws a one-line Error naming `path` when the file is missing,
// is not JSON, has a missing or different schema, or misses model.name, dataset, or (for an "ok"
// record) metrics.map.
nlohmann::json read_record(const std::string& path);

// A readable column label for a dataset and protocol, as in the paper's Table 1:
//   ("roxford5k", "medium") -> "rOxford5k (M)", ("rparis6k", "hard") -> "rParis6k (H)",
//   easy -> "(E)"; ("gpr1200", "default") -> "GPR1200"; "instre" -> "INSTRE";
//   "cub200" -> "CUB-200"; ("instre", "leave-one-out") -> "INSTRE (leave-one-out)".
// Protocols "default", "official" and "" are omitted. Set names are matched case-insensitively
// with '_' read as '-'; an unknown set passes through unchanged, with its protocol appended.
std::string dataset_label(const std::string& set, const std::string& protocol);

}  // namespace repbench::report
