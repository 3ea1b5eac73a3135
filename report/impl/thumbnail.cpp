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

std::string thumbnail(const std::string& path, int px) {
  std::error_code ec;
  if (path.empty()) return placeholder(path, "no path");
  if (!fs::is_regular_file(path, ec)) return placeholder(path, "missing");
  cv::Mat image;
  std::vector<uchar> jpeg;
  try {
    image = cv::imread(path, cv::IMREAD_COLOR);
    if (image.empty()) return placeholder(path, "unreadable");
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
  return fmt::format(
      "<div class=\"thumb\"><img src=\"{}\" width=\"{}\" height=\"{}\" alt=\"{}\" "
      "title=\"{}\"></div>",
      data_uri("image/jpeg",
               std::string_view(reinterpret_cast<const char*>(jpeg.data()), jpeg.size())),
      image.cols, image.rows, html_escape(file_name(path)), html_escape(path));
}

}  // namespace repbench::report::impl
