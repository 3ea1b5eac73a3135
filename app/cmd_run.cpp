// repbench run: a suite file in, records and leaderboards out.
#include <cstdlib>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "app/commands.h"
#include "core/error.h"
#include "suite/preflight.h"
#include "suite/runner.h"
#include "suite/suite_file.h"

namespace repbench::app {

namespace {

// Exit status of a suite whose inputs are not all there (`--preflight`, or `run` refusing).
constexpr int kInputsMissing = 3;

struct RunArgs {
  std::string suite;
  std::vector<std::string> set_vars;
  bool quiet = false, fast_decode = false, preflight = false, keep_going = false;
};

std::map<std::string, std::string> parse_vars(const std::vector<std::string>& items) {
  std::map<std::string, std::string> vars;
  for (const auto& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      fail("--set-var: '{}' is not NAME=VALUE", item);
    vars[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return vars;
}

void run_run(const RunArgs& a) {
  suite::Suite s = suite::read_suite(a.suite, parse_vars(a.set_vars));
  if (a.fast_decode) s.fast_decode = true;  // the flag turns it on; the suite file may too
  if (a.preflight || !a.keep_going) {
    const suite::PreflightReport check = suite::preflight(s, a.preflight);
    if (a.preflight) {
      fmt::print("{}{}", check.table(), check.estimate());
      if (!check.ready()) std::exit(kInputsMissing);
      return;
    }
    if (!check.ready()) {
      fmt::print(stderr, "{}", check.table());
      fmt::print(stderr,
                 "repbench run: {}: not every input is there; nothing was run (--keep-going runs "
                 "the rest, with the missing rows marked skipped)\n",
                 a.suite);
      std::exit(kInputsMissing);
    }
  }
  const suite::SuiteRunResult r = suite::run_suite(s, {a.quiet, a.keep_going});
  fmt::print("\n{}\n", r.markdown);
  fmt::print("{} records ({} skipped) under {}/records\n", r.records.size(), r.records_skipped,
             s.output);
  for (const auto& p : r.leaderboards) fmt::print("wrote {}\n", p);
  if (!r.environment_errors.empty()) {
    fmt::print(stderr,
               "repbench: error: {} rows were skipped because the environment failed (first: "
               "{})\n",
               r.environment_errors.size(), r.environment_errors.front());
    std::exit(2);
  }
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run a suite: models x sets x protocols -> cached descriptors -> records -> leaderboard.");
  cmd->add_option("--suite", args->suite, "Suite file (YAML)")->required();
  cmd->add_flag("--quiet", args->quiet, "Print only the leaderboard");
  add_fast_decode_option(cmd, args->fast_decode);
  cmd->add_option("--set-var", args->set_vars,
                  "NAME=VALUE: the value of ${NAME} in the suite (wins over the environment)")
      ->allow_extra_args(false);
  cmd->add_flag("--preflight", args->preflight,
                "Check every model and set (nothing is extracted or built) and print a table: "
                "ready / missing / invalid, with how to get each missing input. Exit 0 when all "
                "are ready, 3 when not");
  cmd->add_flag("--keep-going", args->keep_going,
                "Run even when inputs are missing, or when writing or reading fails (a full "
                "disk, an I/O error): their rows are marked skipped, and a failure of the "
                "environment still ends with exit status 2");
  cmd->footer(
      "Suite file (relative paths are relative to the file):\n"
      "  output: results/my-run\n"
      "  models:\n"
      "    - spec: builtin:colorhist\n"
      "    - {spec: torchscript:${WEIGHTS}/sscd_imagenet_mixup.pt, category: CD/IR}\n"
      "    - {spec: torchscript:${WEIGHTS}/sscd_disc_mixup.pt, category: CD/IR,\n"
      "       postprocess: 'PCAW512,L2norm', postprocess_train: feats/disc_train.npy}\n"
      "  sets:\n"
      "    - {set: roxford5k, root: data/roxford5k, protocols: [medium, hard]}\n"
      "    - {set: data/my-set/gnd.json}\n"
      "    - {synth: cutmix, name: IN-Cutmix, source: ${IMAGENET_VAL}, count: 1000, seed: 0}\n"
      "  similarity: auto      # split-product for token outputs\n"
      "  rerank: dba:k=2,alpha=3;aqe:k=2,alpha=3   # optional (see `eval --help`)\n"
      "  batch_size: 32\n"
      "  device: cpu\n"
      "  on_decode_error: skip\n"
      "  fast_decode: false    # true = --fast-decode\n"
      "  formats: [md, csv, tex, html]\n"
      "${NAME} is --set-var's value, else the environment's; ${NAME:-default} has a default.\n"
      "A `synth:` set (cutmix, segmix, dif-patch, dif-diagonal; the options of `repbench synth`)\n"
      "is built before extraction when missing or when its recipe changed (OUT/recipe.json).\n"
      "run first checks every input as --preflight does and stops (exit 3) if one is missing;\n"
      "with --keep-going a model or set that fails is a row marked 'skipped: reason'.\n"
      "A failure of the environment (a full disk, an I/O error) stops the run with exit status\n"
      "2 naming the path; with --keep-going its rows are skipped and the exit status is still 2.\n"
      "Descriptors are cached under OUTPUT/cache and reused (or resumed) on a rerun.");
  cmd->callback([args] { run_run(*args); });
}

}  // namespace repbench::app
