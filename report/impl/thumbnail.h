// Image thumbnails for self-contained pages, shared by the scan and copying-experiment reports.
#pragma once

#include <map>
#include <string>

namespace repbench::report::impl {

// The last path component.
std::string file_name(const std::string& path);

// A JPEG thumbnail (longest side `px`) as an <img> with a data URI inside <div class="thumb">, or
// a placeholder box that names the file when it is missing or cannot be decoded. Never throws for
// a bad image.
std::string thumbnail(const std::string& path, int px);

// Thumbnails by path, each decoded once (a training image matched by many generations).
class ThumbnailCache {
 public:
  explicit ThumbnailCache(int px) : px_(px) {}
  const std::string& get(const std::string& path);
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
