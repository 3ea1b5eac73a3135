// repbench synth: the shared verb under which each synthetic-set generator adds a subcommand.
#include "app/commands.h"

namespace repbench::app {

CLI::App* synth_command(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == "synth") return sub;
  CLI::App* cmd = app.add_subcommand(
      "synth", "Generate synthetic replication sets (images + gnd.json) from your own images.");
  cmd->require_subcommand(1);
  return cmd;
}

}  // namespace repbench::app
