// The plugin's entry for models/ (models/impl/torch_entry.h).
#include "models/impl/torch_entry.h"
#include "models/torch/extractors.h"
#include "runtime/torch_plugin.h"

REPBENCH_TORCH_ENTRY(repbench_models_torch_entry, repbench::models::impl::TorchEntry,
                     &repbench::models::impl::create_torchscript_torch,
                     &repbench::models::impl::create_randcnn_torch)
