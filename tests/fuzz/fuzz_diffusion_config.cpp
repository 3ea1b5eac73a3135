// libFuzzer target: what an eps-model file says about itself (diffusion/): a TorchScript
// eps-model's metadata.json (EpsModelConfig::from_json, model_config.h) and a repbench DDPM
// checkpoint's header (parse_checkpoint_header, the parser behind read_checkpoint_header, and its
// "metadata" and "unet" objects, ddpm.h), read as diffusion/torch/eps_net.cpp reads them before
// any LibTorch call. An input that starts with
// the checkpoint magic "RBDDPM01" is a checkpoint file; any other is the text of metadata.json.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "diffusion/ddpm.h"
#include "diffusion/model_config.h"

using namespace repbench::diffusion;

namespace {

void use(const EpsModelConfig& c) {
  (void)c.to_json();
  (void)c.betas();  // what the sampler computes first
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    if (size >= 8 && std::memcmp(data, kCheckpointMagic, 8) == 0) {
      const nlohmann::json header = parse_checkpoint_header(
          std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.ckpt");
      use(EpsModelConfig::from_json(header.at("metadata"), "checkpoint header: metadata"));
      (void)UNetConfig::from_json(header.at("unet"), "checkpoint header: unet").to_json();
    } else {
      // eps_net.cpp's parse_metadata: invalid JSON is reported before from_json.
      const nlohmann::json j =
          nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) return 0;
      use(EpsModelConfig::from_json(j, "model.pt: metadata.json"));
    }
  } catch (const repbench::Error&) {
  }
  return 0;
}
