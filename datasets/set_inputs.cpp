#include "datasets/set_inputs.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"
#include "core/sha256.h"

namespace fs = std::filesystem;

namespace repbench::datasets {

nlohmann::json ground_truth_input(const RetrievalSet& set) {
  std::error_code ec;
  if (!fs::is_directory(set.source, ec))
    return {{"path", set.source}, {"sha256", sha256_file(set.source)}};
  std::vector<std::string> images = set.db;
  for (const auto& q : set.queries) images.push_back(q.image);
  std::sort(images.begin(), images.end());
  images.erase(std::unique(images.begin(), images.end()), images.end());
  std::string listing;
  for (const auto& rel : images) {
    const fs::path p = fs::path(set.root) / rel;
    const auto size = fs::file_size(p, ec);
    if (ec) fail("{}: cannot read its size: {}", p.string(), ec.message());
    listing += fmt::format("{}\t{}\n", rel, size);
  }
  return {{"path", set.source},
          {"sha256", sha256_hex(listing)},
          {"checksum_of", "file list with sizes"},
          {"files", images.size()}};
}

}  // namespace repbench::datasets
