// repbench: the command line. Parses, dispatches to one verb, and turns a repbench::Error into
// one line on stderr and exit status 2.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "core/error.h"
#include "core/version.h"
#include "runtime/openmp_policy.h"
#include "runtime/portable_numerics.h"

namespace {

// The verbs that may run LibTorch (an extractor, a diffusion model) restart once with OpenMP's
// passive wait policy (runtime/openmp_policy.h says why); the others start as they are.
void restart_torch_verbs_with_passive_openmp(int argc, char** argv) {
  if (argc < 2) return;
  static const char* const kTorchVerbs[] = {"demo",  "run",  "extract",   "ddpm",
                                            "synth", "scan", "experiment"};
  for (const char* v : kTorchVerbs)
    if (std::strcmp(argv[1], v) == 0) {
      // The demo's numbers are the same on every CPU (runtime/portable_numerics.h); the other
      // verbs pin them only when REPBENCH_NUMERICS=portable.
      repbench::runtime::restart_with_portable_numerics(argv, std::strcmp(v, "demo") == 0);
      return repbench::runtime::restart_with_passive_openmp(argv);
    }
}

}  // namespace

int main(int argc, char** argv) {
  restart_torch_verbs_with_passive_openmp(argc, argv);
  CLI::App app{
      "repbench: a benchmark harness for replication detectors (image-similarity models that find\n"
      "copies of training images in a generator's outputs), after Somepalli et al., CVPR 2023."};
  app.require_subcommand(1);
  app.set_version_flag("--version", repbench::version_text());
  app.footer("Run `repbench VERB --help` for a verb's options and examples.");

  repbench::app::add_demo_command(app);
  repbench::app::add_run_command(app);
  repbench::app::add_extract_command(app);
  repbench::app::add_models_command(app);
  repbench::app::add_datasets_command(app);
  repbench::app::add_eval_command(app);
  repbench::app::add_search_command(app);
  repbench::app::add_scan_command(app);
  repbench::app::add_leaderboard_command(app);
  repbench::app::add_explain_command(app);
  repbench::app::add_compare_command(app);
  repbench::app::add_synth_paste_commands(app);
  repbench::app::add_synth_diffusion_commands(app);
  repbench::app::add_ddpm_command(app);
  repbench::app::add_experiment_command(app);

  // A first word that is not an option and names no verb: say so and list the verbs (CLI11 alone
  // would only say that a subcommand is required).
  const CLI::App& verbs_of = app;
  const std::vector<const CLI::App*> all_verbs = verbs_of.get_subcommands({});
  if (argc >= 2 && argv[1][0] != '-' &&
      std::none_of(all_verbs.begin(), all_verbs.end(),
                   [&](const CLI::App* v) { return v->check_name(argv[1]); })) {
    std::string verbs;
    for (const CLI::App* v : all_verbs) verbs += (verbs.empty() ? "" : ", ") + v->get_name();
    std::fprintf(stderr, "repbench: error: unknown verb '%s'; the verbs are: %s\n", argv[1],
                 verbs.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const repbench::Error& e) {
    std::fprintf(stderr, "repbench: error: %s\n", e.what());
    return 2;
  } catch (const nlohmann::json::type_error& e) {
    // A name that is not UTF-8 (a path on the command line, a name inside an input) on its way
    // into a JSON output: the user's input, not a bug. Names of listed files are refused earlier
    // with the file named (core/path_guard.h).
    if (e.id != 316) {
      std::fprintf(stderr, "repbench: internal error: %s\n", e.what());
      return 3;
    }
    std::fprintf(stderr,
                 "repbench: error: a path or name given to repbench is not UTF-8, and JSON "
                 "outputs hold UTF-8 only; rename it (%s)\n",
                 e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "repbench: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
