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

}  // namespace repbench::app
