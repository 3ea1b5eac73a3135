#include "report/scan_report.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "records/record_envelope.h"
#include "report/gnuplot.h"
#include "report/html_page.h"
#include "report/impl/record_fields.h"
#include "report/impl/score_plots.h"
#include "report/impl/thumbnail.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace repbench::report {

namespace {

// ---------------------------------------------------------------------------------------------
// Reading the record: every field the page shows, checked once, with the field named on error.

const impl::RecordFields kFields("scan record");

// An optional string field ("" when absent); a non-string value is shown as its JSON text.
std::string text(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || obj.at(key).is_null()) return {};
  const json& v = obj.at(key);
  return v.is_string() ? v.get<std::string>() : v.dump();
}

struct Skipped {
  std::string path, error;
};

struct Side {
  std::string source;
  int64_t count = 0;
  std::vector<Skipped> skipped;
  std::optional<int64_t> shards;
};

Side read_side(const json& record, const char* key) {
  const json& s = kFields.field(record, key, "");
  Side side;
  side.source = text(s, "source");
  side.count = static_cast<int64_t>(
      kFields.number(kFields.field(s, "count", key), std::string(key) + ".count"));
  if (s.contains("skipped")) {
    if (!s["skipped"].is_array()) fail("scan record: '{}.skipped' is not an array", key);
    for (const auto& e : s["skipped"]) side.skipped.push_back({text(e, "path"), text(e, "error")});
  }
  if (s.contains("shards") && s["shards"].is_number()) side.shards = s["shards"].get<int64_t>();
  return side;
}

struct Pair {
  std::string generated, train;
  double score = 0;
  std::optional<int64_t> train_duplicates;
};

struct Above {
  double threshold = 0;
  int64_t generations = 0, baseline = 0;
  double fraction = 0, baseline_fraction = 0;
};

// The record's optional "groups" section (scan/groups.h): a null count or share is shown as a
// dash (that side had no groups file, or the group has nothing to share).
struct GroupRow {
  std::string name;
  std::optional<int64_t> generations, train, baseline_sample;
  std::vector<std::optional<int64_t>> above, baseline_above;  // one per threshold
  std::vector<std::optional<double>> fraction, baseline_fraction;
};

struct GroupsView {
  bool within = false;
  std::string generated_file, train_file;
  std::vector<double> thresholds;
  std::vector<GroupRow> rows;
};

struct ScanView {
  std::string model, similarity, created, version;
  std::optional<int64_t> k;
  std::vector<double> thresholds;
  std::optional<double> dup_threshold;
  Side generated, train;
  std::string search_method, search_params;
  std::optional<double> recall_at_1;
  int64_t recall_sample = 0;
  std::vector<double> generations_top1, baseline_top1;
  std::string baseline_note;
  std::vector<Above> above;
  std::vector<Pair> pairs;
  bool identical_sets = false;
  std::vector<std::string> notes;
  std::optional<GroupsView> groups;
};

// A number or null (nullopt); anything else is an Error naming the field.
std::optional<double> optional_number(const json& obj, const char* key, const std::string& at) {
  const json& v = kFields.field(obj, key, at);
  if (v.is_null()) return std::nullopt;
  return kFields.number(v, at + key);
}

GroupsView read_groups(const json& g) {
  GroupsView v;
  if (!g.is_object()) fail("scan record: 'groups' is not an object");
  v.within =
      g.contains("within_group") && g["within_group"].is_boolean() && g["within_group"].get<bool>();
  v.generated_file = text(g, "generated_file");
  v.train_file = text(g, "train_file");
  const json& list = kFields.field(g, "groups", "groups.");
  if (!list.is_array()) fail("scan record: 'groups.groups' is not an array");
  for (size_t i = 0; i < list.size(); ++i) {
    const json& e = list[i];
    const std::string at = fmt::format("groups.groups[{}].", i);
    GroupRow row;
    row.name = kFields.string(kFields.field(e, "group", at), at + "group");
    auto count = [&](const json& o, const char* key, const std::string& where) {
      const std::optional<double> x = optional_number(o, key, where);
      return x ? std::optional<int64_t>(static_cast<int64_t>(*x)) : std::nullopt;
    };
    row.generations = count(e, "generations", at);
    row.train = count(e, "train", at);
    row.baseline_sample = count(e, "baseline_sample", at);
    const json& above = kFields.field(e, "above", at);
    if (!above.is_array()) fail("scan record: '{}above' is not an array", at);
    std::vector<double> thresholds;
    for (size_t t = 0; t < above.size(); ++t) {
      const std::string a = fmt::format("{}above[{}].", at, t);
      thresholds.push_back(
          kFields.number(kFields.field(above[t], "threshold", a), a + "threshold"));
      row.above.push_back(count(above[t], "generations", a));
      row.fraction.push_back(optional_number(above[t], "fraction", a));
      row.baseline_above.push_back(count(above[t], "baseline", a));
      row.baseline_fraction.push_back(optional_number(above[t], "baseline_fraction", a));
    }
    if (i == 0) v.thresholds = thresholds;
    if (thresholds != v.thresholds)
      fail("scan record: '{}above' has other thresholds than groups.groups[0]", at);
    v.rows.push_back(std::move(row));
  }
  return v;
}

ScanView read_view(const json& r) {
  if (!r.is_object()) fail("scan record: expected a JSON object, found {}", r.type_name());
  const std::string kind = text(r, "kind");
  if (kind != "replication-scan")
    fail("scan record: kind is '{}', expected 'replication-scan'", kind);
  ScanView v;
  v.model = text(r, "model");
  v.similarity = text(r, "similarity");
  const impl::RecordFields::Origin origin =
      kFields.origin(r, records::kScanSchema, "repbench.scan/2");
  v.created = origin.date;
  v.version = origin.version;
  if (r.contains("k") && r["k"].is_number()) v.k = r["k"].get<int64_t>();
  v.thresholds = kFields.numbers(kFields.field(r, "thresholds", ""), "thresholds");
  if (r.contains("dup_threshold") && r["dup_threshold"].is_number())
    v.dup_threshold = r["dup_threshold"].get<double>();
  v.generated = read_side(r, "generated");
  v.train = read_side(r, "train");
  if (r.contains("search")) {
    const json& s = r["search"];
    v.search_method = text(s, "method");
    if (s.contains("params") && !s["params"].is_null() && !s["params"].empty())
      v.search_params = s["params"].dump();
    if (s.contains("recall_at_1") && s["recall_at_1"].is_number())
      v.recall_at_1 = s["recall_at_1"].get<double>();
    if (s.contains("recall_sample") && s["recall_sample"].is_number())
      v.recall_sample = s["recall_sample"].get<int64_t>();
  }
  v.generations_top1 =
      kFields.numbers(kFields.field(r, "generations_top1", ""), "generations_top1");
  const json& base = kFields.field(r, "baseline", "");
  v.baseline_top1 = kFields.numbers(kFields.field(base, "top1", "baseline."), "baseline.top1");
  v.baseline_note = text(base, "note");
  if (r.contains("above")) {
    if (!r["above"].is_array()) fail("scan record: 'above' is not an array");
    for (size_t i = 0; i < r["above"].size(); ++i) {
      const json& a = r["above"][i];
      const std::string at = fmt::format("above[{}].", i);
      Above x;
      x.threshold = kFields.number(kFields.field(a, "threshold", at), at + "threshold");
      x.generations = static_cast<int64_t>(
          kFields.number(kFields.field(a, "generations", at), at + "generations"));
      x.fraction = kFields.number(kFields.field(a, "fraction", at), at + "fraction");
      x.baseline =
          static_cast<int64_t>(kFields.number(kFields.field(a, "baseline", at), at + "baseline"));
      x.baseline_fraction =
          kFields.number(kFields.field(a, "baseline_fraction", at), at + "baseline_fraction");
      v.above.push_back(x);
    }
  }
  const json& pairs = kFields.field(r, "pairs", "");
  if (!pairs.is_array()) fail("scan record: 'pairs' is not an array");
  for (size_t i = 0; i < pairs.size(); ++i) {
    const json& p = pairs[i];
    const std::string at = fmt::format("pairs[{}].", i);
    Pair x;
    x.generated = text(p, "generated");
    x.train = text(p, "train");
    x.score = kFields.number(kFields.field(p, "score", at), at + "score");
    if (p.contains("train_duplicates") && p["train_duplicates"].is_number())
      x.train_duplicates = p["train_duplicates"].get<int64_t>();
    v.pairs.push_back(std::move(x));
  }
  if (r.contains("groups")) v.groups = read_groups(r["groups"]);
  v.identical_sets = r.contains("identical_sets") && r["identical_sets"].is_boolean() &&
                     r["identical_sets"].get<bool>();
  if (r.contains("notes") && r["notes"].is_array())
    for (const auto& n : r["notes"])
      v.notes.push_back(n.is_string() ? n.get<std::string>() : n.dump());
  return v;
}

// ---------------------------------------------------------------------------------------------
// Plots

// The histogram and the density of the generations' top-1 against the baseline's, with the
// thresholds marked, each as PNG and SVG.
void write_plots(const ScanView& v, const fs::path& plots_dir, double timeout_s) {
  const impl::ScoreRange range =
      impl::score_range({&v.generations_top1, &v.baseline_top1, &v.thresholds});
  const std::vector<impl::ScoreSeries> series = {
      {"baseline", "training baseline", impl::kBaselineColour, &v.baseline_top1},
      {"generations", "generations", impl::kGeneratedColour, &v.generations_top1}};
  GnuplotJob job;
  job.script = impl::plot_preamble(range) + impl::threshold_marks(v.thresholds, range);
  job.script +=
      "set ylabel \"share of each set per bin\"\nset style fill transparent solid 0.5 noborder\n";
  job.script +=
      impl::png_and_svg("top1_hist", impl::score_plot(series, impl::ScoreStyle::kHistogram, range));
  job.script += "set ylabel \"density\"\nset style fill transparent solid 0.22 noborder\n";
  job.script += impl::png_and_svg("top1_density",
                                  impl::score_plot(series, impl::ScoreStyle::kDensity, range));
  impl::add_score_files(job, series, range);
  for (const char* stem : {"top1_hist", "top1_density"})
    for (const char* ext : {".png", ".svg"})
      job.outputs[std::string(stem) + ext] = plots_dir / (std::string(stem) + ext);
  run_gnuplot(job, timeout_s);
}

// ---------------------------------------------------------------------------------------------
// The page

std::string percent(double fraction) {
  return fmt::format("{:.2f}%", 100 * fraction);
}

std::string card(const std::string& value, const std::string& label, bool alert = false) {
  return fmt::format("<div class=\"card{}\"><b>{}</b><span>{}</span></div>\n",
                     alert ? " alert" : "", value, label);
}

// Per group: its counts, then for each threshold its generations above (with their share) and
// its baseline share.
std::string groups_table(const GroupsView& g) {
  auto count = [](const std::optional<int64_t>& x) {
    return x ? fmt::format("{}", *x) : std::string("&ndash;");
  };
  auto with_share = [](const std::optional<int64_t>& n, const std::optional<double>& f) {
    if (!n) return std::string("&ndash;");
    return f ? fmt::format("{} ({})", *n, percent(*f)) : fmt::format("{}", *n);
  };
  std::string b =
      fmt::format("<h2>Groups</h2>\n<p>{} group{}", g.rows.size(), g.rows.size() == 1 ? "" : "s");
  if (!g.generated_file.empty())
    b += " &middot; generations from <code>" + html_escape(g.generated_file) + "</code>";
  if (!g.train_file.empty())
    b += " &middot; training images from <code>" + html_escape(g.train_file) + "</code>";
  b += g.within ? ". Each generation was searched only among the training images of its group, "
                  "and each baseline image against the other images of its group."
                : ". Matches were searched in the whole training set; a generation counts in its "
                  "own group, a baseline image in its training image's group.";
  b += "</p>\n<table class=\"groups\" data-groups=\"" + fmt::format("{}", g.rows.size()) +
       "\">\n<thead><tr><th class=\"l\">group</th><th>generations</th><th>training "
       "images</th><th>baseline sample</th>";
  for (double t : g.thresholds)
    b += fmt::format("<th>generations &gt; {:g}</th><th>baseline &gt; {:g}</th>", t, t);
  b += "</tr></thead>\n<tbody>\n";
  for (const GroupRow& r : g.rows) {
    b += "<tr><td class=\"l\">" + html_escape(r.name) + "</td><td>" + count(r.generations) +
         "</td><td>" + count(r.train) + "</td><td>" + count(r.baseline_sample) + "</td>";
    for (size_t t = 0; t < g.thresholds.size(); ++t)
      b += "<td>" + with_share(r.above[t], r.fraction[t]) + "</td><td>" +
           with_share(r.baseline_above[t], r.baseline_fraction[t]) + "</td>";
    b += "</tr>\n";
  }
  return b + "</tbody>\n</table>\n";
}

std::string skipped_list(const char* what, const std::vector<Skipped>& skipped, size_t cap) {
  if (skipped.empty()) return {};
  std::string out = fmt::format(
      "<details><summary>{} {} image{} skipped (could not be read)</summary>\n<table>\n"
      "<thead><tr><th class=\"l\">path</th><th class=\"l\">error</th></tr></thead>\n<tbody>\n",
      skipped.size(), what, skipped.size() == 1 ? "" : "s");
  for (size_t i = 0; i < skipped.size() && i < cap; ++i)
    out += fmt::format(
        "<tr><td class=\"l wrap\"><code>{}</code></td><td class=\"l wrap\">{}</td></tr>\n",
        html_escape(skipped[i].path), html_escape(skipped[i].error));
  out += "</tbody>\n</table>\n";
  if (skipped.size() > cap)
    out += fmt::format("<p>and {} more (see scan.json)</p>\n", skipped.size() - cap);
  return out + "</details>\n";
}

std::string render_page(const ScanView& v, const std::string& hist_svg,
                        const std::string& density_svg, const ScanReportOptions& options) {
  std::string b = "<h1>Replication scan</h1>\n<p class=\"sub\">";
  b += "model <code>" + html_escape(v.model.empty() ? "unknown" : v.model) + "</code>";
  if (!v.similarity.empty()) b += " &middot; " + html_escape(v.similarity) + " similarity";
  if (v.k) b += fmt::format(" &middot; top-{} matches", *v.k);
  if (!v.created.empty()) b += " &middot; " + html_escape(v.created);
  if (!v.version.empty()) b += " &middot; repbench " + html_escape(v.version);
  b += "</p>\n";

  if (v.identical_sets && !v.pairs.empty())
    b += fmt::format(
        "<div class=\"banner\">All {} generated images match a training image with similarity "
        "1.0: the generated set is made of exact copies of training images (for example, it is "
        "the training set itself). This is a valid result, not an error.</div>\n",
        v.pairs.size());
  if (v.pairs.empty())
    b += "<div class=\"banner\">The record holds no generated images, so there are no pairs to "
         "show.</div>\n";

  b += "<div class=\"cards\">\n";
  b += card(fmt::format("{}", v.generated.count),
            "generated images" + (v.generated.skipped.empty()
                                      ? std::string()
                                      : fmt::format(" ({} skipped)", v.generated.skipped.size())));
  std::string train_label = "training images";
  if (!v.train.skipped.empty()) train_label += fmt::format(" ({} skipped)", v.train.skipped.size());
  if (v.train.shards && *v.train.shards > 1)
    train_label += fmt::format(", {} shards", *v.train.shards);
  b += card(fmt::format("{}", v.train.count), train_label);
  for (const Above& a : v.above)
    b += card(percent(a.fraction),
              fmt::format("of generations have top-1 &gt; {:g} ({} of {}); training baseline {}",
                          a.threshold, a.generations, v.generations_top1.size(),
                          percent(a.baseline_fraction)),
              a.generations > 0);
  std::string search = html_escape(v.search_method.empty() ? "unknown" : v.search_method);
  std::string search_label = "search";
  if (v.recall_at_1)
    search_label = fmt::format("search, recall@1 {:.3f} against exact on {} sampled generations",
                               *v.recall_at_1, v.recall_sample);
  b += card(search, search_label);
  b += "</div>\n";

  b += "<div class=\"tables\">\n<table>\n<thead><tr><th>threshold</th><th>generations "
       "above</th><th>share</th>"
       "<th>training baseline above</th><th>share</th></tr></thead>\n<tbody>\n";
  for (const Above& a : v.above)
    b += fmt::format("<tr><td>&gt; {:g}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                     a.threshold, a.generations, percent(a.fraction), a.baseline,
                     percent(a.baseline_fraction));
  b += "</tbody>\n</table>\n";
  b += "<table class=\"kv\">\n<tbody>\n";
  auto row = [&](const char* key, const std::string& value_html) {
    if (!value_html.empty())
      b += fmt::format("<tr><th class=\"l\">{}</th><td class=\"l wrap\">{}</td></tr>\n", key,
                       value_html);
  };
  row("generated", "<code>" + html_escape(v.generated.source) + "</code>");
  row("training set", "<code>" + html_escape(v.train.source) + "</code>");
  row("baseline",
      fmt::format("{} training images: {}", v.baseline_top1.size(), html_escape(v.baseline_note)));
  if (v.dup_threshold)
    row("duplicates", fmt::format("training images with similarity &gt; {:g} to the matched "
                                  "training image (itself excluded)",
                                  *v.dup_threshold));
  if (!v.search_params.empty())
    row("search parameters", "<code>" + html_escape(v.search_params) + "</code>");
  b += "</tbody>\n</table>\n</div>\n";
  // The record's note on identical sets is the banner above; the list does not repeat it.
  std::vector<std::string> notes;
  for (const auto& n : v.notes)
    if (!(v.identical_sets && n.rfind("Every generation's top-1 similarity is 1.0", 0) == 0))
      notes.push_back(n);
  if (!notes.empty()) {
    b += "<ul class=\"notes\">\n";
    for (const auto& n : notes) b += "<li>" + html_escape(n) + "</li>\n";
    b += "</ul>\n";
  }
  if (v.groups) b += groups_table(*v.groups);
  b += skipped_list("generated", v.generated.skipped, options.max_pairs);
  b += skipped_list("training", v.train.skipped, options.max_pairs);

  b += "<h2>Top-1 similarity: generations against the training baseline</h2>\n<div "
       "class=\"plots\">\n";
  b += fmt::format(
      "<figure><img src=\"{}\" alt=\"histogram of top-1 similarity\"><figcaption>Histogram "
      "(plots/top1_hist.png, .svg)</figcaption></figure>\n",
      data_uri("image/svg+xml", hist_svg));
  b += fmt::format(
      "<figure><img src=\"{}\" alt=\"density of top-1 similarity\"><figcaption>Kernel density "
      "(plots/top1_density.png, .svg)</figcaption></figure>\n",
      data_uri("image/svg+xml", density_svg));
  b += "</div>\n";

  // Highest score first; equal scores keep generation order.
  std::vector<size_t> order(v.pairs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t c) { return v.pairs[a].score > v.pairs[c].score; });
  const size_t shown = std::min(order.size(), options.max_pairs);
  // The contract highlights pairs above the first threshold.
  const bool has_t = !v.thresholds.empty();
  const double first_t = has_t ? v.thresholds[0] : 0;
  b += "<h2>Top matches</h2>\n";
  b += fmt::format(
      "<p>Showing {} of {} pairs (each generation with its rank-1 training match), "
      "highest similarity first",
      shown, v.pairs.size());
  if (has_t) b += fmt::format("; red = top-1 similarity above {:g}", first_t);
  b += ".</p>\n";
  b += fmt::format(
      "<div class=\"pairs\" data-pairs=\"{}\" data-total=\"{}\" style=\"--thumb:{}px\">\n", shown,
      v.pairs.size(), options.thumb_px);
  impl::ThumbnailCache thumbs(options.thumb_px);
  for (size_t n = 0; n < shown; ++n) {
    const Pair& p = v.pairs[order[n]];
    std::string meta;
    if (p.train_duplicates)
      meta = fmt::format(" &middot; {} near-duplicate{} in training", *p.train_duplicates,
                         *p.train_duplicates == 1 ? "" : "s");
    b += impl::pair_card(thumbs, p.generated, p.train, p.score, has_t && p.score > first_t, meta);
  }
  b += "</div>\n";
  if (shown < v.pairs.size())
    b += fmt::format("<p>{} more pairs are in scan.json and matches.csv.</p>\n",
                     v.pairs.size() - shown);
  return html_page("repbench scan: " + v.model, b);
}

}  // namespace

void write_scan_report(const json& record, const fs::path& out_dir,
                       const ScanReportOptions& options) {
  const ScanView v = read_view(record);
  const fs::path plots = out_dir / "plots";
  write_plots(v, plots, options.gnuplot_timeout_s);
  const std::string hist_svg = read_file((plots / "top1_hist.svg").string());
  const std::string density_svg = read_file((plots / "top1_density.svg").string());
  write_file_atomic((out_dir / "report.html").string(),
                    render_page(v, hist_svg, density_svg, options));
}

}  // namespace repbench::report
