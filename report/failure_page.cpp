#include "report/failure_page.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "report/html_page.h"
#include "report/impl/thumbnail.h"

namespace fs = std::filesystem;

namespace repbench::report {

namespace {

bool contains(const std::vector<int64_t>& sorted, int64_t id) {
  return std::binary_search(sorted.begin(), sorted.end(), id);
}

std::string image_path(const datasets::RetrievalSet& set, const std::string& image) {
  if (set.root.empty()) return image;
  return (fs::path(set.root) / image).string();  // an absolute `image` stays as it is
}

std::string ap_text(double ap) {
  return fmt::format("{:.3f}", ap);
}

// ---------------------------------------------------------------------------------------------
// The page

std::string score_text(const RankedItem& item) {
  return item.score ? fmt::format(" &middot; <span class=\"score\">{:.3f}</span>", *item.score)
                    : std::string();
}

// One thumbnail with its caption above.
std::string item(impl::ThumbnailCache& thumbs, const char* cls, const std::string& caption,
                 const std::string& path, int64_t db, int64_t rank,
                 const std::optional<datasets::CropBox>& box = std::nullopt) {
  std::string attrs;
  if (db >= 0) attrs = fmt::format(" data-db=\"{}\" data-rank=\"{}\"", db, rank);
  return fmt::format("<div class=\"item {}\"{}><span>{}</span>{}<span class=\"name\" "
                     "title=\"{}\">{}</span></div>\n",
                     cls, attrs, caption, thumbs.get(path, box), html_escape(path),
                     html_escape(impl::file_name(path)));
}

std::string query_item(impl::ThumbnailCache& thumbs, const datasets::RetrievalSet& set,
                       int64_t q) {
  const datasets::Query& query = set.queries[q];
  return item(thumbs, "query", "query", image_path(set, query.image), -1, 0, query.bbx);
}

// The best positive and the false positives above it, as thumbnails.
std::string ranking_items(impl::ThumbnailCache& thumbs, const datasets::RetrievalSet& set,
                          const QueryFailure& f, int64_t k) {
  std::string b;
  if (f.best_positive) {
    const RankedItem& p = *f.best_positive;
    const std::string caption = p.rank > 0 ? fmt::format("best positive &middot; rank {}", p.rank)
                                           : fmt::format("a positive &middot; rank &gt; {}", k);
    b += item(thumbs, "positive", caption + score_text(p), image_path(set, set.db[p.db]), p.db,
              p.rank);
  }
  for (const RankedItem& fp : f.false_positives)
    b += item(thumbs, "fp", fmt::format("false positive &middot; rank {}", fp.rank) + score_text(fp),
              image_path(set, set.db[fp.db]), fp.db, fp.rank);
  return b;
}

std::string ranking_note(const QueryFailure& f, int64_t k) {
  std::vector<std::string> parts;
  const int64_t hidden = f.false_positives_total - static_cast<int64_t>(f.false_positives.size());
  const bool found = f.best_positive && f.best_positive->rank > 0;
  parts.push_back(fmt::format("{} false positive{} {}", f.false_positives_total,
                              f.false_positives_total == 1 ? "" : "s",
                              found ? "above the best positive"
                                    : fmt::format("in the top {}, which holds no positive", k)));
  if (hidden > 0) parts.back() += fmt::format(" ({} not shown)", hidden);
  if (f.junk_above > 0) parts.push_back(fmt::format("{} junk (not counted)", f.junk_above));
  return fmt::format("<p class=\"sub\">{}</p>\n", fmt::join(parts, " &middot; "));
}

std::string summary(const records::RecordQueries& pq) {
  size_t scored = 0;
  double sum = 0;
  for (const auto& ap : pq.ap)
    if (ap) {
      ++scored;
      sum += *ap;
    }
  return fmt::format("{} &middot; {} queries scored of {}{}", html_escape(pq.dataset), scored,
                     pq.ap.size(),
                     scored ? fmt::format(", mAP {:.2f}%", 100 * sum / scored) : std::string());
}

std::string what_is_shown(const records::RecordQueries& pq, bool scores) {
  return fmt::format(
      "<p>Ranks are positions in the record's ranking (its top {} database ids per query, "
      "<code>{}</code>); {}. Green: the best-ranked positive; red: false positives ranked above "
      "it (junk images are not false positives); the magenta outline is the query's crop box. "
      "Queries with no positive under this protocol are left out, as they are of the mAP.</p>\n",
      pq.k, html_escape(impl::file_name(pq.top_ids_path)),
      scores ? "scores are the record's similarity, recomputed from the descriptors given"
             : "the record holds no scores, so none are shown");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Selection

QueryFailure explain_query(const records::RecordQueries& pq, const datasets::RetrievalSet& set,
                           int64_t query, size_t max_false_positives,
                           const metrics::ScoreSource* scores) {
  const datasets::Query& q = set.queries[query];
  QueryFailure f;
  f.query = query;
  f.ap = pq.ap[query].value_or(0.0);
  const int64_t* row = pq.top_ids.data() + query * pq.k;
  for (int64_t j = 0; j < pq.k; ++j) {
    const int64_t id = row[j];
    if (contains(q.ok, id)) {
      f.best_positive = RankedItem{id, j + 1, std::nullopt};
      break;
    }
    if (contains(q.junk, id)) {
      ++f.junk_above;
      continue;
    }
    ++f.false_positives_total;
    if (f.false_positives.size() < max_false_positives)
      f.false_positives.push_back({id, j + 1, std::nullopt});
  }
  // No positive in the top k: show one the model should have found (its rank is unknown).
  if (!f.best_positive && !q.ok.empty())
    f.best_positive = RankedItem{q.ok.front(), 0, std::nullopt};
  if (scores) {
    auto score_of = [&](RankedItem& item) {
      float v = 0;
      scores->compute(query, 1, item.db, 1, &v, 1);
      item.score = v;
    };
    if (f.best_positive) score_of(*f.best_positive);
    for (RankedItem& fp : f.false_positives) score_of(fp);
  }
  return f;
}

std::vector<int64_t> worst_queries(const records::RecordQueries& pq, size_t n) {
  std::vector<int64_t> order;
  for (size_t i = 0; i < pq.ap.size(); ++i)
    if (pq.ap[i]) order.push_back(static_cast<int64_t>(i));
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return *pq.ap[a] < *pq.ap[b]; });
  if (order.size() > n) order.resize(n);
  return order;
}

std::vector<int64_t> most_different_queries(const records::RecordQueries& a,
                                            const records::RecordQueries& b, size_t n) {
  std::vector<int64_t> order;
  for (size_t i = 0; i < a.ap.size() && i < b.ap.size(); ++i)
    if (a.ap[i] && b.ap[i]) order.push_back(static_cast<int64_t>(i));
  auto diff = [&](int64_t i) { return std::fabs(*a.ap[i] - *b.ap[i]); };
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t x, int64_t y) { return diff(x) > diff(y); });
  if (order.size() > n) order.resize(n);
  return order;
}

std::string failure_page_path(const std::string& record_path) {
  fs::path p(record_path);
  if (p.extension() == ".json") p.replace_extension();
  return p.string() + ".failures.html";
}

// ---------------------------------------------------------------------------------------------
// Pages

void write_failure_page(const std::string& record_path, const datasets::RetrievalSet& set,
                        const std::string& out_path, const FailurePageOptions& options) {
  const records::RecordQueries pq = records::read_record_queries(record_path);
  records::check_same_queries(pq, set);
  const std::vector<int64_t> worst = worst_queries(pq, options.worst);
  std::string b = fmt::format("<h1>Where does {} fail?</h1>\n<p class=\"sub\">{}</p>\n",
                              html_escape(pq.model), summary(pq));
  b += what_is_shown(pq, options.scores != nullptr);
  b += fmt::format("<h2>The {} worst queries by AP</h2>\n", worst.size());
  b += fmt::format("<div class=\"failures\" data-queries=\"{}\" style=\"--thumb:{}px\">\n",
                   worst.size(), options.thumb_px);
  impl::ThumbnailCache thumbs(options.thumb_px);
  for (size_t n = 0; n < worst.size(); ++n) {
    const QueryFailure f =
        explain_query(pq, set, worst[n], options.false_positives, options.scores);
    b += fmt::format("<section class=\"failure\" data-query=\"{}\" data-ap=\"{}\">\n", f.query,
                     f.ap);
    b += fmt::format("<h3>#{} &middot; query {} &middot; AP {}</h3>\n", n + 1, f.query,
                     ap_text(f.ap));
    b += "<div class=\"strip\">\n" + query_item(thumbs, set, f.query) +
         ranking_items(thumbs, set, f, pq.k) + "</div>\n";
    b += ranking_note(f, pq.k) + "</section>\n";
  }
  b += "</div>\n";
  if (worst.empty()) b += "<p>The record scored no query, so there is nothing to show.</p>\n";
  write_file_atomic(out_path, html_page("repbench failures: " + pq.model + " on " + pq.dataset, b));
}

void write_comparison_page(const std::string& record_a, const std::string& record_b,
                           const datasets::RetrievalSet& set, const std::string& out_path,
                           const FailurePageOptions& options) {
  const records::RecordQueries a = records::read_record_queries(record_a);
  const records::RecordQueries b = records::read_record_queries(record_b);
  if (a.queries_sha256 != b.queries_sha256 || a.ap.size() != b.ap.size())
    fail("{} and {} were scored on different queries (queries_sha256 {} and {})", record_a,
         record_b, a.queries_sha256.substr(0, 12), b.queries_sha256.substr(0, 12));
  records::check_same_queries(a, set);
  records::check_same_queries(b, set);
  const std::vector<int64_t> shown = most_different_queries(a, b, options.worst);
  std::string h = fmt::format("<h1>{} against {}</h1>\n<p class=\"sub\">A: {}<br>B: {}</p>\n",
                              html_escape(a.model), html_escape(b.model), summary(a), summary(b));
  h += what_is_shown(a, false);
  h += fmt::format("<h2>The {} queries where the two differ most (|AP A &minus; AP B|)</h2>\n",
                   shown.size());
  h += fmt::format("<div class=\"failures\" data-queries=\"{}\" style=\"--thumb:{}px\">\n",
                   shown.size(), options.thumb_px);
  impl::ThumbnailCache thumbs(options.thumb_px);
  for (size_t n = 0; n < shown.size(); ++n) {
    const int64_t q = shown[n];
    const QueryFailure fa = explain_query(a, set, q, options.false_positives);
    const QueryFailure fb = explain_query(b, set, q, options.false_positives);
    h += fmt::format(
        "<section class=\"failure\" data-query=\"{}\" data-ap-a=\"{}\" data-ap-b=\"{}\">\n", q,
        fa.ap, fb.ap);
    h += fmt::format("<h3>#{} &middot; query {} &middot; AP {} (A) against {} (B)</h3>\n", n + 1,
                     q, ap_text(fa.ap), ap_text(fb.ap));
    h += "<div class=\"versus\">\n<div>" + query_item(thumbs, set, q) + "</div>\n";
    for (const auto* side : {&fa, &fb}) {
      const records::RecordQueries& pq = side == &fa ? a : b;
      h += fmt::format("<div><p><strong>{}</strong> &middot; {}: AP {}</p>\n",
                       side == &fa ? "A" : "B", html_escape(pq.model), ap_text(side->ap));
      h += "<div class=\"strip\">\n" + ranking_items(thumbs, set, *side, pq.k) + "</div>\n" +
           ranking_note(*side, pq.k) + "</div>\n";
    }
    h += "</div>\n</section>\n";
  }
  h += "</div>\n";
  if (shown.empty()) h += "<p>No query is scored by both records.</p>\n";
  write_file_atomic(out_path, html_page("repbench: " + a.model + " against " + b.model, h));
}

}  // namespace repbench::report
