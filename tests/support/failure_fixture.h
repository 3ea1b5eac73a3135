// A hand-built set and per-query record for the failure-page tests (tests/test_failure_page.cpp,
// and the browser test in tests/test_scan_report.cpp): four queries over ten database images,
// written as a gnd.json with plain-colour PNG images, a "repbench.record/2" record whose
// per-query block follows the per-query contract, and its top-ids file as an int32 .npy.
//
//   query 0: q0.png (200x150, pure blue), crop box [10.4, 5.5, 129.6, 80.2], ok {3, 7},
//            junk {1}, AP 0.2; ranking 1 2 4 3 ...: junk 1, false positives 2 (rank 2) and
//            4 (rank 3), best positive 3 at rank 4
//   query 1: ok {5}, AP 0.9; ranking 5 ...: best positive at rank 1, nothing above it
//   query 2: ok {} (left out, AP null)
//   query 3: ok {9}, junk {0}, AP 0.2 (ties query 0); ranking 0 2 6 8: junk 0, false
//            positives 2, 6, 8, no positive in the top 4
// Worst queries by AP: 0, 3, 1 (query 2 is not scored).
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/atomic_file.h"
#include "core/sha256.h"

namespace repbench::testing_fixture {

namespace fs = std::filesystem;
using nlohmann::json;

// A .npy of int32 written byte by byte (format 1.0), independent of core/npy.
inline void write_int32_npy(const fs::path& path, const std::vector<int32_t>& data, int64_t rows,
                            int64_t cols) {
  std::string header = fmt::format("{{'descr': '<i4', 'fortran_order': False, 'shape': ({}, {}), }}",
                                   rows, cols);
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(int32_t));
  write_file_atomic(path.string(), bytes);
}

struct FailureFixture {
  fs::path set_dir;   // holds gnd.json and the images
  fs::path record;    // the record (model "model-a")
  json record_json;
  std::vector<int32_t> top;  // [4, 4]
  std::string sha;
};

inline std::string fixture_sha() {
  // The per-query contract's canonical text, written out by hand.
  return sha256_hex(
      "q0.png\t3,7\t1\n"
      "q1.png\t5\t\n"
      "q2.png\t\t\n"
      "q3.png\t9\t0\n");
}

// A record of `model` with the given APs and rows of top ids, beside its top-ids file.
inline json make_fixture_record(const fs::path& record, const std::string& model,
                                const std::vector<json>& ap, const std::vector<int32_t>& top,
                                const std::string& sha) {
  const fs::path ids = fs::path(record.string().substr(0, record.string().size() - 5) +
                                ".top100.npy");
  write_int32_npy(ids, top, 4, 4);
  double sum = 0;
  int n = 0;
  for (const auto& a : ap)
    if (!a.is_null()) {
      sum += a.get<double>();
      ++n;
    }
  json r = {{"schema", "repbench.record/2"},
            {"model", {{"name", model}, {"category", "test"}}},
            {"set", "failure-fixture"},
            {"protocol", "default"},
            {"dataset", "failure-fixture"},
            {"metrics", {{"map", sum / n}}},
            {"per_query",
             {{"images", {"q0.png", "q1.png", "q2.png", "q3.png"}},
              {"ap", ap},
              {"queries_sha256", sha},
              {"top_ids", {{"file", ids.filename().string()}, {"k", 4}}}}}};
  write_file_atomic(record.string(), r.dump(2) + "\n");
  return r;
}

inline void write_colour_png(const fs::path& path, int w, int h, cv::Scalar bgr) {
  cv::Mat img(h, w, CV_8UC3, bgr);
  cv::imwrite(path.string(), img);
}

inline FailureFixture make_failure_fixture(const fs::path& dir) {
  FailureFixture f;
  f.set_dir = dir / "set";
  fs::create_directories(f.set_dir);
  write_colour_png(f.set_dir / "q0.png", 200, 150, cv::Scalar(255, 0, 0));  // pure blue
  for (int i = 1; i < 4; ++i)
    write_colour_png(f.set_dir / fmt::format("q{}.png", i), 64, 48, cv::Scalar(60, 160, 60));
  json db = json::array();
  for (int i = 0; i < 10; ++i) {
    const std::string name = fmt::format("d{}.png", i);
    write_colour_png(f.set_dir / name, 64, 48, cv::Scalar(20 * i, 100, 200 - 15 * i));
    db.push_back(name);
  }
  const json gnd = {
      {"schema", "repbench.gnd/1"},
      {"name", "failure-fixture"},
      {"db", db},
      {"queries",
       {{{"image", "q0.png"}, {"bbx", {10.4, 5.5, 129.6, 80.2}}, {"ok", {3, 7}}, {"junk", {1}}},
        {{"image", "q1.png"}, {"ok", {5}}},
        {{"image", "q2.png"}, {"ok", json::array()}},
        {{"image", "q3.png"}, {"ok", {9}}, {"junk", {0}}}}}};
  write_file_atomic((f.set_dir / "gnd.json").string(), gnd.dump(2));
  f.top = {1, 2, 4, 3,  //
           5, 0, 1, 2,  //
           0, 1, 2, 3,  //
           0, 2, 6, 8};
  f.sha = fixture_sha();
  fs::create_directories(dir / "records");
  f.record = dir / "records" / "model-a.failure-fixture.json";
  f.record_json = make_fixture_record(f.record, "model-a", {0.2, 0.9, nullptr, 0.2}, f.top, f.sha);
  return f;
}

}  // namespace repbench::testing_fixture
