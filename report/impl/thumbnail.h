// Image thumbnails for self-contained pages, shared by the scan and copying-experiment reports.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "datasets/query_crop.h"

namespace repbench::report::impl {

// The last path component.
std::string file_name(const std::string& path);

// A JPEG thumbnail (longest side `px`) as an <img> with a data URI inside <div class="thumb">, or
// a placeholder box that names the file when it is missing or cannot be decoded. Never throws for
// a bad image.
// With `box`, the pixels the protocol's crop keeps (datasets/query_crop.h) are outlined over the
// image (<i class="bbx" data-rect="x0,y0,x1,y1">, placed in percent of the image); a box that
// selects no pixel is named under the image instead.
std::string thumbnail(const std::string& path, int px,
                      const std::optional<datasets::CropBox>& box = std::nullopt);

// Thumbnails by path, each decoded once (a training image matched by many generations).
class ThumbnailCache {
 public:
  explicit ThumbnailCache(int px) : px_(px) {}
  const std::string& get(const std::string& path,
                         const std::optional<datasets::CropBox>& box = std::nullopt);
  int px() const { return px_; }

 private:
  int px_;
  std::map<std::string, std::string> thumbs_;
};

// One generation beside its training match (<div class="pair">, class "above" when `above`),
// with the score, `extra_meta` (HTML, may be empty) and both file names (titles: full paths).
std::string pair_card(ThumbnailCache& thumbs, const std::string& generated,
                      const std::string& train, double score, bool above,
                      const std::string& extra_meta = {});

}  // namespace repbench::report::impl
