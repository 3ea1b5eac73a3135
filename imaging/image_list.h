// The one reader of "a folder or a list file of images" (docs/PROTOCOLS.md §9.8): the scan's and
// `extract`'s generated and training images, DDPM training images (`ddpm train`, the copying
// experiment, the dif sets' pool).
//
// A list file: one image path per line, in the file's order; surrounding whitespace (spaces, tabs,
// the \r of CRLF) is trimmed, blank lines and lines starting with '#' are skipped, and a relative
// path is relative to the list file's folder (so a list can be moved with its images); a NUL byte
// is refused. A folder: its images (.jpg .jpeg .png .bmp .webp, any case) by one of two rules:
//   FolderRule::kRecursive        every image under it at any depth, in the natural order of the
//                                 relative paths (scan, extract);
//   FolderRule::kTopOrSubfolders  its own images, or when it has none, those of its subfolders one
//                                 level down (subfolders, then names, in natural order): an
//                                 ImageNet-style class layout (DDPM training images).
// Paths are FOLDER/relative/path or the list's lines resolved as above. Errors name the source:
// missing, unreadable, not text, or no image.
#pragma once

#include <string>
#include <vector>

namespace repbench::imaging {

enum class FolderRule { kRecursive, kTopOrSubfolders };

struct ImageListOptions {
  FolderRule folder = FolderRule::kRecursive;
};

struct ImageList {
  std::string source;              // the folder or list file as given
  bool is_list = false;            // a list file rather than a folder
  std::vector<std::string> paths;  // paths to open, in order
};

ImageList read_image_list(const std::string& dir_or_list, const ImageListOptions& options = {});

// The paths of a list file's text (the rule above); `list_path` locates relative paths and is
// named by errors. Empty when the text names no image.
std::vector<std::string> parse_image_list(const std::string& text, const std::string& list_path);

}  // namespace repbench::imaging
