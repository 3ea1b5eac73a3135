// Options shared by several verbs.
#include "app/commands.h"
#include "app/output_cleanup.h"

#include <filesystem>

#include "core/error.h"
#include "runtime/out_of_memory.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace repbench::app {

void add_device_options(CLI::App* cmd, std::string& device, int& threads,
                        const char* threads_help) {
  cmd->add_option("--device", device,
                  "cpu, cuda or cuda:N (cuda needs a CUDA build of LibTorch)")
      ->capture_default_str();
  cmd->add_option("--threads", threads, threads_help)->capture_default_str();
}

void add_fast_decode_option(CLI::App* cmd, bool& fast_decode) {
  cmd->add_flag("--fast-decode", fast_decode,
                "Decode large JPEGs at 1/2, 1/4 or 1/8 size (libjpeg DCT scaling, PIL draft()'s "
                "rule): faster, but descriptors differ slightly from the reference pipeline's full "
                "decode (recorded in the cache key and every record)");
}

void add_postprocess_options(CLI::App* cmd, std::string& chain, std::string& train_file,
                             std::string& cache_dir) {
  cmd->add_option("--postprocess", chain,
                  "FAISS vector-transform chain applied to both sides, e.g. 'PCAW512,L2norm' "
                  "(SSCD's); any chain index_factory accepts before an index");
  cmd->add_option("--postprocess-train", train_file,
                  "Descriptor .npy [n, d] the chain is trained on (a held-out set)");
  cmd->add_option("--postprocess-cache", cache_dir,
                  "Folder of trained chains, keyed by sha256 of the chain and of the training "
                  "file (default: scan's OUT/cache/postprocess; for the other verbs "
                  "$XDG_CACHE_HOME/repbench/postprocess, else ~/.cache/repbench/postprocess)");
}

void add_precision_option(CLI::App* cmd, std::string& precision) {
  cmd->add_option("--precision", precision,
                  "Exact search's candidate pass: auto (bf16 where the CPU has AVX512_BF16, else "
                  "fp32), fp32 or bf16 (fp32 where the CPU lacks it); the results are identical: "
                  "every candidate that could be in the top k is rescored exactly "
                  "(docs/precision.md)")
      ->capture_default_str();
}

void print_precision(const nlohmann::json& p) {
  fmt::print("  precision: {} candidate pass ({}), {:.1f} candidates rescored per query{}\n",
             p["ran"].get<std::string>(), p["kernel"].get<std::string>(),
             p["rescored_per_query"].get<double>(),
             p.contains("fallback")
                 ? fmt::format("; {} asked: {}", p["asked"].get<std::string>(),
                               p["fallback"].get<std::string>())
                 : std::string());
}

void remove_new_output_on_error(const std::string& out, const std::function<void()>& work) {
  std::error_code ec;
  const bool made_out = !out.empty() && !std::filesystem::exists(out, ec);
  try {
    work();
  } catch (const runtime::OutOfMemory&) {
    throw;
  } catch (const Error&) {
    if (made_out) std::filesystem::remove_all(out, ec);
    throw;
  }
}

}  // namespace repbench::app
