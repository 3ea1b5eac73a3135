#include "report/impl/thumbnail.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "core/error.h"
#include "imaging/codecs_plugin.h"
#include "imaging/thumbnail.h"
#include "report/html_page.h"

namespace fs = std::filesystem;

namespace repbench::report::impl {

namespace {

std::string placeholder(const std::string& path, const std::string& why) {
  return fmt::format(
      "<div class=\"thumb missing\" title=\"{0}\"><strong>{1}</strong><span>{2}</span></div>",
      html_escape(path), html_escape(why), html_escape(file_name(path)));
}

}  // namespace

std::string file_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string thumbnail(const std::string& path, int px,
                      const std::optional<datasets::CropBox>& box) {
  std::error_code ec;
  if (path.empty()) return placeholder(path, "no path");
  if (!fs::is_regular_file(path, ec)) return placeholder(path, "missing");
  // A missing codecs plugin is the verb's error, not a placeholder per image.
  imaging::require_codecs();
  imaging::Thumbnail t;
  std::string outline, box_note;
  try {
    // A crop box is in the stored frame (the image loader ignores EXIF orientation): so here.
    t = imaging::make_thumbnail(path, px,
                                box ? imaging::Orientation::kIgnore : imaging::Orientation::kApply);
  } catch (const Error&) {
    return placeholder(path, "unreadable");
  }
  if (box) {
    try {
      const datasets::PixelRect r =
          datasets::revisitop_crop_rect(*box, t.source_width, t.source_height, path);
      outline = fmt::format(
          "<i class=\"bbx\" data-rect=\"{},{},{},{}\" style=\"left:{:.4f}%;top:{:.4f}%;"
          "width:{:.4f}%;height:{:.4f}%\"></i>",
          r.x0, r.y0, r.x1, r.y1, 100.0 * r.x0 / t.source_width, 100.0 * r.y0 / t.source_height,
          100.0 * r.width() / t.source_width, 100.0 * r.height() / t.source_height);
    } catch (const Error& e) {
      box_note = "<span class=\"note\">" + html_escape(e.what()) + "</span>";
    }
  }
  std::string img = fmt::format(
      "<img src=\"{}\" width=\"{}\" height=\"{}\" alt=\"{}\" title=\"{}\">",
      data_uri("image/jpeg", t.jpeg), t.width, t.height, html_escape(file_name(path)),
      html_escape(path));
  if (!outline.empty()) img = "<span class=\"boxed\">" + img + outline + "</span>";
  return "<div class=\"thumb\">" + img + "</div>" + box_note;
}

const std::string& ThumbnailCache::get(const std::string& path,
                                       const std::optional<datasets::CropBox>& box) {
  std::string key = path;
  if (box) key += fmt::format("\n{},{},{},{}", (*box)[0], (*box)[1], (*box)[2], (*box)[3]);
  auto it = thumbs_.find(key);
  if (it == thumbs_.end()) it = thumbs_.emplace(key, thumbnail(path, px_, box)).first;
  return it->second;
}

std::string pair_card(ThumbnailCache& thumbs, const std::string& generated,
                      const std::string& train, double score, bool above,
                      const std::string& extra_meta) {
  std::string b = fmt::format("<div class=\"pair{}\" data-score=\"{:.6g}\">\n<div class=\"imgs\">",
                              above ? " above" : "", score);
  b += "<div class=\"side\">generated" + thumbs.get(generated) + "</div>";
  b += "<div class=\"side\">training match" + thumbs.get(train) + "</div></div>\n";
  b += fmt::format("<div class=\"meta\"><span class=\"score\">{:.3f}</span>", score);
  b += extra_meta;
  b += fmt::format(
      "<span class=\"name\" title=\"{0}\">{1}</span>"
      "<span class=\"name\" title=\"{2}\">&rarr; {3}</span></div>\n</div>\n",
      html_escape(generated), html_escape(file_name(generated)), html_escape(train),
      html_escape(file_name(train)));
  return b;
}

}  // namespace repbench::report::impl
