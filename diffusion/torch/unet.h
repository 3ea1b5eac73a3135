// The built-in DDPM UNet (architecture in diffusion/ddpm.h). Includes LibTorch: only .cpp
// files of diffusion/torch/ (the LibTorch plugin) may include it.
#pragma once

#include <vector>

#include <torch/nn.h>

#include "diffusion/ddpm.h"

namespace repbench::diffusion::impl {

// GroupNorm -> SiLU -> conv3x3 -> + Linear(temb) -> GroupNorm -> SiLU -> dropout -> conv3x3
// (zero-initialised, so that a new block is the identity), plus a 1x1 skip when channels change.
class ResBlockImpl : public torch::nn::Module {
 public:
  ResBlockImpl(int in_channels, int out_channels, int temb_channels, double dropout);
  // x [B, in, H, W], temb [B, temb] -> [B, out, H, W]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb);

 private:
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, skip_{nullptr};
  torch::nn::Linear temb_proj_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(ResBlock);

// Single-head self-attention over the H * W positions, residual (output projection zeroed).
class AttnBlockImpl : public torch::nn::Module {
 public:
  explicit AttnBlockImpl(int channels);
  // x [B, C, H, W] -> [B, C, H, W]
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::GroupNorm norm_{nullptr};
  torch::nn::Conv2d qkv_{nullptr}, proj_{nullptr};
};
TORCH_MODULE(AttnBlock);

class UNetImpl : public torch::nn::Module {
 public:
  explicit UNetImpl(const UNetConfig& config);
  // x [B, C, S, S] in [-1, 1], t int64 [B] (training timesteps) -> eps [B, C, S, S]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t);
  const UNetConfig& config() const { return config_; }

 private:
  UNetConfig config_;
  int temb_in_ = 0;
  torch::nn::Linear temb1_{nullptr}, temb2_{nullptr};
  torch::nn::Conv2d conv_in_{nullptr}, conv_out_{nullptr};
  torch::nn::GroupNorm norm_out_{nullptr};
  // Down path, in order: one entry per residual block (with its attention or an empty holder),
  // and the downsampling convolutions between levels.
  std::vector<ResBlock> down_res_;
  std::vector<AttnBlock> down_attn_;
  std::vector<torch::nn::Conv2d> downsample_;
  ResBlock mid1_{nullptr}, mid2_{nullptr};
  AttnBlock mid_attn_{nullptr};
  std::vector<ResBlock> up_res_;
  std::vector<AttnBlock> up_attn_;
  std::vector<torch::nn::Conv2d> upsample_;
};
TORCH_MODULE(UNet);

// guided-diffusion's timestep_embedding: [cos(t f_k), sin(t f_k)], f_k = 10000^(-k / half).
// t [B] -> [B, dim]
torch::Tensor timestep_embedding(const torch::Tensor& t, int dim);

// Number of GroupNorm groups for `channels` (32 at most, at least 4 channels per group).
int norm_groups(int channels);

}  // namespace repbench::diffusion::impl
