#include "imaging/image_list.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/natural_sort.h"
#include "core/parse_list.h"
#include "core/path_guard.h"
#include "imaging/folder_listing.h"

namespace fs = std::filesystem;

namespace repbench::imaging {

namespace {

constexpr const char kExtensions[] = "(.jpg, .jpeg, .png, .bmp, .webp)";

std::vector<std::string> recursive(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> rel;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && is_image_file(it->path().filename().string())) {
      require_portable_name(it->path().string());
      rel.push_back(fs::relative(it->path(), dir).string());
    }
  }
  if (ec) fail("{}: cannot list the folder: {}", dir, ec.message());
  natural_sort(rel);
  if (rel.empty()) fail("{}: no images {} in the folder", dir, kExtensions);
  std::vector<std::string> out;
  for (const auto& r : rel) out.push_back((fs::path(dir) / r).string());
  return out;
}

std::vector<std::string> top_or_subfolders(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& name : list_image_files(dir)) out.push_back((fs::path(dir) / name).string());
  if (out.empty()) {
    for (const auto& sub : list_subfolders(dir))
      for (const auto& name : list_image_files((fs::path(dir) / sub).string()))
        out.push_back((fs::path(dir) / sub / name).string());
  }
  if (out.empty()) fail("{}: no images {} in the folder or its subfolders", dir, kExtensions);
  return out;
}

}  // namespace

std::vector<std::string> parse_image_list(const std::string& text, const std::string& list_path) {
  if (text.find('\0') != std::string::npos) fail("{}: not a text list of image paths", list_path);
  const fs::path base = fs::path(list_path).parent_path();
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = trim_whitespace(text.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line[0] == '#') continue;
    const fs::path p(line);
    require_portable_name(line);
    out.push_back(p.is_absolute() || base.empty() ? line : (base / p).string());
  }
  return out;
}

ImageList read_image_list(const std::string& dir_or_list, const ImageListOptions& options) {
  ImageList list;
  list.source = dir_or_list;
  std::error_code ec;
  if (fs::is_directory(dir_or_list, ec)) {
    list.paths = options.folder == FolderRule::kRecursive ? recursive(dir_or_list)
                                                          : top_or_subfolders(dir_or_list);
    return list;
  }
  if (!fs::exists(dir_or_list, ec)) fail("{}: no such folder or list file", dir_or_list);
  list.is_list = true;
  std::string text;
  try {
    text = read_file(dir_or_list);
  } catch (const Error&) {
    fail("{}: cannot read the list file", dir_or_list);
  }
  list.paths = parse_image_list(text, dir_or_list);
  if (list.paths.empty()) fail("{}: the list file names no images", dir_or_list);
  return list;
}

}  // namespace repbench::imaging
