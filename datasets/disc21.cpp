#include "datasets/disc21.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/parse_list.h"
#include "imaging/folder_listing.h"

namespace fs = std::filesystem;

namespace repbench::datasets {

namespace {

// The images of `dir` by id (file stem); Error naming the folder on an empty folder or a shared id.
std::unordered_map<std::string, int64_t> index_by_stem(const std::vector<std::string>& names,
                                                       const std::string& dir) {
  if (names.empty()) fail("{}: no images (DISC21's folders hold .jpg files)", dir);
  std::unordered_map<std::string, int64_t> index;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string id = fs::path(names[i]).stem().string();
    if (!index.emplace(id, static_cast<int64_t>(i)).second)
      fail("{}: two images have the id '{}' (ids are file names without extension)", dir, id);
  }
  return index;
}

}  // namespace

std::vector<GroundTruthRow> parse_disc_ground_truth(const std::string& text,
                                                    const std::string& path) {
  std::vector<GroundTruthRow> rows;
  std::map<std::pair<std::string, std::string>, int64_t> seen;
  size_t start = 0;
  int64_t line_no = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++line_no;
    const std::string line = trim_whitespace(text.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line == "query_id,reference_id") continue;
    if (line.find('\0') != std::string::npos)
      fail("{}: line {}: a NUL byte; is this a ground-truth CSV?", path, line_no);
    const size_t comma = line.find(',');
    if (comma == std::string::npos || line.find(',', comma + 1) != std::string::npos)
      fail("{}: line {}: expected 'query_id,reference_id', found '{}'", path, line_no,
           line.size() > 80 ? line.substr(0, 80) + "..." : line);
    GroundTruthRow row{line.substr(0, comma), line.substr(comma + 1), line_no};
    if (row.query.empty()) fail("{}: line {}: the query id is empty", path, line_no);
    const auto [it, fresh] = seen.emplace(std::make_pair(row.query, row.ref), line_no);
    if (!fresh)
      fail("{}: line {}: the pair ({}, {}) is already on line {}", path, line_no, row.query,
           row.ref.empty() ? "no match" : row.ref, it->second);
    rows.push_back(std::move(row));
  }
  return rows;
}

RetrievalSet load_disc21(const std::string& gnd, const std::string& root) {
  const fs::path r(root);
  const std::string qdir = (r / "val_query").string(), rdir = (r / "val_ref").string();
  const std::vector<std::string> qnames = imaging::list_image_files(qdir);
  const std::vector<std::string> rnames = imaging::list_image_files(rdir);
  const auto qindex = index_by_stem(qnames, qdir);
  const auto rindex = index_by_stem(rnames, rdir);
  const std::string gt_path = gnd.empty() ? (r / "val_groundtruth_matches.csv").string() : gnd;

  RetrievalSet set;
  set.name = "disc21";
  set.protocol = "default";
  set.root = root;
  set.source = gt_path;
  set.crop_queries = false;
  for (const auto& n : rnames) set.db.push_back("val_ref/" + n);
  for (const auto& n : qnames) set.queries.push_back({"val_query/" + n, std::nullopt, {}, {}, ""});
  for (const GroundTruthRow& row : parse_disc_ground_truth(read_file(gt_path), gt_path)) {
    const auto q = qindex.find(row.query);
    if (q == qindex.end())
      fail("{}: line {}: query '{}' is not an image of {}", gt_path, row.line, row.query, qdir);
    if (row.ref.empty()) continue;  // a query without a match
    const auto b = rindex.find(row.ref);
    if (b == rindex.end())
      fail("{}: line {}: reference '{}' is not an image of {}", gt_path, row.line, row.ref, rdir);
    set.queries[q->second].ok.push_back(b->second);
  }
  for (auto& q : set.queries) std::sort(q.ok.begin(), q.ok.end());
  std::error_code ec;
  if (fs::is_directory(r / "training", ec))
    set.meta = {{"training_images", imaging::list_image_files((r / "training").string()).size()}};
  set.Check();
  return set;
}

}  // namespace repbench::datasets
