// Images in and out of the diffusion samplers. Torch-free.
//
// Resizing to the model's side follows guided-diffusion's center_crop_arr (image_datasets.py),
// which RePaint also uses for its images and masks:
//   while min(w, h) >= 2 * size: halve both sides (integer division) with PIL's BOX filter;
//   scale = size / min(w, h); resize to (round(w * scale), round(h * scale)) with BICUBIC
//   (Python's round, half to even); crop size x size at ((w' - size) // 2, (h' - size) // 2).
// The resampling is PIL-exact (imaging/resample.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "imaging/rgb_image.h"
#include "diffusion/sampler.h"

namespace repbench::diffusion {

// guided-diffusion's center_crop_arr of an RGB image to size x size (a copy when already so).
imaging::RgbImage center_crop_arr(const imaging::RgbImage& image, int size);

// The same geometry on a 1-channel mask [h, w]; the result is thresholded (>= 128 -> 255, else
// 0) so that it stays binary. Returns [size, size].
std::vector<uint8_t> center_crop_mask(const std::vector<uint8_t>& mask, int width, int height,
                                      int size);

// PIL's convert("L"): (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16, one byte per pixel.
std::vector<uint8_t> to_grey(const imaging::RgbImage& image);

// Appends image (already size x size) to `images` as floats pixel / 127.5 - 1 with `channels`
// channels (1: PIL's "L"). `images` must be empty or have the same c, h, w.
void append_image(const imaging::RgbImage& image, int channels, Images& images);

// Image i of `images` as 8-bit RGB with RePaint's toU8: uint8(clamp((x + 1) * 127.5, 0, 255))
// (truncation); a 1-channel image is replicated into R, G and B.
imaging::RgbImage to_rgb(const Images& images, int64_t i);

// Reads a mask file as PIL's "L" [height, width] (255 = keep, 0 = generate). Throws Error naming
// the file when it cannot be read.
std::vector<uint8_t> read_mask_file(const std::string& path, int* width, int* height);

// Counts of kept (>= 128) and generated pixels of a mask.
struct MaskCounts {
  int64_t keep = 0, generate = 0;
};
MaskCounts count_mask(const uint8_t* mask, int64_t pixels);

// Encodes as PNG (lossless, deterministic) and writes atomically.
void write_png(const std::string& path, const imaging::RgbImage& image);
void write_png_grey(const std::string& path, const uint8_t* pixels, int width, int height);

}  // namespace repbench::diffusion
