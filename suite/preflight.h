// `repbench run --preflight`: whether every input of a suite is there, before any extraction.
//
// Models: a builtin is created; a model file (torchscript:PATH, or any PREFIX:PATH spec) must
// exist and be readable, and is then loaded as `run` would load it (its metadata, output kind and
// shape checked). Sets: a registered set needs its root folder; it is loaded under every protocol
// the suite asks for, its counts compared with the official ones (`repbench datasets list`), and
// every image checked present and readable, as `datasets verify` without decoding. A gnd.json
// set likewise. A recipe set (suite/recipe.h) is ready when built from its recipe, or when its
// inputs are there (folders holding enough images, an eps-model that loads) for `run` to build.
//
// Each input is ready, missing (a file or folder is not there) or invalid (there but wrong: a
// model that does not load, an image that cannot be read; a registered set whose counts are not
// the official ones is ready, with the counts in its detail, since a subset evaluates); one
// that is not ready carries its remedy: the entry's own `remedy:` from the suite, else the export
// command (the paper's extractors, models/registry.h) or the set's source and layout
// (datasets/set_registry.h).
//
// With `measure` (`run --preflight`), each model that loads also runs a probe: one warm-up batch,
// then a timed one, of the suite's batch size (at most 16) at the model's nominal input size; its
// images/s are in the model's detail, and the report estimates the suite's extraction time: every
// distinct image of every listed set through every model at its probe rate (forward passes only;
// recipe sets, whose images do not exist yet, are not counted).
#pragma once

#include <string>
#include <vector>

#include "suite/suite_file.h"

namespace repbench::suite {

enum class InputStatus { kReady, kMissing, kInvalid };
const char* to_string(InputStatus s);  // "ready" | "missing" | "invalid"

struct PreflightItem {
  std::string kind;  // "model" | "set"
  std::string name;  // the model's or set's name as the suite gives it
  InputStatus status = InputStatus::kReady;
  std::string detail;  // what was found, or what is wrong
  std::string remedy;  // for an input that is not ready: the command, or the URL and layout
  double images_per_second = 0;  // a model's probe rate (measured preflight only)
  int64_t images = 0;            // a listed set's distinct images (db and queries)
};

struct PreflightReport {
  std::vector<PreflightItem> items;  // the suite's models, then its sets, in its order
  int count(InputStatus s) const;
  bool ready() const { return count(InputStatus::kReady) == static_cast<int>(items.size()); }
  std::string table() const;  // a plain-text table, remedies under the rows they belong to
  // With probe rates: "extraction estimate: ..." (one line per model and the total), else "".
  std::string estimate() const;
};

PreflightReport preflight(const Suite& suite, bool measure = false);

}  // namespace repbench::suite
