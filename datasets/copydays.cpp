#include "datasets/copydays.h"

#include <filesystem>

#include "core/error.h"
#include "imaging/folder_listing.h"

namespace fs = std::filesystem;

namespace repbench::datasets {

namespace {

// SSCD reads only the .jpg files of a block, in sorted order.
std::vector<std::string> jpg_files(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& n : imaging::list_image_files(dir.string())) {
    const std::string ext = fs::path(n).extension().string();
    if (ext == ".jpg") out.push_back(n);
  }
  if (out.empty()) fail("{}: no .jpg images; is this a Copydays block?", dir.string());
  return out;
}

}  // namespace

const std::vector<std::string>& copydays_blocks() {
  static const std::vector<std::string> kBlocks = [] {
    std::vector<std::string> b = {"original", "strong"};
    for (int q : {3, 5, 8, 10, 15, 20, 30, 50, 75}) b.push_back("jpegqual/" + std::to_string(q));
    for (int c : {10, 15, 20, 30, 40, 50, 60, 70, 80}) b.push_back("crops/" + std::to_string(c));
    return b;
  }();
  return kBlocks;
}

RetrievalSet load_copydays(const std::string& root, bool distractors) {
  const fs::path r(root);
  RetrievalSet set;
  set.name = "copydays";
  set.protocol = "default";
  set.root = root;
  set.source = root;
  set.crop_queries = false;
  const std::vector<std::string> originals = jpg_files(r / "original");
  for (const auto& n : originals) set.db.push_back("original/" + n);
  for (const std::string& block : copydays_blocks()) {
    const std::vector<std::string> files =
        block == "original" ? originals : jpg_files(r / block);
    if (block != "strong" && files.size() != originals.size())
      fail("{}: {} images, but original/ has {}; each block transforms every original",
           (r / block).string(), files.size(), originals.size());
    for (size_t i = 0; i < files.size(); ++i) {
      Query q{block + "/" + files[i], std::nullopt, {}, {}, block};
      if (block != "strong") {
        q.ok.push_back(static_cast<int64_t>(i));
      } else {
        for (size_t j = 0; j < originals.size(); ++j)
          if (originals[j].substr(0, 4) == files[i].substr(0, 4))
            q.ok.push_back(static_cast<int64_t>(j));
      }
      set.queries.push_back(std::move(q));
    }
  }
  if (distractors) {
    const fs::path d = r / "distractors";
    std::error_code ec;
    if (!fs::is_directory(d, ec))
      fail("{}: no such folder; cd10k needs the distractor images there", d.string());
    const std::vector<std::string> names = imaging::list_image_files(d.string());
    if (names.empty()) fail("{}: no images; cd10k needs the distractors", d.string());
    for (const auto& n : names) set.db.push_back("distractors/" + n);
  }
  set.Check();
  return set;
}

}  // namespace repbench::datasets
