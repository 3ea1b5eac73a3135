// Image sources of a scan: a folder (every image under it, recursively, natural order of the
// relative paths) or a list file (one image path per line, in the file's order), read by
// imaging/image_list.h. The slices a job array cuts a list into are descriptors/shards.h's.
#pragma once

#include <string>

#include "imaging/image_list.h"

namespace repbench::scan {

// The images of a scan side: imaging/image_list.h's reader with the recursive folder rule
// (every image under the folder, natural order of the relative paths; a list file's lines as
// docs/PROTOCOLS.md §9.8 says). Throws Error naming the source when it is missing or holds no
// images.
using ImageSource = imaging::ImageList;
inline ImageSource read_image_source(const std::string& dir_or_list) {
  return imaging::read_image_list(dir_or_list, {imaging::FolderRule::kRecursive});
}

}  // namespace repbench::scan
