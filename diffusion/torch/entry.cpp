// The plugin's entry for diffusion/ (diffusion/impl/torch_entry.h).
#include "runtime/torch_plugin.h"
#include "diffusion/impl/torch_entry.h"
#include "diffusion/torch/backends.h"

REPBENCH_TORCH_ENTRY(repbench_diffusion_torch_entry, repbench::diffusion::impl::TorchEntry,
                     &repbench::diffusion::impl::load_model_torch,
                     &repbench::diffusion::impl::null_model_torch,
                     &repbench::diffusion::impl::trainer_torch)
