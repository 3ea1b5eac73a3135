// The rendering of a copying-experiment record (experiment/copying.h writes it as
// experiment.json): one page for all training-set sizes, and each size's own scan page.
//
// Into `out_dir` (the experiment's folder) it writes
//   <size folder>/scan/plots/..., report.html   each size's scan page (report/scan_report.h),
//                                               from that size's scan.json
//   plots/top1_by_size.png, .svg                one density panel per size: the samples' top-1
//                                               similarity against that subset's training
//                                               baseline, thresholds dashed (the paper's Fig. 4)
//   plots/above_by_size.png, .svg               share above the first threshold per size,
//                                               samples beside the baseline
//   report.html   the per-size table, both plots, and each size's highest-scoring pairs with a
//                 link to its scan page; self-contained like every page (report/html_page.h),
//                 written last.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

namespace repbench::report {

struct CopyingReportOptions {
  int thumb_px = 96;
  double gnuplot_timeout_s = 120;
};

// Throws Error (one line) when the record lacks a field the page shows or holds a wrong type, a
// size's scan.json is missing or not a scan record, or gnuplot fails (report/gnuplot.h).
void write_copying_report(const nlohmann::json& record, const std::filesystem::path& out_dir,
                          const CopyingReportOptions& options = {});

}  // namespace repbench::report
