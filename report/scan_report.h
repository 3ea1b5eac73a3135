// The rendering of a replication-scan record (scan/scan.h writes it as scan.json): plots and one
// self-contained HTML page. It reads the record and the image files the record names, nothing
// else, and computes nothing the record does not hold beyond drawing (histogram bins, a kernel
// density estimate, the order of pairs by score).
//
// Into `out_dir` it writes
//   plots/top1_hist.png, plots/top1_hist.svg        histogram of the generations' top-1
//   plots/top1_density.png, plots/top1_density.svg  similarity and of the training baseline's
//                                                  (share of each set per bin / density), with a
//                                                  dashed line at each threshold (gnuplot);
//   report.html  the summary numbers, both plots (inline as data URIs), and the top pairs side by
//                side as JPEG thumbnails, highest score first, those above the first threshold
//                highlighted; with the record's "groups" (scan/groups.h), a table of each group's
//                generations, training images, baseline sample and shares above each threshold;
//                it opens from disk (no script, no network, nothing fetched).
// Every file is written atomically; report.html last, so its presence means the report is whole.
#pragma once

#include <cstddef>
#include <filesystem>

#include <nlohmann/json.hpp>

namespace repbench::report {

struct ScanReportOptions {
  size_t max_pairs = 500;  // pairs shown on the page; the page says "showing N of M"
  int thumb_px = 160;      // longest side of a thumbnail, in pixels
  double gnuplot_timeout_s = 120;
};

// Renders `record` (kind "replication-scan", schema 1) into `out_dir` as above. Throws Error
// (one line) on a record that lacks a field the page shows or holds a wrong type, when gnuplot
// is missing ("install gnuplot-nox") or fails (its first stderr line), or when a file cannot be
// written. An image that is missing or cannot be decoded becomes a placeholder box with its
// name, not an error. Strings from the record are HTML-escaped wherever they appear.
void write_scan_report(const nlohmann::json& record, const std::filesystem::path& out_dir,
                       const ScanReportOptions& options = {});

}  // namespace repbench::report
