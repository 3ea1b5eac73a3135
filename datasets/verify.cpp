#include "datasets/verify.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/sha256.h"
#include "imaging/codec.h"
#include "imaging/codecs_plugin.h"

namespace fs = std::filesystem;

namespace repbench::datasets {

namespace {

// "hash  path" lines as sha256sum writes them.
std::map<std::string, std::string> read_manifest(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    if (line.size() < 67 || line[64] != ' ' || line[65] != ' ')
      fail("{}:{}: not a sha256sum line ('<64 hex>  <path>')", path, lineno);
    out[line.substr(66)] = line.substr(0, 64);
  }
  return out;
}

struct Checked {
  std::string sha256;
  std::string problem;  // empty = fine
};

Checked check_one(const std::string& full, bool decode) {
  std::error_code ec;
  if (!fs::is_regular_file(full, ec)) return {"", "missing"};
  Checked c;
  try {
    c.sha256 = sha256_file(full);
  } catch (const Error&) {
    return {"", "unreadable"};
  }
  if (decode) {
    // Reduced-size decoding still parses the whole compressed stream.
    imaging::DecodeOptions half;
    half.reduce = 2;
    try {
      imaging::decode_file(full, half);
    } catch (const Error&) {  // the codecs plugin is loaded before (verify_set)
      c.problem = "does not decode";
    }
  }
  return c;
}

}  // namespace

VerifyReport verify_set(const RetrievalSet& set, const VerifyOptions& opt) {
  std::vector<std::string> images;
  {
    std::set<std::string> seen;
    for (const auto& p : set.db)
      if (seen.insert(p).second) images.push_back(p);
    for (const auto& q : set.queries)
      if (seen.insert(q.image).second) images.push_back(q.image);
  }
  VerifyReport report;
  report.images = static_cast<int64_t>(images.size());
  if (opt.expected_db >= 0 && static_cast<int64_t>(set.db.size()) != opt.expected_db)
    report.count_mismatches.push_back(
        fmt::format("database images: {}, expected {}", set.db.size(), opt.expected_db));
  if (opt.expected_queries >= 0 && static_cast<int64_t>(set.queries.size()) != opt.expected_queries)
    report.count_mismatches.push_back(
        fmt::format("queries: {}, expected {}", set.queries.size(), opt.expected_queries));

  // A missing codecs plugin stops here rather than marking every image as undecodable.
  if (opt.decode && !images.empty()) imaging::require_codecs();
  std::vector<Checked> results(images.size());
  std::atomic<int64_t> done{0};
  ParallelOptions waiting;  // progress is reported from the caller's thread (verify.h)
  if (opt.on_progress)
    waiting.while_waiting = [&] { opt.on_progress(done.load(), report.images); };
  parallel_for(
      report.images, opt.threads,
      [&](int64_t i, int) {
        results[i] = check_one((fs::path(set.root) / images[i]).string(), opt.decode);
        ++done;
      },
      waiting);
  if (opt.on_progress) opt.on_progress(report.images, report.images);

  std::map<std::string, std::string> manifest;
  std::error_code ec;
  if (!opt.manifest.empty() && fs::exists(opt.manifest, ec)) {
    manifest = read_manifest(opt.manifest);
    report.manifest_compared = true;
  }
  for (size_t i = 0; i < images.size(); ++i) {
    const Checked& c = results[i];
    std::string problem = c.problem.empty() ? "" : c.problem;
    if (problem.empty() && c.sha256.empty()) problem = "missing";
    if (problem.empty() && report.manifest_compared) {
      auto it = manifest.find(images[i]);
      if (it == manifest.end()) {
        problem = "not in the manifest";
      } else if (it->second != c.sha256) {
        problem = "changed since the manifest (sha256 differs)";
      }
    }
    if (problem.empty()) {
      ++report.ok;
    } else {
      report.problems.push_back({images[i], problem});
    }
  }
  if (!opt.manifest.empty() && !report.manifest_compared && report.problems.empty()) {
    std::vector<size_t> order(images.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return images[a] < images[b]; });
    std::string text;
    for (size_t i : order) text += results[i].sha256 + "  " + images[i] + "\n";
    write_file_atomic(opt.manifest, text);
    report.manifest_written = true;
  }
  return report;
}

}  // namespace repbench::datasets
