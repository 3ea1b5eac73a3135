// A suite file (YAML): which models run on which sets under which protocols, and where the
// records, descriptors and leaderboards go. `repbench run --suite FILE` and the demo use it.
//
//   output: results/my-run          # folder for cache/, records/, leaderboard.* (required)
//   models:                         # required, at least one
//     - spec: builtin:colorhist     # extractor spec (see `repbench models list`)
//       name: Color histogram       # optional display name (default: the extractor's)
//       category: builtin           # optional leaderboard group (default: the extractor's)
//       preprocess: {size: 288}     # optional overrides of the model's preprocessing
//       postprocess: PCAW512,L2norm # optional FAISS vector-transform chain, both sides
//       postprocess_train: t.npy    # its training descriptors (required with postprocess)
//   sets:                           # required, at least one
//     - set: roxford5k              # registered name or a gnd.json path
//       root: /data/roxford5k       # optional, as `repbench eval --root`
//       gnd: /data/gnd_roxford5k.pkl  # optional
//       protocols: [medium, hard]   # optional: default = the set's default; [all] = every one
//       ap: trapezoid               # optional: overrides the set's own AP definition
//                                   # (trapezoid | non-interpolated), as `eval --ap`
//   similarity: auto                # auto | inner-product | split-product
//   rerank: dba:k=2,alpha=3;aqe:k=2,alpha=3  # optional re-ranking (metrics/rerank.h)
//   batch_size: 32
//   device: cpu                     # cpu | cuda | cuda:N
//   threads: 0                      # 0 = all cores
//   bootstrap: 1000                 # resamples for the mAP interval
//   seed: 0
//   on_decode_error: skip           # skip (named, counted in the record) | fail (row skipped)
//   fast_decode: false              # true: large JPEGs decoded at reduced size (faster, not
//                                   # the reference pipeline; models/image_loader.h)
//   formats: [md, csv, tex, html]   # json too: a `leaderboard --check` baseline
//
// Relative paths (output, root, gnd, torchscript: model paths) are relative to the suite file's
// folder. An unknown key, a wrong type or a missing required key is an Error naming the file and
// the line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace repbench::suite {

struct SuiteModel {
  std::string spec;
  std::string name;      // "" = the extractor's own name
  std::string category;  // "" = the extractor's own category
  nlohmann::json preprocess = nlohmann::json::object();
  std::string postprocess;        // "" = none (postprocess/postprocess.h)
  std::string postprocess_train;  // its training descriptor file
};

struct SuiteSet {
  std::string set;
  std::string root;
  std::string gnd;
  std::vector<std::string> protocols;  // empty = the set's default
  std::string ap;                      // "" = the set's own AP definition (its MetricSpec)
};

struct Suite {
  std::string source;  // the file it was read from ("" when built in code)
  std::string output;
  std::vector<SuiteModel> models;
  std::vector<SuiteSet> sets;
  std::string similarity = "auto";
  std::string rerank;  // "" = none; DBA / alpha-QE (metrics/rerank.h)
  int batch_size = 32;
  std::string device = "cpu";
  int threads = 0;
  int bootstrap = 1000;
  uint64_t seed = 0;
  std::string on_decode_error = "skip";
  bool fast_decode = false;
  std::vector<std::string> formats = {"md", "csv", "tex", "html"};

  // Throws Error (prefixed with the source file) on an invalid value.
  void Check() const;
};

Suite read_suite(const std::string& path);

}  // namespace repbench::suite
