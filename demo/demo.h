// The demo (module demo/): a small benchmark built from real photographs that Debian's opencv-doc ships (no
// download, no weights), run through the same suite runner as any user suite:
//   1. stage the pinned image pool into OUT/pool (sha256-checked);
//   2. build the sets: the pool's natural view pairs (demo-pairs) and the synthetic sets that
//      repbench's generators make from the pool: in-cutmix and the two segmix sets by pasting,
//      dif-patch and dif-diagonal by RePaint outpainting with a small DDPM that the demo trains
//      on the pool once (OUT/ddpm/, cached) or with the eps-model the user passes;
//   3. run every built-in extractor on every set (descriptors cached in OUT/cache);
//   4. write OUT/records/ (with per-query results and failure pages), OUT/leaderboard.{md,csv,
//      tex,html,json} (rank intervals, Friedman test), OUT/cd_diagram.{svg,png}, and
//      OUT/compare.{md,json}: `repbench compare` of the two models with the lowest average rank.
// A rerun reuses the staged pool, the generated sets and the cached descriptors. The process
// runs with portable numerics (runtime/portable_numerics.h, app/main.cpp): the same bytes on
// every x86-64 CPU with AVX2, whatever --threads says.
#pragma once

#include <string>

#include "suite/runner.h"

namespace repbench::demo {

struct DemoOptions {
  std::string out = "results/demo";
  std::string pool_dir;  // "" = Debian's opencv-doc sample folder
  uint64_t seed = 0;
  int threads = 0;
  bool quiet = false;
  // The eps-model of the dif sets: "" = the demo's own DDPM (32 px, trained on the pool for
  // ddpm_steps steps; a larger budget resumes the cached checkpoint), or a user's TorchScript
  // eps-model / repbench checkpoint.
  std::string ddpm_model;
  int64_t ddpm_steps = 600;
  std::string device = "cpu";  // DDPM training, RePaint and extraction
  bool fast_decode = false;     // the suite's fast_decode (models/image_loader.h)
};

// The suite the demo runs (sets built, models listed), without running it.
suite::Suite prepare_demo(const DemoOptions& options);

suite::SuiteRunResult run_demo(const DemoOptions& options);

}  // namespace repbench::demo
