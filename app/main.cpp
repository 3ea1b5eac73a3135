// repbench: the command line. Parses, dispatches to one verb, and turns a repbench::Error into
// one line on stderr and exit status 2.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "app/commands.h"
#include "core/error.h"
#include "core/version.h"

int main(int argc, char** argv) {
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
  repbench::app::add_leaderboard_command(app);
  repbench::app::add_synth_paste_commands(app);
  repbench::app::add_synth_diffusion_commands(app);
  repbench::app::add_ddpm_command(app);

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
