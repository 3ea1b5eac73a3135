// Options shared by several verbs.
#include "app/commands.h"

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

}  // namespace repbench::app
