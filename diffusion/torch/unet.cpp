#include "diffusion/torch/unet.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <torch/torch.h>

namespace repbench::diffusion::impl {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

int norm_groups(int channels) {
  int g = 32;
  while (g > 1 && (channels % g != 0 || channels / g < 4)) g /= 2;
  return g;
}

namespace {

nn::GroupNorm group_norm(int channels) {
  return nn::GroupNorm(nn::GroupNormOptions(norm_groups(channels), channels).eps(1e-6));
}

nn::Conv2d conv(int in, int out, int kernel, int stride = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2));
}

// Zero weights and bias: a new residual branch starts as the identity (guided-diffusion's
// zero_module), which keeps short training runs stable.
template <typename M>
void zero(M& m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m->parameters()) p.zero_();
}

}  // namespace

torch::Tensor timestep_embedding(const torch::Tensor& t, int dim) {
  const int half = dim / 2;
  const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(t.device());
  const torch::Tensor freqs =
      torch::exp(-std::log(10000.0) * torch::arange(0, half, opts) / static_cast<double>(half));
  const torch::Tensor args = t.to(torch::kFloat).unsqueeze(1) * freqs.unsqueeze(0);
  torch::Tensor emb = torch::cat({torch::cos(args), torch::sin(args)}, 1);
  if (dim % 2) emb = torch::cat({emb, torch::zeros({t.size(0), 1}, opts)}, 1);
  return emb;
}

ResBlockImpl::ResBlockImpl(int in_channels, int out_channels, int temb_channels, double dropout) {
  norm1_ = register_module("norm1", group_norm(in_channels));
  conv1_ = register_module("conv1", conv(in_channels, out_channels, 3));
  temb_proj_ = register_module("temb_proj", nn::Linear(temb_channels, out_channels));
  norm2_ = register_module("norm2", group_norm(out_channels));
  dropout_ = register_module("dropout", nn::Dropout(dropout));
  conv2_ = register_module("conv2", conv(out_channels, out_channels, 3));
  zero(conv2_);
  if (in_channels != out_channels)
    skip_ = register_module("skip", conv(in_channels, out_channels, 1));
}

torch::Tensor ResBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& temb) {
  torch::Tensor h = conv1_(F::silu(norm1_(x)));
  h = h + temb_proj_(F::silu(temb)).unsqueeze(-1).unsqueeze(-1);
  h = conv2_(dropout_(F::silu(norm2_(h))));
  return (skip_ ? skip_(x) : x) + h;
}

AttnBlockImpl::AttnBlockImpl(int channels) {
  norm_ = register_module("norm", group_norm(channels));
  qkv_ = register_module("qkv", conv(channels, 3 * channels, 1));
  proj_ = register_module("proj", conv(channels, channels, 1));
  zero(proj_);
}

torch::Tensor AttnBlockImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const torch::Tensor qkv = qkv_(norm_(x)).reshape({b, 3, c, h * w});
  const torch::Tensor q = qkv.select(1, 0), k = qkv.select(1, 1), v = qkv.select(1, 2);
  // weights [B, HW (query), HW (key)]
  const torch::Tensor weights = torch::softmax(
      torch::bmm(q.transpose(1, 2), k) * (1.0 / std::sqrt(static_cast<double>(c))), -1);
  const torch::Tensor out = torch::bmm(v, weights.transpose(1, 2));  // [B, C, HW]
  return x + proj_(out.reshape({b, c, h, w}));
}

UNetImpl::UNetImpl(const UNetConfig& config) : config_(config) {
  config_.Check("UNet");
  const int base = config_.base_channels;
  const int levels = static_cast<int>(config_.channel_mult.size());
  const int nrb = config_.num_res_blocks;
  temb_in_ = base;
  const int temb = 4 * base;
  auto has_attn = [&](int res) {
    return std::find(config_.attention_resolutions.begin(), config_.attention_resolutions.end(),
                     res) != config_.attention_resolutions.end();
  };
  temb1_ = register_module("temb1", nn::Linear(temb_in_, temb));
  temb2_ = register_module("temb2", nn::Linear(temb, temb));
  conv_in_ = register_module("conv_in", conv(config_.channels, base, 3));

  std::vector<int> skips = {base};
  int cur = base, res = config_.image_size;
  for (int l = 0; l < levels; ++l) {
    const int out = base * config_.channel_mult[l];
    for (int b = 0; b < nrb; ++b) {
      const std::string name = fmt::format("down{}_{}", l, b);
      down_res_.push_back(register_module(name, ResBlock(cur, out, temb, config_.dropout)));
      cur = out;
      down_attn_.push_back(has_attn(res) ? register_module(name + "_attn", AttnBlock(cur))
                                         : AttnBlock(nullptr));
      skips.push_back(cur);
    }
    if (l + 1 < levels) {
      downsample_.push_back(register_module(fmt::format("downsample{}", l), conv(cur, cur, 3, 2)));
      skips.push_back(cur);
      res /= 2;
    }
  }
  mid1_ = register_module("mid1", ResBlock(cur, cur, temb, config_.dropout));
  mid_attn_ = register_module("mid_attn", AttnBlock(cur));
  mid2_ = register_module("mid2", ResBlock(cur, cur, temb, config_.dropout));
  for (int l = levels - 1; l >= 0; --l) {
    const int out = base * config_.channel_mult[l];
    for (int b = 0; b <= nrb; ++b) {
      const int in = cur + skips.back();
      skips.pop_back();
      const std::string name = fmt::format("up{}_{}", l, b);
      up_res_.push_back(register_module(name, ResBlock(in, out, temb, config_.dropout)));
      cur = out;
      up_attn_.push_back(has_attn(res) ? register_module(name + "_attn", AttnBlock(cur))
                                       : AttnBlock(nullptr));
    }
    if (l > 0) {
      upsample_.push_back(register_module(fmt::format("upsample{}", l), conv(cur, cur, 3)));
      res *= 2;
    }
  }
  norm_out_ = register_module("norm_out", group_norm(cur));
  conv_out_ = register_module("conv_out", conv(cur, config_.channels, 3));
  zero(conv_out_);
}

torch::Tensor UNetImpl::forward(const torch::Tensor& x, const torch::Tensor& t) {
  const torch::Tensor emb = temb2_(F::silu(temb1_(timestep_embedding(t, temb_in_))));
  const int levels = static_cast<int>(config_.channel_mult.size());
  const int nrb = config_.num_res_blocks;
  std::vector<torch::Tensor> hs;
  torch::Tensor h = conv_in_(x);
  hs.push_back(h);
  size_t idx = 0;
  for (int l = 0; l < levels; ++l) {
    for (int b = 0; b < nrb; ++b, ++idx) {
      h = down_res_[idx](h, emb);
      if (down_attn_[idx]) h = down_attn_[idx](h);
      hs.push_back(h);
    }
    if (l + 1 < levels) {
      h = downsample_[l](h);
      hs.push_back(h);
    }
  }
  h = mid2_(mid_attn_(mid1_(h, emb)), emb);
  idx = 0;
  size_t up = 0;
  for (int l = levels - 1; l >= 0; --l) {
    for (int b = 0; b <= nrb; ++b, ++idx) {
      h = up_res_[idx](torch::cat({h, hs.back()}, 1), emb);
      hs.pop_back();
      if (up_attn_[idx]) h = up_attn_[idx](h);
    }
    if (l > 0) {
      h = F::interpolate(h, F::InterpolateFuncOptions()
                                .scale_factor(std::vector<double>{2.0, 2.0})
                                .mode(torch::kNearest));
      h = upsample_[up++](h);
    }
  }
  return conv_out_(F::silu(norm_out_(h)));
}

}  // namespace repbench::diffusion::impl
