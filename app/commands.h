// One function per verb: each adds its subcommand (options, help, examples) to the app. The
// verb's work runs in its callback; errors are repbench::Error, reported by main().
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json_fwd.hpp>

namespace repbench::app {

// --device and --threads of the verbs that run LibTorch, spelled and explained once
// (app/options.cpp). `threads_help` says what else the threads serve, if anything.
void add_device_options(CLI::App* cmd, std::string& device, int& threads,
                        const char* threads_help = "LibTorch threads (0 = all cores)");

// --fast-decode of the verbs that compute descriptors (models/image_loader.h), spelled and
// explained once (app/options.cpp).
void add_fast_decode_option(CLI::App* cmd, bool& fast_decode);

// --postprocess, --postprocess-train and --postprocess-cache of the verbs that compare
// descriptors (postprocess/postprocess.h), spelled and explained once (app/options.cpp).
void add_postprocess_options(CLI::App* cmd, std::string& chain, std::string& train_file,
                             std::string& cache_dir);

// --precision of the verbs that search exactly (search, scan; docs/precision.md), and the line
// that reports a search's precision record (scan/index.h precision_record) (app/options.cpp).
void add_precision_option(CLI::App* cmd, std::string& precision);
void print_precision(const nlohmann::json& precision);

void add_datasets_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_search_command(CLI::App& app);
void add_leaderboard_command(CLI::App& app);
// `repbench explain` (app/cmd_explain.cpp): failure and comparison pages of records.
void add_explain_command(CLI::App& app);
// `repbench compare` (app/cmd_compare.cpp).
void add_compare_command(CLI::App& app);
void add_extract_command(CLI::App& app);
void add_models_command(CLI::App& app);
void add_run_command(CLI::App& app);
// `repbench scan` (app/cmd_scan.cpp).
void add_scan_command(CLI::App& app);

// `repbench synth` holds one subcommand per generator; each generator family's file adds its
// own subcommands to the shared verb returned by synth_command().
CLI::App* synth_command(CLI::App& app);

// `repbench synth cutmix` and `repbench synth segmix` (app/cmd_synth_paste.cpp).
void add_synth_paste_commands(CLI::App& app);

// `repbench ddpm train|sample|info` (app/cmd_ddpm.cpp).
void add_ddpm_command(CLI::App& app);
// `repbench experiment copying` (app/cmd_experiment.cpp).
void add_experiment_command(CLI::App& app);
// `repbench synth dif-patch|dif-diagonal|inpaint` (app/cmd_synth_diffusion.cpp).
void add_synth_diffusion_commands(CLI::App& app);

}  // namespace repbench::app
