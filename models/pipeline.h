// The extraction pipeline: image files -> descriptor matrix.
//
// Worker threads decode and preprocess images (models/image_loader.h) ahead of the forward pass,
// bounded to a few batches ahead so that memory stays flat; the calling thread groups consecutive
// images of the same preprocessed size into batches (images of different sizes, e.g. thumbnails
// without a crop, go in smaller groups), runs the extractor and writes the rows. When the device
// runs out of memory the batch is halved and retried (and later batches keep the smaller size).
// Exceptions raised in worker threads are rethrown on the calling thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/npy.h"
#include "models/feature_extractor.h"
#include "models/image_loader.h"
#include "core/progress.h"

namespace repbench::models {

struct ImageItem {
  std::string path;            // file to open (absolute, or relative to the working directory)
  std::optional<CropBox> bbx;  // query crop box (revisitop convention), applied before anything
};

// What to do with an image that cannot be read or decoded.
enum class DecodeErrorPolicy {
  kFail,  // throw Error naming the image (default)
  kSkip,  // leave its row zero, record it in Extraction::failed, go on
};

struct PipelineOptions {
  int batch_size = 32;       // images per forward pass (upper bound; halved on out-of-memory)
  int decode_threads = 0;    // 0 = one per core beyond the first (available_cores()), 1 to 8
  int prefetch_batches = 2;  // batches decoded ahead of the forward pass (bounds memory)
  DecodeErrorPolicy on_decode_error = DecodeErrorPolicy::kFail;
  ProgressMode progress = ProgressMode::kAuto;
  std::string label = "extract";      // prefix of the progress lines
  LoadOptions load;                   // decoding options (reduced-size JPEG decoding)
  Progress* progress_sink = nullptr;  // report into this one instead (used by the cache)

  void Check() const;  // throws Error on out-of-range fields
};

struct FailedImage {
  int64_t index = 0;  // position in the item list
  std::string path;
  std::string reason;  // the Error message
};

struct ExtractionStats {
  int64_t images = 0;          // images sent through the extractor
  int64_t batches = 0;         // forward passes
  int64_t oom_retries = 0;     // times a batch was halved after an out-of-memory error
  int final_batch_size = 0;    // batch size in use at the end
  double forward_seconds = 0;  // time inside FeatureExtractor::extract
  // Reading + decoding, and preprocessing (resize, crop, normalisation), summed over the decode
  // threads (they overlap the forward passes); the time the calling thread waited for them.
  double decode_seconds = 0;
  double preprocess_seconds = 0;
  double wait_seconds = 0;
  int decode_threads = 0;
  double write_seconds = 0;  // writing the results (the feature cache's files)
  double wall_seconds = 0;

  // Adds the counts and times of `o` (a later chunk of the same extraction).
  void add(const ExtractionStats& o);
  // "decode 1.2 s, preprocess 0.8 s (1 thread), waited 0.1 s, forward 9.7 s, write 0.0 s;
  // 48 images in 10.1 s, 4.8 images/s".
  std::string summary() const;
};

struct Extraction {
  // [n, dim] for embeddings, [n, tokens, dim] for tokens; row i = items[i] (rows of failed
  // images are zero and listed in `failed`).
  FloatArray features;
  std::vector<FailedImage> failed;  // sorted by index
  ExtractionStats stats;
};

// Extracts the descriptors of `items` with `extractor`.
Extraction extract_features(FeatureExtractor& extractor, const std::vector<ImageItem>& items,
                            const PipelineOptions& options = {});

// Shape of the descriptor matrix of n images: {n, dim} or {n, tokens, dim}.
std::vector<int64_t> descriptor_shape(const FeatureExtractor& extractor, int64_t n);

}  // namespace repbench::models
