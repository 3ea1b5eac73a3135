// Folder listings in a defined order (natural sort of names), so that protocols that depend on
// file order give the same split on every file system.
#pragma once

#include <string>
#include <vector>

namespace repbench::imaging {

// True for the image extensions repbench reads (.jpg .jpeg .png .bmp .webp, any case).
bool is_image_file(const std::string& name);

// Names (not paths) of the image files directly in `dir`, naturally sorted. Throws Error when
// `dir` is missing or not a folder.
std::vector<std::string> list_image_files(const std::string& dir);

// Names of the subfolders of `dir`, naturally sorted.
std::vector<std::string> list_subfolders(const std::string& dir);

}  // namespace repbench::imaging
