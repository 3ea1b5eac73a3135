// libFuzzer target: the list-file reader of a folder-or-list-file of images (imaging/image_list.h,
// docs/PROTOCOLS.md §9.8: `scan`, `extract`, `ddpm train`, the copying experiment), relative
// paths resolved against the list's folder.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "imaging/image_list.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const std::vector<std::string> paths = repbench::imaging::parse_image_list(
        std::string(reinterpret_cast<const char*>(data), size), "lists/fuzz.txt");
    for (const std::string& p : paths)
      if (p.empty()) __builtin_trap();  // a listed path is never empty
  } catch (const repbench::Error&) {
  }
  return 0;
}
