#include "report/copying_report.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "records/record_envelope.h"
#include "report/gnuplot.h"
#include "report/html_page.h"
#include "report/impl/record_fields.h"
#include "report/impl/score_plots.h"
#include "report/impl/thumbnail.h"
#include "report/scan_report.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace repbench::report {

namespace {

// ---------------------------------------------------------------------------------------------
// Reading the record: every field the page shows, checked once, named on error.

const impl::RecordFields kFields("copying record");

struct TopPair {
  std::string generated, train;  // relative to the experiment folder
  double score = 0;
};

struct SizeView {
  int64_t n = 0;
  std::string folder, scan;
  int64_t steps = 0, samples = 0;
  double loss_last = NAN;
  std::vector<double> gen, base;
  double gen_median = 0, base_median = 0, gen_p95 = 0;
  std::vector<double> above_fraction, above_baseline;  // per threshold
  std::vector<TopPair> pairs;
};

struct ExperimentView {
  std::string model, images, created, version;
  int64_t image_count = 0;
  json options;
  std::vector<double> thresholds;
  std::vector<std::string> protocol;
  std::vector<SizeView> sizes;
};

ExperimentView read_view(const json& r) {
  if (!r.is_object()) fail("copying record: expected a JSON object, found {}", r.type_name());
  if (!r.contains("kind") || r["kind"] != "copying-experiment")
    fail("copying record: kind is {}, expected \"copying-experiment\"",
         r.contains("kind") ? r["kind"].dump() : "missing");
  ExperimentView v;
  v.model = kFields.string(kFields.field(r, "model", ""), "model");
  v.images = kFields.string(kFields.field(kFields.field(r, "images", ""), "source", "images."),
                            "images.source");
  v.image_count = static_cast<int64_t>(
      kFields.number(kFields.field(r["images"], "count", "images."), "images.count"));
  const impl::RecordFields::Origin origin = kFields.origin(r, records::kCopyingExperimentSchema);
  v.created = origin.date;
  v.version = origin.version;
  v.options = kFields.field(r, "options", "");
  v.thresholds = kFields.numbers(kFields.field(r, "thresholds", ""), "thresholds");
  if (v.thresholds.empty()) fail("copying record: 'thresholds' is empty");
  if (r.contains("protocol") && r["protocol"].is_array())
    for (const auto& p : r["protocol"])
      v.protocol.push_back(p.is_string() ? p.get<std::string>() : p.dump());
  const json& sizes = kFields.field(r, "sizes", "");
  if (!sizes.is_array() || sizes.empty()) fail("copying record: 'sizes' is not a non-empty array");
  for (size_t i = 0; i < sizes.size(); ++i) {
    const json& s = sizes[i];
    const std::string at = fmt::format("sizes[{}].", i);
    SizeView z;
    z.n = static_cast<int64_t>(kFields.number(kFields.field(s, "n", at), at + "n"));
    z.folder = kFields.string(kFields.field(s, "folder", at), at + "folder");
    z.scan = kFields.string(kFields.field(s, "scan", at), at + "scan");
    const json& training = kFields.field(s, "training", at);
    z.steps = static_cast<int64_t>(kFields.number(
        kFields.field(training, "steps_done", at + "training."), at + "training.steps_done"));
    if (training.contains("loss_last") && training["loss_last"].is_number())
      z.loss_last = training["loss_last"];
    z.samples = static_cast<int64_t>(
        kFields.number(kFields.field(kFields.field(s, "samples", at), "count", at + "samples."),
                       at + "samples.count"));
    z.gen = kFields.numbers(kFields.field(s, "generations_top1", at), at + "generations_top1");
    z.base = kFields.numbers(kFields.field(s, "baseline_top1", at), at + "baseline_top1");
    const json& gs = kFields.field(s, "generations_summary", at);
    z.gen_median = kFields.number(kFields.field(gs, "median", at + "generations_summary."),
                                  at + "generations_summary.median");
    z.gen_p95 = kFields.number(kFields.field(gs, "p95", at + "generations_summary."),
                               at + "generations_summary.p95");
    z.base_median = kFields.number(
        kFields.field(kFields.field(s, "baseline_summary", at), "median", at + "baseline_summary."),
        at + "baseline_summary.median");
    const json& above = kFields.field(s, "above", at);
    if (!above.is_array() || above.size() != v.thresholds.size())
      fail("copying record: '{}above' does not hold one entry per threshold", at);
    for (size_t k = 0; k < above.size(); ++k) {
      const std::string ak = fmt::format("{}above[{}].", at, k);
      z.above_fraction.push_back(
          kFields.number(kFields.field(above[k], "fraction", ak), ak + "fraction"));
      z.above_baseline.push_back(kFields.number(kFields.field(above[k], "baseline_fraction", ak),
                                                ak + "baseline_fraction"));
    }
    const json& pairs = kFields.field(s, "top_pairs", at);
    if (!pairs.is_array()) fail("copying record: '{}top_pairs' is not an array", at);
    for (size_t k = 0; k < pairs.size(); ++k) {
      const std::string pk = fmt::format("{}top_pairs[{}].", at, k);
      z.pairs.push_back({kFields.string(kFields.field(pairs[k], "generated", pk), pk + "generated"),
                         kFields.string(kFields.field(pairs[k], "train", pk), pk + "train"),
                         kFields.number(kFields.field(pairs[k], "score", pk), pk + "score")});
    }
    v.sizes.push_back(std::move(z));
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Plots

void write_plots(const ExperimentView& v, const fs::path& plots_dir, double timeout_s) {
  std::vector<const std::vector<double>*> all{&v.thresholds};
  for (const SizeView& z : v.sizes) {
    all.push_back(&z.gen);
    all.push_back(&z.base);
  }
  const impl::ScoreRange range = impl::score_range(all);
  const int panels = static_cast<int>(v.sizes.size());
  const int cols = std::min(panels, 3), rows = (panels + cols - 1) / cols;

  GnuplotJob job;
  job.script =
      impl::plot_preamble(range, 50, 420 * cols, 360 * rows + 40, 300 * cols, 260 * rows + 30);
  job.script += impl::threshold_marks(v.thresholds, range, 1, /*labels=*/false);
  job.script +=
      "set ylabel \"density\"\nset style fill transparent solid 0.22 noborder\n"
      "set key outside bottom center horizontal samplen 1.5 font ',10'\n";
  std::string panels_cmd = fmt::format(
      "set multiplot layout {},{} title \"top-1 similarity of samples vs. training "
      "baseline, by training-set size\"\n",
      rows, cols);
  std::vector<impl::ScoreSeries> series;
  for (size_t i = 0; i < v.sizes.size(); ++i) {
    const SizeView& z = v.sizes[i];
    const std::vector<impl::ScoreSeries> s = {
        {fmt::format("baseline_{}", i), "training baseline", impl::kBaselineColour, &z.base},
        {fmt::format("samples_{}", i), "samples", impl::kGeneratedColour, &z.gen}};
    panels_cmd += fmt::format("set title \"n = {}\"\n", z.n);
    panels_cmd += impl::score_plot(s, impl::ScoreStyle::kDensity, range);
    series.insert(series.end(), s.begin(), s.end());
  }
  panels_cmd += "unset multiplot\n";
  job.script += impl::png_and_svg("top1_by_size", panels_cmd);
  impl::add_score_files(job, series, range);

  // Share above the first threshold, samples beside the baseline, one cluster per size.
  std::string bars;
  for (const SizeView& z : v.sizes)
    bars += fmt::format("{} {:.9g} {:.9g}\n", z.n, 100 * z.above_fraction[0],
                        100 * z.above_baseline[0]);
  job.files["above.dat"] = bars;
  // `reset` keeps user variables, so the terminals defined by the preamble still serve.
  job.script += "reset\n" + impl::axis_style();
  job.script += fmt::format(
      "set key outside top center horizontal\n"
      "set style data histograms\nset style histogram clustered gap 1\n"
      "set style fill solid 0.85 noborder\nset boxwidth 0.9\nset yrange [0:105]\n"
      "set xlabel \"training images (n)\"\nset ylabel \"% above {0:g}\"\n",
      v.thresholds[0]);
  job.script += impl::png_and_svg(
      "above_by_size",
      fmt::format("plot \"above.dat\" using 2:xtic(1) lc rgb \"{}\" title \"samples\", \"\" using "
                  "3 lc rgb \"{}\" title \"training baseline\"\n",
                  impl::kGeneratedColour, impl::kBaselineColour));
  for (const char* stem : {"top1_by_size", "above_by_size"})
    for (const char* ext : {".png", ".svg"})
      job.outputs[std::string(stem) + ext] = plots_dir / (std::string(stem) + ext);
  run_gnuplot(job, timeout_s);
}

// ---------------------------------------------------------------------------------------------
// The page

std::string percent(double f) {
  return fmt::format("{:.1f}%", 100 * f);
}

std::string render_page(const ExperimentView& v, const std::string& density_svg,
                        const std::string& above_svg, const fs::path& out_dir,
                        const CopyingReportOptions& options) {
  const double t0 = v.thresholds[0];
  std::string b =
      "<h1>Copying experiment: training-set size and replication</h1>\n<p class=\"sub\">";
  b += "detector <code>" + html_escape(v.model) + "</code> &middot; images <code>" +
       html_escape(v.images) + fmt::format("</code> ({} listed)", v.image_count);
  if (!v.created.empty()) b += " &middot; " + html_escape(v.created);
  if (!v.version.empty()) b += " &middot; repbench " + html_escape(v.version);
  b += "</p>\n";
  b += "<p>For each training-set size n, a DDPM was trained on n images, sampled, and every "
       "sample matched to its nearest training image (top-1 similarity). The baseline matches "
       "each training image to its nearest other training image. Samples to the right of the "
       "baseline are closer to training images than those are to each other: the model copies "
       "(Somepalli et al., CVPR 2023, Section 5).</p>\n";

  b += "<div class=\"cards\">\n";
  for (const SizeView& z : v.sizes)
    b += fmt::format(
        "<div class=\"card{}\"><b>{}</b><span>of samples above {:g} at n = {} (baseline {}); "
        "median top-1 {:.3f} vs {:.3f}</span></div>\n",
        z.above_fraction[0] > z.above_baseline[0] ? " alert" : "", percent(z.above_fraction[0]), t0,
        z.n, percent(z.above_baseline[0]), z.gen_median, z.base_median);
  b += "</div>\n";

  b += "<table>\n<thead><tr><th>n</th><th>steps</th><th>last loss</th><th>samples</th>"
       "<th>median top-1</th><th>p95 top-1</th><th>baseline median</th>";
  // One column per threshold (samples / baseline), so that several thresholds stay readable.
  for (double t : v.thresholds) b += fmt::format("<th>&gt; {:g}: samples / baseline</th>", t);
  b += "<th class=\"l\">scan page</th></tr></thead>\n<tbody>\n";
  for (const SizeView& z : v.sizes) {
    b += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3f}</td><td>{:.3f}"
        "</td><td>{:.3f}</td>",
        z.n, z.steps, std::isnan(z.loss_last) ? "" : fmt::format("{:.4f}", z.loss_last), z.samples,
        z.gen_median, z.gen_p95, z.base_median);
    for (size_t k = 0; k < v.thresholds.size(); ++k)
      b += fmt::format("<td>{} / {}</td>", percent(z.above_fraction[k]),
                       percent(z.above_baseline[k]));
    const std::string page = z.folder + "/scan/report.html";
    b += fmt::format("<td class=\"l\"><a href=\"{}\" title=\"{}\">n = {}</a></td></tr>\n",
                     html_escape(page), html_escape(page), z.n);
  }
  b += "</tbody>\n</table>\n";
  if (!v.protocol.empty()) {
    b += "<ul class=\"notes\">\n";
    for (const auto& p : v.protocol) b += "<li>" + html_escape(p) + "</li>\n";
    b += fmt::format("<li>Options: <code>{}</code></li>\n", html_escape(v.options.dump()));
    b += "</ul>\n";
  }

  b += "<h2>Top-1 similarity by training-set size</h2>\n<div class=\"plots\">\n";
  b += fmt::format(
      "<figure><img src=\"{}\" alt=\"densities of top-1 similarity per size\"><figcaption>"
      "Kernel densities; dashed: threshold{} {} (plots/top1_by_size.png, .svg)</figcaption>"
      "</figure>\n",
      data_uri("image/svg+xml", density_svg), v.thresholds.size() == 1 ? "" : "s",
      fmt::join(v.thresholds, ", "));
  b += fmt::format(
      "<figure><img src=\"{}\" alt=\"share above the threshold per size\"><figcaption>Share "
      "above {:g} (plots/above_by_size.png, .svg)</figcaption></figure>\n",
      data_uri("image/svg+xml", above_svg), t0);
  b += "</div>\n";

  impl::ThumbnailCache thumbs(options.thumb_px);
  for (const SizeView& z : v.sizes) {
    b += fmt::format("<h2>n = {}: highest-scoring samples</h2>\n", z.n);
    b += fmt::format(
        "<p>The {} samples closest to a training image, of {}; red = above {:g}. All pairs: <a "
        "href=\"{}\">the scan page of this size</a>.</p>\n",
        z.pairs.size(), z.samples, t0, html_escape(z.folder + "/scan/report.html"));
    b += fmt::format(
        "<div class=\"pairs\" data-size=\"{}\" data-pairs=\"{}\" "
        "style=\"--thumb:{}px\">\n",
        z.n, z.pairs.size(), options.thumb_px);
    for (const TopPair& p : z.pairs)
      b += impl::pair_card(thumbs, (out_dir / p.generated).string(), (out_dir / p.train).string(),
                           p.score, p.score > t0);
    b += "</div>\n";
  }
  return html_page("repbench copying experiment: " + v.model, b);
}

}  // namespace

void write_copying_report(const json& record, const fs::path& out_dir,
                          const CopyingReportOptions& options) {
  const ExperimentView v = read_view(record);
  // Each size's own scan page first, from its scan.json.
  for (const SizeView& z : v.sizes) {
    const fs::path scan_json = out_dir / z.scan;
    json scan;
    try {
      scan = json::parse(read_file(scan_json.string()));
    } catch (const json::exception& e) {
      fail("{}: not valid JSON ({})", scan_json.string(), e.what());
    }
    write_scan_report(scan, scan_json.parent_path());
  }
  const fs::path plots = out_dir / "plots";
  write_plots(v, plots, options.gnuplot_timeout_s);
  write_file_atomic(
      (out_dir / "report.html").string(),
      render_page(v, read_file((plots / "top1_by_size.svg").string()),
                  read_file((plots / "above_by_size.svg").string()), out_dir, options));
}

}  // namespace repbench::report
