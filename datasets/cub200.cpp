#include "datasets/cub200.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "datasets/class_folders.h"

namespace fs = std::filesystem;

namespace repbench::datasets {

namespace {

constexpr int64_t kFirstTestClass = 101;

// "<int> <token>" lines of a CUB metadata file, in file order.
std::vector<std::pair<int64_t, std::string>> read_pairs(const std::string& root,
                                                        const std::string& name) {
  const fs::path path = fs::path(root) / name;
  std::ifstream in(path);
  if (!in) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) fail("{}: no such folder", root);
    fail("no {} in {}; is this CUB_200_2011/?", name, root);
  }
  std::vector<std::pair<int64_t, std::string>> out;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::istringstream ss(line);
    int64_t id;
    std::string value, extra;
    if (!(ss >> id >> value) || (ss >> extra))
      fail("{}:{}: expected '<id> <value>', found '{}'", path.string(), lineno, line);
    out.emplace_back(id, value);
  }
  if (out.empty()) fail("{}: is empty", path.string());
  return out;
}

}  // namespace

RetrievalSet load_cub200(const std::string& root) {
  auto images = read_pairs(root, "images.txt");
  auto labels = read_pairs(root, "image_class_labels.txt");
  auto classes = read_pairs(root, "classes.txt");
  std::map<int64_t, int64_t> label_of;
  for (const auto& [id, cls] : labels) {
    if (cls.find_first_not_of("0123456789") != std::string::npos || cls.size() > 6)
      fail("{}/image_class_labels.txt: image {} has class '{}', not a number", root, id, cls);
    label_of[id] = std::stoll(cls);
  }
  std::map<int64_t, std::string> class_names(classes.begin(), classes.end());

  RetrievalSet set;
  set.name = "cub200";
  set.protocol = "default";
  set.root = (fs::path(root) / "images").string();
  set.source = (fs::path(root) / "images.txt").string();
  set.crop_queries = false;
  std::vector<int64_t> db_class;
  for (const auto& [id, rel] : images) {
    auto it = label_of.find(id);
    if (it == label_of.end())
      fail("{}/image_class_labels.txt: image {} ({}) has no class", root, id, rel);
    if (!class_names.count(it->second))
      fail("{}/classes.txt: class {} (of image {}) is not listed", root, it->second, id);
    if (it->second < kFirstTestClass) continue;
    set.db.push_back(rel);
    db_class.push_back(it->second);
  }
  if (set.db.empty())
    fail("{}: no image of classes {}-200 (the test split)", root, kFirstTestClass);
  // Members of each class, ascending db index.
  std::map<int64_t, std::vector<int64_t>> members;
  for (size_t i = 0; i < db_class.size(); ++i)
    members[db_class[i]].push_back(static_cast<int64_t>(i));
  set.queries.reserve(set.db.size());
  for (size_t i = 0; i < set.db.size(); ++i) {
    Query q;
    q.image = set.db[i];
    for (int64_t j : members[db_class[i]])
      if (j != static_cast<int64_t>(i)) q.ok.push_back(j);
    q.junk = {static_cast<int64_t>(i)};  // leave-one-out: the query itself is ignored
    set.queries.push_back(std::move(q));
  }
  set.Check();
  return set;
}

RetrievalSet load_cub200_dcr(const std::string& root, double query_fraction) {
  const fs::path images = fs::path(root) / "images";
  std::error_code ec;
  if (!fs::is_directory(images, ec)) fail("no images/ folder in {}; is this CUB_200_2011/?", root);
  RetrievalSet set = split_class_folders(images.string(), query_fraction, /*max_per_class=*/0);
  set.name = "cub200-dcr";
  return set;
}

}  // namespace repbench::datasets
