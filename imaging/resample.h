// PIL-compatible image resampling (Pillow's libImaging/Resample.c, 8 bits per channel). Public
// because the diffusion sets prepare their training images with it too (diffusion/image_prep).
//
// Same filters, supports, coefficient rounding (22-bit fixed point), pass order (horizontal, then
// vertical, each pass skipped when its size is unchanged) and clipping as PIL's Image.resize, so
// a resize here is bit-exact with PIL's on 8-bit images; downscaling widens the filter by the
// scale factor (antialiasing), as torchvision does on PIL images.
#pragma once

#include <cstddef>
#include <cstdint>

namespace repbench::imaging {

enum class ResampleFilter { kBox, kBilinear, kBicubic, kLanczos };

// Resizes an interleaved 8-bit image.
//   src: h rows of w pixels of `channels` bytes, row i at src + i * src_stride
//   dst: out_h x out_w x channels bytes, contiguous row-major (row stride out_w * channels)
void resample_pil(const uint8_t* src, int w, int h, int channels, size_t src_stride, uint8_t* dst,
                  int out_w, int out_h, ResampleFilter filter);

}  // namespace repbench::imaging
