// repbench run: a suite file in, records and leaderboards out.
#include <memory>

#include <fmt/format.h>

#include "app/commands.h"
#include "suite/runner.h"
#include "suite/suite_file.h"

namespace repbench::app {

namespace {

struct RunArgs {
  std::string suite;
  bool quiet = false, fast_decode = false;
};

void run_run(const RunArgs& a) {
  suite::Suite s = suite::read_suite(a.suite);
  if (a.fast_decode) s.fast_decode = true;  // the flag turns it on; the suite file may too
  const suite::SuiteRunResult r = suite::run_suite(s, {a.quiet});
  fmt::print("\n{}\n", r.markdown);
  fmt::print("{} records ({} skipped) under {}/records\n", r.records.size(), r.records_skipped,
             s.output);
  for (const auto& p : r.leaderboards) fmt::print("wrote {}\n", p);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run a suite: models x sets x protocols -> cached descriptors -> records -> leaderboard.");
  cmd->add_option("--suite", args->suite, "Suite file (YAML)")->required();
  cmd->add_flag("--quiet", args->quiet, "Print only the leaderboard");
  add_fast_decode_option(cmd, args->fast_decode);
  cmd->footer(
      "Suite file (relative paths are relative to the file):\n"
      "  output: results/my-run\n"
      "  models:\n"
      "    - spec: builtin:colorhist\n"
      "    - {spec: torchscript:weights/sscd_disc_mixup.pt, category: CD/IR,\n"
      "       postprocess: 'PCAW512,L2norm', postprocess_train: feats/disc_train.npy}\n"
      "  sets:\n"
      "    - {set: roxford5k, root: data/roxford5k, protocols: [medium, hard]}\n"
      "    - {set: data/my-set/gnd.json}\n"
      "  similarity: auto      # split-product for token outputs\n"
      "  rerank: dba:k=2,alpha=3;aqe:k=2,alpha=3   # optional (see `eval --help`)\n"
      "  batch_size: 32\n"
      "  device: cpu\n"
      "  on_decode_error: skip\n"
      "  fast_decode: false    # true = --fast-decode\n"
      "  formats: [md, csv, tex, html]\n"
      "A model or set that fails is a row marked 'skipped: reason'; the rest still runs.\n"
      "Descriptors are cached under OUTPUT/cache and reused (or resumed) on a rerun.");
  cmd->callback([args] { run_run(*args); });
}

}  // namespace repbench::app
