// repbench demo: the whole pipeline on the embedded default (Debian's opencv-doc photographs).
#include <memory>

#include <fmt/format.h>

#include "app/commands.h"
#include "demo/demo.h"

namespace repbench::app {

void add_demo_command(CLI::App& app) {
  auto o = std::make_shared<demo::DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "Build a small benchmark from real photographs and run every built-in extractor.");
  cmd->add_option("--out,-o", o->out, "Output folder")->capture_default_str();
  cmd->add_option("--pool", o->pool_dir,
                  "Folder of the pinned photographs (default: opencv-doc's sample images)");
  cmd->add_option("--seed", o->seed, "Seed of the generated sets and the bootstrap")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Worker threads (0 = all cores)");
  cmd->add_flag("--quiet", o->quiet, "Print only the leaderboard");
  cmd->add_option("--ddpm-model", o->ddpm_model,
                  "Eps-model for the dif-patch/dif-diagonal sets (TorchScript or repbench "
                  "checkpoint; default: a small DDPM the demo trains on the pool, cached)");
  cmd->add_option("--ddpm-steps", o->ddpm_steps,
                  "Training steps of the demo's own DDPM (a larger budget resumes the cache)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--device", o->device, "cpu | cuda | cuda:N")->capture_default_str();
  add_fast_decode_option(cmd, o->fast_decode);
  cmd->footer(
      "Writes OUT/records/ (one JSON record per model x set) and\n"
      "OUT/leaderboard.{md,csv,tex,html,json}; reruns reuse the staged images, the generated sets\n"
      "and the cached descriptors. LibTorch runs with portable numerics (one thread, kernels\n"
      "pinned): the same numbers on every x86-64 CPU with AVX2 and FMA, AMD or Intel, whatever\n"
      "--threads says; REPBENCH_NUMERICS=native runs it with all SIMD and cores instead.");
  cmd->callback([o] {
    const suite::SuiteRunResult r = demo::run_demo(*o);
    fmt::print("\n{}\n", r.markdown);
    for (const auto& p : r.leaderboards) fmt::print("wrote {}\n", p);
  });
}

}  // namespace repbench::app
