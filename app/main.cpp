// repbench: the command line. Parses, dispatches to one verb, and turns a repbench::Error into
// one line on stderr and exit status 2.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include <CLI/CLI.hpp>

#include "app/commands.h"
#include "core/error.h"
#include "core/version.h"

namespace {

// libgomp (LibTorch's OpenMP) reads OMP_WAIT_POLICY once, when it is loaded, before main. Its
// default makes idle worker threads spin; when other processes share the cores (a CI job running
// tests in parallel, a cluster node) the spinning threads take the cores from the working ones,
// and a two-thread run was measured 7x slower than a one-thread run (a DDPM demo test: 685 s
// instead of 101 s under load). The verbs that run LibTorch therefore restart themselves once
// with the passive policy, unless the user chose a policy; other verbs start as they are.
void restart_with_passive_openmp(int argc, char** argv) {
  if (argc < 2 || std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  static const char* const kTorchVerbs[] = {"demo",  "run",  "extract",   "ddpm",
                                            "synth", "scan", "experiment"};
  bool torch_verb = false;
  for (const char* v : kTorchVerbs) torch_verb = torch_verb || std::strcmp(argv[1], v) == 0;
  if (!torch_verb) return;
  if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: then run as we are
}

}  // namespace

int main(int argc, char** argv) {
  restart_with_passive_openmp(argc, argv);
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
  } catch (const std::exception& e) {
    std::fprintf(stderr, "repbench: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
