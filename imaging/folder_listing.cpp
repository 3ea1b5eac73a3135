#include "imaging/folder_listing.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/error.h"
#include "core/natural_sort.h"
#include "core/path_guard.h"

namespace fs = std::filesystem;

namespace repbench::imaging {

namespace {

void require_folder(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) fail("{}: no such folder", dir);
  if (!fs::is_directory(dir, ec)) fail("{}: is not a folder", dir);
}

}  // namespace

bool is_image_file(const std::string& name) {
  std::string ext = fs::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".webp";
}

std::vector<std::string> list_image_files(const std::string& dir) {
  require_folder(dir);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::error_code ec;
    if (e.is_regular_file(ec) && is_image_file(e.path().filename().string())) {
      require_portable_name(e.path().string());
      names.push_back(e.path().filename().string());
    }
  }
  natural_sort(names);
  return names;
}

std::vector<std::string> list_subfolders(const std::string& dir) {
  require_folder(dir);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::error_code ec;
    if (e.is_directory(ec)) names.push_back(e.path().filename().string());
  }
  natural_sort(names);
  return names;
}

}  // namespace repbench::imaging
