#include "datasets/gpr1200.h"

#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/natural_sort.h"
#include "imaging/folder_listing.h"

namespace fs = std::filesystem;

namespace repbench::datasets {

namespace {

constexpr int kCategoriesPerSubset = 200;

struct Category {
  int64_t id;
  std::vector<std::string> files;  // natural name order
};

std::string image_folder(const std::string& root) {
  std::error_code ec;
  if (fs::is_directory(fs::path(root) / "images", ec)) return (fs::path(root) / "images").string();
  return root;
}

// Categories in ascending id order, each with its files.
std::vector<Category> read_categories(const std::string& dir) {
  std::vector<std::string> files = imaging::list_image_files(dir);
  if (files.empty())
    fail("{}: no images; expected GPR1200's flat folder of {{category}}_{{name}}.jpg files", dir);
  std::map<int64_t, std::vector<std::string>> by_id;
  for (const auto& f : files) {
    size_t us = f.find('_');
    std::string id = f.substr(0, us);
    if (us == std::string::npos || id.empty() || id.size() > 9 ||
        id.find_first_not_of("0123456789") != std::string::npos)
      fail("{}: file '{}' is not named {{category}}_{{name}} as GPR1200's images are", dir, f);
    by_id[std::stoll(id)].push_back(f);  // files arrive naturally sorted
  }
  std::vector<Category> cats;
  for (auto& [id, names] : by_id) cats.push_back({id, std::move(names)});
  return cats;
}

std::string subset_of(int64_t category) {
  const auto& names = gpr1200_subsets();
  size_t block = static_cast<size_t>(category / kCategoriesPerSubset);
  return block < names.size() ? names[block] : "other";
}

}  // namespace

const std::vector<std::string>& gpr1200_subsets() {
  static const std::vector<std::string> kNames = {"GLDv2",  "iNat", "IN-Sketch",
                                                  "INSTRE", "SOP",  "IMDB"};
  return kNames;
}

RetrievalSet load_gpr1200(const std::string& root) {
  const std::string dir = image_folder(root);
  std::vector<Category> cats = read_categories(dir);
  RetrievalSet set;
  set.name = "gpr1200";
  set.protocol = "default";
  set.root = dir;
  set.source = dir;
  set.crop_queries = false;
  for (const auto& c : cats) {
    const int64_t first = static_cast<int64_t>(set.db.size());
    std::vector<int64_t> ok;
    for (size_t j = 0; j < c.files.size(); ++j) ok.push_back(first + static_cast<int64_t>(j));
    for (const auto& f : c.files) {
      set.db.push_back(f);
      set.queries.push_back({f, std::nullopt, ok, {}, subset_of(c.id)});
    }
  }
  set.Check();
  return set;
}

RetrievalSet load_gpr1200_dcr(const std::string& root, int values_per_class) {
  const std::string dir = image_folder(root);
  std::vector<Category> cats = read_categories(dir);
  RetrievalSet set;
  set.name = "gpr1200-dcr";
  set.protocol = "default";
  set.root = dir;
  set.source = dir;
  set.crop_queries = false;
  for (const auto& c : cats) {
    if (c.files.size() < 2) continue;  // a query needs at least one database image of its class
    std::vector<int64_t> ok;
    for (size_t j = 1; j < c.files.size() && j <= static_cast<size_t>(values_per_class); ++j) {
      ok.push_back(static_cast<int64_t>(set.db.size()));
      set.db.push_back(c.files[j]);
    }
    set.queries.push_back({c.files[0], std::nullopt, ok, {}, subset_of(c.id)});
  }
  if (set.queries.empty()) fail("{}: no category has two or more images", dir);
  set.Check();
  return set;
}

}  // namespace repbench::datasets
