// The result record: the one canonical output of an evaluation, one JSON file per
// model x dataset x protocol. Every table, CSV and page that repbench produces is a rendering of
// records, so whatever a report shows must be in a record first.
//
// Schema "repbench.record/2" (fields marked * are required):
//   {
//     "schema"*:   "repbench.record/2",      // "repbench.record/1" is still read
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
//     "context":   {"repbench", "git_commit", "libtorch", "opencv", "faiss", "date", "host", ...},
//                  // schema, context and timings are the envelope of records/record_envelope.h
//     "per_query": {...}                   // /2: per-query results, see records/per_query.h
//   }
// /2 added "per_query" (and the top-ids file beside the record); a /1 record is the same without
// it, and readers show its per-query data as unavailable.
// A model or set that failed in a run is still written, as a record with status "skipped" and the
// reason, so that the leaderboard shows the row instead of silently dropping it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace repbench::records {

// The schema tag every record carries; bump the number when a field changes meaning.
inline constexpr const char* kRecordSchema = "repbench.record/2";
// The older schema readers still accept (records without per-query data).
inline constexpr const char* kRecordSchemaV1 = "repbench.record/1";

// Whether `schema` names a record schema this version reads (kRecordSchema or kRecordSchemaV1).
bool is_record_schema(const nlohmann::json& schema);

// Checks the required fields listed above; throws Error "<where>: ..." naming the first problem.
// `where` is the file the record comes from or goes to.
void validate_record(const nlohmann::json& record, const std::string& where);

// Validates `record` and writes it to `path` atomically, pretty-printed (2-space indent; the
// arrays of "per_query" one line each) with a trailing newline. Throws Error naming `path` when a required field is missing or malformed.
void write_record(const std::string& path, const nlohmann::json& record);

// Reads and validates one record. Throws a one-line Error naming `path` when the file is missing,
// is not JSON, has a missing or unknown schema, or misses model.name, dataset, or (for an "ok"
// record) metrics.map.
nlohmann::json read_record(const std::string& path);

// The record files named by `files_or_dirs`: a file is taken as it is; a folder is scanned
// recursively for *.json files that are records (a results folder also holds other JSON: a set's
// gnd.json, cache sidecars), in sorted path order; a file there that is not JSON at all is kept,
// so that reading it reports the problem. Throws Error on a missing path or a folder with no
// *.json.
std::vector<std::string> record_files(const std::vector<std::string>& files_or_dirs);

// A readable column label for a dataset and protocol, as in the paper's Table 1:
//   ("roxford5k", "medium") -> "rOxford5k (M)", ("rparis6k", "hard") -> "rParis6k (H)",
//   easy -> "(E)"; ("gpr1200", "default") -> "GPR1200"; "instre" -> "INSTRE";
//   "cub200" -> "CUB-200"; ("instre", "leave-one-out") -> "INSTRE (leave-one-out)".
// Protocols "default", "official" and "" are omitted. Set names are matched case-insensitively
// with '_' read as '-'; an unknown set passes through unchanged, with its protocol appended.
std::string dataset_label(const std::string& set, const std::string& protocol);

}  // namespace repbench::records
