#include "models/set_images.h"

#include <filesystem>

namespace repbench::models {

namespace {

std::string join(const std::string& root, const std::string& path) {
  if (root.empty()) return path;
  return (std::filesystem::path(root) / path).string();  // an absolute `path` stays as it is
}

}  // namespace

std::vector<ImageItem> database_items(const datasets::RetrievalSet& set) {
  std::vector<ImageItem> items;
  items.reserve(set.db.size());
  for (const std::string& p : set.db) items.push_back({join(set.root, p), std::nullopt});
  return items;
}

std::vector<ImageItem> query_items(const datasets::RetrievalSet& set) {
  std::vector<ImageItem> items;
  items.reserve(set.queries.size());
  for (const datasets::Query& q : set.queries)
    items.push_back({join(set.root, q.image), set.crop_queries ? q.bbx : std::nullopt});
  return items;
}

}  // namespace repbench::models
