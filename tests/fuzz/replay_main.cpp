// A plain main() for the fuzz targets, built with the normal compiler (no libFuzzer, no
// sanitizer needed): it feeds every file of the folders and files given to the target's
// LLVMFuzzerTestOneInput, once each, in name order, so that ctest replays each target's corpus
// (tests/fuzz/corpus/<target>/: seeds and the inputs runs found) and a fixed crash stays fixed.
// A crash, a sanitizer finding or an exception other than the target's accepted one ends the
// process with a failure; a folder without files is an error (an empty corpus proves nothing).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    std::vector<fs::path> files;
    std::error_code ec;
    if (fs::is_directory(argv[i], ec)) {
      for (fs::recursive_directory_iterator it(argv[i], ec), end; !ec && it != end;
           it.increment(ec))
        if (it->is_regular_file()) files.push_back(it->path());
      if (ec || files.empty()) {
        std::fprintf(stderr, "%s: no input files (%s)\n", argv[i],
                     ec ? ec.message().c_str() : "empty folder");
        return 2;
      }
      std::sort(files.begin(), files.end());
    } else {
      files.emplace_back(argv[i]);
    }
    for (const fs::path& f : files) {
      std::ifstream in(f, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "%s: cannot read\n", f.c_str());
        return 2;
      }
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      std::fprintf(stderr, "replaying %s (%zu bytes)\n", f.c_str(), bytes.size());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++replayed;
    }
  }
  std::printf("%zu inputs replayed without a finding\n", replayed);
  return 0;
}
