// IN-Dif-Patch and IN-Dif-Diagonal (Somepalli et al. 2023, Section 4): keep part of a source image
// and outpaint the rest with RePaint; and single-image inpainting. Torch-free header.
//
// Masks are at the model's side S (255 = keep, 0 = generate, as RePaint's gt_keep_mask):
//   patch     a square of side round(sqrt(patch_fraction) * S) (clamped to [1, S - 1]) at a
//             uniformly drawn position fully inside the image; the paper keeps ~20% ("masking 80%
//             of the image except for a random square patch"). Patch side and position are not
//             published: these are repbench's choices, recorded in meta.
//   diagonal  a triangular half: the main diagonal runs from the top-left to the bottom-right
//             corner (pixels with y == x), the anti-diagonal from the bottom-left to the top-right
//             (x + y == S - 1); "above" keeps the upper side (y <= x, resp. x + y <= S - 1),
//             "below" the lower one, the diagonal's own pixels being kept either way. Which
//             diagonal and which side are drawn uniformly (the paper says "above or below the
//             diagonal"; `diagonals` can restrict the diagonal).
//
// A generated set (the output folder):
//   sources/NNNNNN.png    each source, prepared for the model (center_crop_arr to S, image_prep.h)
//   copies/NNNNNN_KK.png  its copies K = 01, 02, ... (as the paste generators name them):
//                         RePaint's outpainting, kept pixels equal to the source's
//   masks/NNNNNN_KK.png   the mask of that copy (255 = kept)
//   gnd.json              queries (sources by default, ok = their copies) and db (the copies),
//                         or the reverse with query side "copy"; "meta" records the options,
//                         the model (path, sha256, format, metadata), the RePaint parameters and,
//                         per query ("items", in query order), the source file, its original
//                         size and whether it was resized, each copy's mask parameters, class
//                         label and seed
//   .repbench-dif.json    the options the folder was made with (written first): a rerun with the
//                         same options keeps the images already there (atomic writes: an image
//                         that exists is complete), a rerun with other options is an error.
// Sources are drawn without replacement from the source folder (its images, or those of its
// subfolders), by a seeded permutation. Every random choice of copy k of source i comes from
// (seed, i, k), and batches are fixed ranges of copies, so the same seed, options, device and
// thread count give the same bytes, interrupted or not.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.h"
#include "diffusion/sampler.h"

namespace repbench::diffusion {

enum class DifKind { kPatch, kDiagonal };
enum class Diagonals { kBoth, kMain, kAnti };
enum class QuerySide { kSources, kCopies };

const char* to_string(DifKind kind);    // "dif-patch" | "dif-diagonal"
const char* to_string(Diagonals d);     // "both" | "main" | "anti"
const char* to_string(QuerySide side);  // "source" | "copy" (as synth/common.h)
Diagonals parse_diagonals(const std::string& s);
QuerySide parse_query_side(const std::string& s);

// A drawn mask. Patch: x, y, side (pixels, 0-based top-left). Diagonal: anti, keep_above.
struct MaskSpec {
  DifKind kind = DifKind::kPatch;
  int size = 0;  // S
  int x = 0, y = 0, side = 0;
  bool anti = false, keep_above = true;

  // [S, S] bytes, 255 = keep.
  std::vector<uint8_t> render() const;
  nlohmann::json to_json() const;
};

// Draws a mask from `seed` (patch: side from patch_fraction, position uniform).
MaskSpec draw_mask(DifKind kind, int size, double patch_fraction, Diagonals diagonals,
                   uint64_t seed);

struct DifSetOptions {
  DifKind kind = DifKind::kPatch;
  std::string source_dir;
  std::string model;  // eps-model: TorchScript .pt or repbench checkpoint
  std::string out_dir;
  int64_t count = 100;  // sources drawn
  int copies_per_source = 1;
  uint64_t seed = 0;
  double patch_fraction = 0.2;  // kept area of a patch mask
  Diagonals diagonals = Diagonals::kBoth;
  QuerySide query_side = QuerySide::kSources;
  int batch_size = 4;  // copies outpainted together
  RePaintOptions repaint;
  DeviceOptions device;
  ProgressMode progress = ProgressMode::kAuto;

  void Check() const;
};

struct GenerationSummary {
  std::string gnd_path;
  int64_t sources = 0;
  int64_t copies = 0;
  int64_t generated = 0;  // copies outpainted by this run
  int64_t reused = 0;     // copies already in the folder
  int64_t resized = 0;    // sources whose size differed from the model's
  int64_t model_calls = 0;
  double seconds = 0;
  nlohmann::json to_json() const;
};

// Generates (or completes) a dif-patch or dif-diagonal set; see the file comment. Throws Error
// when the source folder has fewer than `count` images, an image cannot be read, the model is
// invalid, or the out folder holds a set made with other options.
GenerationSummary generate_dif_set(const DifSetOptions& options);

struct InpaintOptions {
  std::string model, image, mask, out;  // out: a .png; its record goes to out + ".json"
  uint64_t seed = 0;
  RePaintOptions repaint;
  DeviceOptions device;
  ProgressMode progress = ProgressMode::kAuto;
};

// Inpaints one image: the image and its mask (same size; read as PIL "L", >= 128 = keep) go
// through center_crop_arr to the model's side when they differ from it (the mask then thresholded
// again), RePaint runs, kept pixels are the prepared image's. Writes `out` and the record
// out + ".json" (model, seed, RePaint parameters, original size, "resized"); returns the record.
// Throws Error naming the file: unreadable image or mask, mask size != image size, mask with
// nothing to keep or nothing to generate.
nlohmann::json inpaint_file(const InpaintOptions& options);

}  // namespace repbench::diffusion
