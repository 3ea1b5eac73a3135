#include "datasets/query_crop.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/error.h"

namespace repbench::datasets {

namespace {

// MATLAB's uint32(x): round half away from zero, saturating at 0.
int64_t matlab_uint32(double x) {
  const double r = std::round(x);  // std::round rounds halves away from zero
  return r < 0 ? 0 : static_cast<int64_t>(std::min(r, 4294967295.0));
}

}  // namespace

PixelRect revisitop_crop_rect(const CropBox& box, int width, int height, const std::string& path) {
  for (double v : box)
    if (!std::isfinite(v))
      fail("{}: crop box [{}, {}, {}, {}] is not finite", path, box[0], box[1], box[2], box[3]);
  PixelRect r;
  // 1-based inclusive [a, b] becomes 0-based half-open [a - 1, b).
  r.x0 = static_cast<int>(std::max<int64_t>(matlab_uint32(box[0] + 1) - 1, 0));
  r.y0 = static_cast<int>(std::max<int64_t>(matlab_uint32(box[1] + 1) - 1, 0));
  r.x1 = static_cast<int>(std::min<int64_t>(matlab_uint32(box[2] + 1), width));
  r.y1 = static_cast<int>(std::min<int64_t>(matlab_uint32(box[3] + 1), height));
  if (r.x1 <= r.x0 || r.y1 <= r.y0)
    fail("{}: crop box [{}, {}, {}, {}] selects no pixel of the {}x{} image", path, box[0], box[1],
         box[2], box[3], width, height);
  return r;
}

}  // namespace repbench::datasets
