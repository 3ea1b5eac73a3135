// The plugin's entry for synth/diffusion/ (synth/diffusion/impl/torch_entry.h).
#include "runtime/torch_plugin.h"
#include "synth/diffusion/impl/torch_entry.h"
#include "synth/diffusion/torch/backends.h"

REPBENCH_TORCH_ENTRY(repbench_diffusion_torch_entry, repbench::synth::diffusion::impl::TorchEntry,
                     &repbench::synth::diffusion::impl::load_model_torch,
                     &repbench::synth::diffusion::impl::null_model_torch,
                     &repbench::synth::diffusion::impl::trainer_torch)
