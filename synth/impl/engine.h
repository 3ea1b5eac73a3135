// The engine under the paste generators (not a public header): input pools decoded once and
// checked, units (a source and its copies, or a distractor) produced on several threads and
// written by a separate pool of writer threads, resume records, and the assembly of the
// retrieval set. See synth/common.h for the layout it writes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "core/progress.h"
#include "datasets/retrieval_set.h"
#include "synth/common.h"

namespace repbench::synth::impl {

// Keeps OpenCV's own thread pool off while ours run (it would oversubscribe the cores on small
// images); restores the previous setting when destroyed.
class OpenCvSingleThread {
 public:
  OpenCvSingleThread();
  ~OpenCvSingleThread();
  OpenCvSingleThread(const OpenCvSingleThread&) = delete;
  OpenCvSingleThread& operator=(const OpenCvSingleThread&) = delete;

 private:
  int saved_;
};

// What probing an input image found.
struct InputInfo {
  std::string path;
  bool ok = false;
  std::string reason;  // why it is not usable (one line)
  std::string sha256;  // of the file's bytes
  int width = 0;       // decoded size
  int height = 0;
  // {"input": path, "sha256": ...}: how meta names an input.
  nlohmann::json ref() const;
};

// A list of input image files. probe() decodes each once (in parallel), records its sha256 and
// size, and keeps its size x size square in memory while the total stays under a budget; later
// square() calls decode again only the images that were not kept.
class ImagePool {
 public:
  ImagePool(std::vector<std::string> paths, int size);

  // Probes every image. `cache_file` (a json written here) remembers the results per path with
  // the file's byte size and modification time, so a rerun decodes only new or changed files.
  void probe(const std::string& cache_file, int threads, ProgressMode mode,
             const std::string& label);

  size_t size() const { return infos_.size(); }
  const InputInfo& info(size_t i) const { return infos_[i]; }
  // Indices of the usable images, ascending.
  std::vector<size_t> usable() const;
  // The size x size BGR square of image i; do not modify it in place (it may be shared). Throws
  // Error naming the file when it no longer decodes.
  cv::Mat square(size_t i) const;

 private:
  int size_;
  std::vector<InputInfo> infos_;
  std::vector<cv::Mat> squares_;
};

// One unit of work: its resume key and the files it writes.
struct UnitSpec {
  std::string id;                    // sidecar name under .synth/ ("u000012", "d000003")
  nlohmann::json key;                // everything that determines the unit's bytes
  std::vector<std::string> outputs;  // paths relative to out_dir
};

// What producing a unit gives: one image per output (BGR size x size) and its meta record.
struct UnitProduct {
  std::vector<cv::Mat> images;
  nlohmann::json record;
};

struct UnitsResult {
  std::vector<nlohmann::json> records;  // per unit, from this run or from its sidecar
  int64_t written = 0;
  int64_t reused = 0;
};

// Produces and writes every unit whose sidecar (.synth/<id>.json) is missing, has another key,
// or lists an output that no longer exists (then only the missing files are written; the bytes
// are the same since production is deterministic). Files and sidecars of units that are no
// longer in `units` are removed, and so is gnd.json when anything changes, until the caller
// rewrites it. produce(i) is called from several threads.
UnitsResult run_units(const std::string& out_dir, const std::vector<UnitSpec>& units,
                      const std::function<UnitProduct(size_t)>& produce, const SetOptions& opt,
                      const std::string& label);

// An image of the set and the inputs whose pixels it holds (for junk).
struct SetItem {
  std::string image;                 // relative to out_dir
  std::vector<std::string> content;  // input paths
};
struct SetGroup {
  SetItem source;
  std::vector<SetItem> copies;
};

// The retrieval set of synth/common.h's ground truth, rooted at out_dir.
datasets::RetrievalSet assemble_set(const std::string& name, const std::string& out_dir,
                                    const std::vector<SetGroup>& groups,
                                    const std::vector<SetItem>& distractors, QuerySide side);

// The distractors' set items (distractor_path(d, format) holding paths[d]) and their unit records,
// run.records[first_record + d], appended to `items` and `records`.
void add_distractors(const std::vector<std::string>& paths, ImageFormat format,
                     const UnitsResult& run, size_t first_record, std::vector<SetItem>& items,
                     nlohmann::json& records);

// The distractors' units, appended to `units`: unit "d000003" writes distractor_path(3, format)
// from input distractors[3], whose reference is its key. Its product is distractor_product.
void add_distractor_units(const ImagePool& pool, const std::vector<size_t>& distractors,
                          const nlohmann::json& pixel_options, ImageFormat format,
                          std::vector<UnitSpec>& units);
// The product of distractor unit d: the square of input `input`, unchanged, and its record.
UnitProduct distractor_product(const ImagePool& pool, size_t input, size_t d, ImageFormat format);

// The skipped inputs as meta's "skipped" list ({"path", "reason"} each).
nlohmann::json skipped_json(const std::vector<SkippedInput>& skipped);

// What every generator does once `set` (with its meta) is assembled: writes out_dir/gnd.json and
// fills the summary's path, counts and time.
void write_set(const datasets::RetrievalSet& set, const std::string& out_dir,
               const UnitsResult& run, int64_t sources, int copies_per_source, int64_t distractors,
               std::chrono::steady_clock::time_point t0, GenerationSummary& summary);

// Draws the sources and distractors among `candidates` (indices of usable inputs) with the
// set's seed: a seeded permutation of `order_pool`; sources are its first `count` members that
// `eligible` accepts (all when count is 0), distractors the next `distractors` members that are
// not sources. Throws Error (naming `what`) when there are fewer eligible inputs than count or
// fewer remaining inputs than distractors.
struct Selection {
  std::vector<size_t> sources;
  std::vector<size_t> distractors;
};
Selection select_inputs(const std::vector<size_t>& order_pool,
                        const std::function<bool(size_t)>& eligible, const SetOptions& opt,
                        const std::string& what);

// Output paths.
std::string source_path(size_t group, ImageFormat f);          // sources/000012.png
std::string copy_path(size_t group, int copy, ImageFormat f);  // copies/000012_01.png (1-based)
std::string distractor_path(size_t index, ImageFormat f);      // distractors/000003.png

// Rng streams (core/rng.h): one constant per kind of draw.
inline constexpr uint64_t kStreamSelect = 1;
inline constexpr uint64_t kStreamGroup = 2;
// Copy k of a group draws from stream kStreamCopy + k, index = group.
inline constexpr uint64_t kStreamCopy = 1000;

}  // namespace repbench::synth::impl
