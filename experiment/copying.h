// The copying experiment (Somepalli et al., CVPR 2023, Section 5): does a diffusion model copy
// its training data more when that data is small? For each training-set size n, a DDPM (the
// built-in UNet, diffusion/ddpm.h) is trained on n of the user's images, samples are drawn
// from it, and the samples are scanned against their own training subset (scan/scan.h): top-1
// similarity of every sample against the subset's self-similarity baseline, and the share above
// each threshold. The paper's finding is that the samples of small-set models sit far to the right
// of the baseline (blatant copies) and move onto it as the set grows.
//
// Protocol choices, recorded in the result:
//   - subsets are nested: one seeded permutation of the listed images, size n takes its first n;
//   - every size gets the same training budget (steps x batch), so small sets see more epochs,
//     as in the paper's fixed-length runs; the per-size loss is recorded;
//   - training images are compared as the model saw them (guided-diffusion's center_crop_arr to
//     --size), written as PNGs beside the samples, so the detector sees both sides alike.
//
// Layout of OUT (every stage resumes: training from its checkpoint, sampling by batch, the scan's
// descriptors from its cache):
//   n<N>/subset.json            the subset's source paths (a rerun with other images is refused)
//   n<N>/train/                 the prepared training images, NNNNNN.png
//   n<N>/ddpm.ckpt              the model
//   n<N>/samples-<sha12>/       its samples (folder named after the checkpoint's sha256, so that
//                               samples of an older checkpoint are never scanned as this one's)
//   n<N>/scan/                  scan.json, matches.csv, plots/, report.html of that size
//   experiment.json             the record (written last, atomically); report/copying_report.h
//                               renders it into plots/ and report.html.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.h"

namespace repbench::experiment {

struct CopyingOptions {
  std::string images;                 // folder (or class subfolders) or list file
  std::vector<int64_t> train_sizes;   // each >= 1 and at most the number of images
  int size = 32;                      // image side the models work at (32 or 64)
  std::string model;                  // detector spec (models/registry.h)
  // Training, per size.
  int64_t steps = 3000;
  int batch_size = 16;
  int base_channels = 32;
  double lr = 1e-3;
  // Sampling, per size.
  int64_t samples = 100;
  std::string sample_steps = "100";  // timestep respacing ("" = every training step)
  // Scan.
  std::vector<double> thresholds{0.5};
  int64_t baseline_sample = 1000;
  uint64_t seed = 0;  // subset permutation, weights, sampling, baseline sample
  std::string device = "cpu";
  int threads = 0;
  std::string out;
  ProgressMode progress = ProgressMode::kAuto;
  std::function<void(const std::string&)> log;  // one line per stage (may be empty)

  // Throws Error: no sizes, a size < 1, duplicate sizes, a threshold outside [-1, 1], ...
  void Check() const;
};

// Runs (or resumes) the experiment and returns the record, also written to OUT/experiment.json:
// the envelope of records/record_envelope.h (schema kCopyingExperimentSchema, context, timings:
// train_seconds, sample_seconds and scan_seconds summed over the sizes, total_seconds) with
// kind "copying-experiment", images, model, thresholds, options, protocol and sizes. Throws Error before training when a size exceeds the
// number of images, naming the source and the count.
nlohmann::json run_copying_experiment(const CopyingOptions& options);

}  // namespace repbench::experiment
