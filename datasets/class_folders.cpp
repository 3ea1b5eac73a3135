#include "datasets/class_folders.h"

#include <cmath>

#include "core/error.h"
#include "imaging/folder_listing.h"

namespace repbench::datasets {

RetrievalSet split_class_folders(const std::string& dir, double query_fraction, int max_per_class) {
  RetrievalSet set;
  set.protocol = "default";
  set.root = dir;
  set.source = dir;
  set.crop_queries = false;
  const std::vector<std::string> classes = imaging::list_subfolders(dir);
  if (classes.empty()) fail("{}: no class folders", dir);
  for (const auto& cls : classes) {
    std::vector<std::string> files = imaging::list_image_files(dir + "/" + cls);
    if (max_per_class > 0 && files.size() > static_cast<size_t>(max_per_class))
      files.resize(static_cast<size_t>(max_per_class));
    // Python's int(0.2 * n), as the original: floor for non-negative values.
    const size_t nq =
        static_cast<size_t>(std::floor(query_fraction * static_cast<double>(files.size())));
    std::vector<int64_t> ok;
    for (size_t j = nq; j < files.size(); ++j) {
      ok.push_back(static_cast<int64_t>(set.db.size()));
      set.db.push_back(cls + "/" + files[j]);
    }
    for (size_t j = 0; j < nq; ++j)
      set.queries.push_back({cls + "/" + files[j], std::nullopt, ok, {}, ""});
  }
  if (set.queries.empty()) fail("{}: no class folder has enough images for a query", dir);
  set.Check();
  return set;
}

}  // namespace repbench::datasets
