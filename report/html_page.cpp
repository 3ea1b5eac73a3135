#include "report/html_page.h"

#include <iterator>

namespace repbench::report {

namespace {

// The one stylesheet of every page. DejaVu first: it is what Debian's fonts-dejavu-core gives
// a headless browser, and other systems fall through to their own sans-serif.
constexpr const char* kStyle =
    R"(:root{--accent:#c0392b;--muted:#5f6368;--line:#e3e3e3;--soft:#f1f2f4}
body{font-family:"DejaVu Sans",system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#f4f5f7;line-height:1.4}
main{max-width:1600px;margin:0 auto;padding:20px 28px 40px;background:#fff;min-height:100vh;box-sizing:border-box;overflow-wrap:break-word}
h1{font-size:1.5em;margin:0 0 .2em}
h2{font-size:1.15em;margin:1.8em 0 .6em;padding-bottom:.2em;border-bottom:1px solid var(--line)}
p.sub{color:var(--muted);margin-top:0}
code{font-family:"DejaVu Sans Mono",monospace;font-size:.88em;background:var(--soft);padding:1px 4px;border-radius:3px;word-break:break-all}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;display:block;width:max-content;max-width:100%;overflow-x:auto}
th,td{padding:4px 10px;text-align:right;border-bottom:1px solid var(--line);white-space:nowrap}
th{border-bottom:2px solid #555;vertical-align:bottom;white-space:normal;min-width:3em}
th.model,td.model{position:sticky;left:0;z-index:1;background:#fff;white-space:normal;min-width:10em;max-width:22em;box-shadow:inset -1px 0 0 var(--line)}
th.l,td.l{text-align:left}
th .name-part{white-space:nowrap}
td.wrap{white-space:normal;overflow-wrap:anywhere;max-width:560px}
.tables{display:flex;flex-wrap:wrap;gap:12px 32px;align-items:flex-start;margin:.5em 0}
table.kv th{border-bottom:1px solid var(--line);text-align:left;font-weight:600;color:var(--muted);vertical-align:top}
tr.group td{border-top:2px solid #999}
td.missing{color:#999}
td.skipped{color:#b22;font-style:italic}
ul.notes{color:#444;font-size:.9em}
.legend span{display:inline-block;margin-right:1.2em;font-size:.9em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em;border-radius:2px}
.charts{display:flex;flex-wrap:wrap;gap:18px}
figure{margin:0;padding:8px;border:1px solid var(--line);border-radius:6px;background:#fff;max-width:100%;min-width:0;box-sizing:border-box}
svg{max-width:100%;height:auto;display:block}
figcaption{font-weight:600;margin-bottom:4px}
svg text{font-size:11px;fill:#222}
svg text.best{font-weight:700}
svg text.note{fill:#999}
svg text.skipped{fill:#b22;font-style:italic}
svg line.axis{stroke:#999}
svg line.grid{stroke:#eee}
svg line.ci{stroke:#222}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:1em 0}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:1.5em;font-variant-numeric:tabular-nums}
.card span{color:var(--muted);font-size:.85em}
.card.alert{border-color:var(--accent);background:#fdf1ef}
.card.alert b{color:var(--accent)}
.banner{border-left:5px solid var(--accent);background:#fdecea;padding:10px 14px;margin:1em 0;font-weight:600}
.plots{display:flex;flex-wrap:wrap;gap:16px}
.plots figure{flex:1 1 540px}
.plots img{width:100%;height:auto;display:block}
.pairs{display:grid;grid-template-columns:repeat(auto-fill,minmax(calc(2*var(--thumb,160px) + 40px),1fr));gap:12px}
.pair{border:1px solid var(--line);border-left:6px solid #b8bcc2;border-radius:6px;padding:8px;background:#fff}
.pair.above{border-color:#eab2ab;border-left-color:var(--accent);background:#fff6f5}
.pair .imgs{display:flex;gap:8px;justify-content:center}
.pair .side{display:flex;flex-direction:column;align-items:center;gap:2px;font-size:.75em;color:var(--muted)}
.thumb{width:var(--thumb,160px);height:var(--thumb,160px);display:flex;align-items:center;justify-content:center;background:var(--soft);border-radius:3px;overflow:hidden}
.thumb img{max-width:100%;max-height:100%}
.thumb.missing{flex-direction:column;border:2px dashed #b8bcc2;box-sizing:border-box;padding:6px;text-align:center;word-break:break-all;font-size:.95em}
.thumb.missing strong{color:var(--accent)}
.pair .meta{margin-top:6px;font-size:.85em}
.score{font-weight:700;font-variant-numeric:tabular-nums;padding:1px 6px;border-radius:3px;background:#e3e6ea}
.pair.above .score{background:var(--accent);color:#fff}
.name{display:block;color:var(--muted);word-break:break-all;font-family:"DejaVu Sans Mono",monospace;font-size:.9em}
.boxed{position:relative;display:inline-block;line-height:0}
.boxed img{display:block}
.bbx{position:absolute;box-sizing:border-box;border:3px solid #ff00ff;pointer-events:none}
.failure{border:1px solid var(--line);border-radius:6px;padding:8px 12px;margin:12px 0}
.failure h3{font-size:1em;margin:0 0 6px}
.strip{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
.item{display:flex;flex-direction:column;align-items:center;gap:2px;font-size:.75em;color:var(--muted);max-width:var(--thumb,160px)}
.item .thumb{border:3px solid transparent}
.item.positive .thumb{border-color:#2e8b57}
.item.fp .thumb{border-color:var(--accent)}
.versus{display:grid;grid-template-columns:auto 1fr 1fr;gap:10px;align-items:start}
.versus>div{min-width:0}
details{margin:1em 0}
summary{cursor:pointer;font-weight:600}
)";

constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string html_page(std::string_view title, std::string_view body) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  out += html_escape(title);
  out += "</title>\n<style>\n";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n<main>\n";
  out += body;
  out += "</main>\n</body>\n</html>\n";
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string data_uri(std::string_view mime, std::string_view bytes) {
  std::string out = "data:";
  out += mime;
  out += ";base64,";
  out += base64_encode(bytes);
  return out;
}

const char* palette_colour(size_t i) {
  return kPalette[i % std::size(kPalette)];
}

}  // namespace repbench::report
