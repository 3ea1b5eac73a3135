// repbench models list: the extractor registry, including the paper's ten.
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "models/registry.h"

namespace repbench::app {

namespace {

void run_models_list(bool json) {
  const auto all = models::known_extractors();
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& m : all)
      j.push_back({{"name", m.name}, {"family", m.family}, {"category", m.category},
                   {"spec", m.spec}, {"weights", m.weights}, {"export_command", m.export_command},
                   {"output", m.output}, {"in_paper", m.in_paper}, {"notes", m.notes}});
    fmt::print("{}\n", j.dump(2));
    return;
  }
  for (const bool builtin : {true, false}) {
    fmt::print("{}\n", builtin ? "Built-in extractors (no weights needed):"
                               : "\nPretrained extractors, exported to TorchScript by "
                                 "scripts/export_models.py (* = a row of the paper's Table 1):");
    for (const auto& m : all) {
      if ((m.family == "builtin") != builtin) continue;
      // A builtin's name is its spec: each is printed once.
      fmt::print("{} {}  [{}]{}\n", m.in_paper ? "*" : " ", m.spec, m.category,
                 m.name == m.spec ? "" : " " + m.name);
      fmt::print("    output: {}\n", m.output);
      if (!m.export_command.empty())
        fmt::print("    weights: {}\n    export: {}\n", m.weights, m.export_command);
      if (!m.notes.empty()) fmt::print("    {}\n", m.notes);
    }
  }
}

}  // namespace

void add_models_command(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("models", "The extractor registry.");
  cmd->require_subcommand(1);
  CLI::App* list = cmd->add_subcommand(
      "list", "Built-in extractors and the paper's ten, with their specs and weights.");
  list->add_flag("--json", *json, "Print JSON");
  list->callback([json] { run_models_list(*json); });
}

}  // namespace repbench::app
