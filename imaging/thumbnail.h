// Thumbnails: an image file scaled so that its longest side is at most `px` and encoded as JPEG
// (quality 85), for the self-contained HTML pages of report/ (report/impl/thumbnail.h wraps it in
// markup).
#pragma once

#include <string>

#include "imaging/codec.h"

namespace repbench::imaging {

struct Thumbnail {
  std::string jpeg;                         // the encoded thumbnail
  int width = 0, height = 0;                // its size
  int source_width = 0, source_height = 0;  // the decoded image's size (before scaling)
};

// Decodes `path` (EXIF orientation as `orientation` says) and scales it: a larger image shrinks to
// a longest side of `px` (OpenCV's INTER_AREA, sides rounded, at least 1), a small one (at most
// half of `px`) is enlarged by the largest whole factor f with f * longest <= px with
// nearest-neighbour sampling, so that its pixels stay visible as they are; anything between is
// kept. Throws Error naming the path when it does not decode.
Thumbnail make_thumbnail(const std::string& path, int px,
                         Orientation orientation = Orientation::kApply);

}  // namespace repbench::imaging
