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
//
// Variables: every string value may hold ${NAME} or ${NAME:-default}, replaced by the value given
// to read_suite (`run --set-var NAME=VALUE`), else the environment's, else the default; a name
// with none of them is an Error naming the file and line. Before relative paths are resolved.
//
// Sets that `run` builds (suite/recipe.h): an entry with `synth:` instead of `set:`, e.g.
//     - {synth: cutmix, name: IN-Cutmix, source: ${IMAGENET_VAL}, count: 1000, seed: 0}
// Both kinds of entry take `name:` (the leaderboard's column name instead of the set's own) and
// `remedy:` (what `run --preflight` prints when the set's files are missing); a model entry
// takes `remedy:` too.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/metric_kinds.h"
#include "evaluation/scoring.h"
#include "metrics/rerank.h"

namespace repbench::suite {

struct SuiteModel {
  std::string spec;
  std::string name;      // "" = the extractor's own name
  std::string category;  // "" = the extractor's own category
  nlohmann::json preprocess = nlohmann::json::object();
  std::string postprocess;        // "" = none (postprocess/postprocess.h)
  std::string postprocess_train;  // its training descriptor file
  std::string remedy;  // "" = the preflight's own (suite/preflight.h)
};

// A set the suite builds with one of the synth generators (suite/recipe.h).
struct SetRecipe {
  std::string generator;                              // cutmix | segmix | dif-patch | dif-diagonal
  nlohmann::json options = nlohmann::json::object();  // the other keys, paths resolved
  std::string out;                                    // the folder it is built in
  std::string where;  // "FILE:LINE: sets[i]", for errors in its values (check_recipes)
};

struct SuiteSet {
  std::string set;
  std::string root;
  std::string gnd;
  std::vector<std::string> protocols;  // empty = the set's default
  std::optional<metrics::ApKind> ap;   // nullopt = the set's own AP definition (its MetricSpec)
  std::string name;                    // "" = the set's own name (its leaderboard column)
  std::string remedy;                  // "" = the preflight's own (suite/preflight.h)
  std::optional<SetRecipe> recipe;     // built by run; `set` is then its out/gnd.json
};

struct Suite {
  std::string source;  // the file it was read from ("" when built in code)
  std::string output;
  std::vector<SuiteModel> models;
  std::vector<SuiteSet> sets;
  evaluation::Similarity similarity = evaluation::Similarity::kAuto;
  metrics::RerankSpec rerank;  // empty = none; DBA / alpha-QE, parsed when read (metrics/rerank.h)
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

// A file-system-safe form of a name (letters, digits, '-', '_', '.'; other runs become '-').
std::string name_slug(const std::string& s);

// `vars`: values of ${NAME} that win over the environment's. A recipe's keys and their types are
// checked here, its values by check_recipes (suite/recipe.h), which run and preflight call.
Suite read_suite(const std::string& path, const std::map<std::string, std::string>& vars = {});

}  // namespace repbench::suite
