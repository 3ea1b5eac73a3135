#include "report/impl/thumbnail.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
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
  cv::Mat image;
  std::vector<uchar> jpeg;
  std::string outline, box_note;
  try {
    // A crop box is in the stored frame (the image loader ignores EXIF orientation): so here.
    image = cv::imread(path, box ? cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION
                                 : cv::IMREAD_COLOR);
    if (image.empty()) return placeholder(path, "unreadable");
    if (box) {
      try {
        const datasets::PixelRect r =
            datasets::revisitop_crop_rect(*box, image.cols, image.rows, path);
        outline = fmt::format(
            "<i class=\"bbx\" data-rect=\"{},{},{},{}\" style=\"left:{:.4f}%;top:{:.4f}%;"
            "width:{:.4f}%;height:{:.4f}%\"></i>",
            r.x0, r.y0, r.x1, r.y1, 100.0 * r.x0 / image.cols, 100.0 * r.y0 / image.rows,
            100.0 * r.width() / image.cols, 100.0 * r.height() / image.rows);
      } catch (const Error& e) {
        box_note = "<span class=\"note\">" + html_escape(e.what()) + "</span>";
      }
    }
    const double scale = static_cast<double>(px) / std::max(image.cols, image.rows);
    if (scale < 1) {
      cv::Mat small;
      cv::resize(image, small,
                 cv::Size(std::max(1, static_cast<int>(std::lround(image.cols * scale))),
                          std::max(1, static_cast<int>(std::lround(image.rows * scale)))),
                 0, 0, cv::INTER_AREA);
      image = small;
    } else if (scale >= 2) {
      // A small image (a 32 px generation) is enlarged by a whole factor with nearest-neighbour
      // sampling, so that its pixels stay visible as they are rather than blurred.
      const int f = static_cast<int>(std::floor(scale));
      cv::Mat big;
      cv::resize(image, big, cv::Size(image.cols * f, image.rows * f), 0, 0, cv::INTER_NEAREST);
      image = big;
    }
    if (!cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, 85}))
      return placeholder(path, "unreadable");
  } catch (const cv::Exception&) {
    return placeholder(path, "unreadable");
  }
  std::string img = fmt::format(
      "<img src=\"{}\" width=\"{}\" height=\"{}\" alt=\"{}\" title=\"{}\">",
      data_uri("image/jpeg",
               std::string_view(reinterpret_cast<const char*>(jpeg.data()), jpeg.size())),
      image.cols, image.rows, html_escape(file_name(path)), html_escape(path));
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
