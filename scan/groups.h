// Groups of a scan's rows (Somepalli et al., CVPR 2023, Section 6: class-conditional models): a
// groups file maps every generated or training image to a group (an ImageNet class, a caption
// cluster). With groups the record gets per-group shares above each threshold; with
// --within-group each generation is searched only among the training images of its own group,
// and the baseline pairs each sampled training image with its nearest other image of its group
// (the paper's class-level copying). Duplicate counts stay over the whole training set.
//
// A groups file is CSV (docs/PROTOCOLS.md §9.7): records "path,group", fields quoted
// RFC 4180 style where they hold a comma, a quote or a line break; an optional header record
// "path,group"; blank lines skipped; spaces and tabs around an unquoted field dropped. `path`
// names a row as the scan names it (matches.csv's `generated` / `train` column: the image path,
// or a descriptor row's name from the list file or its index).
//
// parse/assign live in groups.cpp (core only: the fuzz target builds them alone); the search
// within groups in group_search.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "metrics/topk.h"

namespace repbench::scan {

struct GroupEntry {
  std::string path, group;
  int64_t line = 0;  // 1-based line on which the record starts
};

// Throws Error "FILE: line N: ..." on a record that is not two fields, an unclosed quote, an empty
// path or group, a NUL byte, or a path given twice (naming both lines).
std::vector<GroupEntry> parse_groups_csv(const std::string& text, const std::string& file);
std::vector<GroupEntry> read_groups_csv(const std::string& file);

// The group name of each of `rows` rows of one side (row_name(i) names row i; names may repeat,
// every row of a name gets its group). `skipped`: names of listed images that could not be read
// (a groups file may name them; they are ignored). `what`: "generated image" or "training
// image". Throws Error naming `file`, the line and the path of the first entry that names no row
// of the side, or the first row that has no group.
std::vector<std::string> assign_groups(const std::vector<GroupEntry>& entries,
                                       const std::string& file,
                                       const std::function<const std::string&(int64_t)>& row_name,
                                       int64_t rows, const std::vector<std::string>& skipped,
                                       const std::string& what);

// Both sides' groups as ids into `names`.
struct ScanGroups {
  std::vector<std::string> names;  // every group of either file, natural order
  std::vector<int32_t> generated;  // group of each generated row; empty without --generated-groups
  std::vector<int32_t> train;      // group of each training row; empty without --train-groups
  bool within = false;             // --within-group
  std::string generated_file, train_file;

  bool has_generated() const { return !generated_file.empty(); }
  bool has_train() const { return !train_file.empty(); }
};

// From the per-row group names (either side may be empty: no file). `within` needs both; then a
// generation whose group has no training image is an Error naming generated_file and the group.
ScanGroups make_scan_groups(const std::vector<std::string>& generated_groups,
                            const std::vector<std::string>& train_groups, bool within,
                            const std::string& generated_file, const std::string& train_file);

// The record's "groups" section: per group its generations, training images and baseline
// samples, and for each threshold how many of its generations (top-1) and of its baseline
// samples score above it, with their shares (null where a group has none to share).
// `baseline_rows`/`baseline_top1`: the baseline's sampled training rows and their scores.
nlohmann::json groups_record(const ScanGroups& groups, const std::vector<float>& generations_top1,
                             const std::vector<int64_t>& baseline_rows,
                             const std::vector<float>& baseline_top1,
                             const std::vector<double>& thresholds);

// --- the search within groups (group_search.cpp) ---------------------------------------------

// Merges into `into` (the running top-k of the queries, ids are training rows) each query's exact
// top-k among the rows of `block` (training rows first, first + 1, ...) whose group is the
// query's: query_groups[q] against train_groups[first + j]. Same scores and tie rule as
// exact_search() over the group's rows alone, so a scan within groups equals a brute-force search
// of each group (and does not depend on how the training rows are cut into blocks).
void merge_topk_within_groups(metrics::TopKResult& into, const FloatArray& block, int64_t first,
                              bool split_product, const float* queries,
                              const std::vector<int32_t>& query_groups,
                              const std::vector<int32_t>& train_groups, int threads);

// The baseline's sampled rows within groups: baseline_rows() over the training rows whose group
// holds at least two (a lone image has no other image of its group), mapped back to rows.
std::vector<int64_t> within_group_baseline_rows(const std::vector<int32_t>& train_groups,
                                                int64_t sample, uint64_t seed);

}  // namespace repbench::scan
