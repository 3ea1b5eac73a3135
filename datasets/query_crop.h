// The pixels a query's crop box selects, following revisitop's MATLAB crop_qim.m, the reference
// of the protocol:
//   bbx = uint32(bbx + 1);  im = im(bbx(2):min(bbx(4), H), bbx(1):min(bbx(3), W), :)
// i.e. with the 0-based box (x1, y1, x2, y2): round half away from zero (MATLAB's uint32),
// 1-based inclusive ranges, x2/y2 clamped to the image. In 0-based half-open pixels:
//   columns [round(x1 + 1) - 1, min(round(x2 + 1), W)),  rows [round(y1 + 1) - 1, min(round(y2 +
//   1), H))
// so integer boxes keep column x2 and row y2 (one more than PIL's crop(bbx)). A start below 0
// (which MATLAB would reject) is clamped to 0; an empty box is an error naming the image.
// One place for the rule: the image loader crops with it and the failure pages draw it.
#pragma once

#include <array>
#include <string>

namespace repbench::datasets {

using CropBox = std::array<double, 4>;  // x1, y1, x2, y2: 0-based pixels (revisitop gnd "bbx")

// Half-open pixel rectangle: columns [x0, x1), rows [y0, y1).
struct PixelRect {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
};

// The pixels crop_qim.m keeps of a width x height image for `box` (see above). Throws Error
// naming `path` when the box is not finite or selects no pixel.
PixelRect revisitop_crop_rect(const CropBox& box, int width, int height, const std::string& path);

}  // namespace repbench::datasets
