// Image thumbnails for self-contained pages, shared by the scan and copying-experiment reports.
#pragma once

#include <string>

namespace repbench::report::impl {

// The last path component.
std::string file_name(const std::string& path);

// A JPEG thumbnail (longest side `px`) as an <img> with a data URI inside <div class="thumb">, or
// a placeholder box that names the file when it is missing or cannot be decoded. Never throws for
// a bad image.
std::string thumbnail(const std::string& path, int px);

}  // namespace repbench::report::impl
