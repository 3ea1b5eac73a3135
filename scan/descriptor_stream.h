// Descriptors that stay on disk: the .npy files of `repbench extract` (shard files with their
// .shard.json, any order, or one merged file) or plain numpy .npy files (no sidecar; several are
// concatenated in the order given), float32 or float16. Opening reads headers and sidecars only;
// rows are then read in blocks (pread, float16 widened to float32), so a reader holds two blocks
// at a time (the one in use and the next, read meanwhile) whatever the number of rows.
//
// Rows of images that failed to decode (listed by the shard files) are left out: row r of the
// stream is the r-th readable row, as scan's in-memory path numbers them after dropping failed
// rows. list_index() maps back to the position in the whole list.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "core/progress.h"
#include "models/pipeline.h"

namespace repbench::scan {

class DescriptorStream {
 public:
  // Opens `npy_paths`: all repbench shard files of one list (checked as merge_shard_files does), or
  // all plain .npy files. `names_list` (optional, plain files only): a file of row names, one a
  // line, one per row; without it rows are named by their index ("0", "1", ...).
  // With `whole_list` false, one shard file alone (a job array's task): its rows keep their
  // indices in the whole list (list_index()).
  static DescriptorStream open(const std::vector<std::string>& npy_paths,
                               const std::string& names_list = "", bool whole_list = true);

  bool has_sidecar() const { return sidecar_; }
  const std::string& model() const { return model_; }    // empty when no sidecar names it
  // What repbench's sidecars say made the rows: {"model", "model_sha256", "preprocess",
  // "decoding"}, each only where a sidecar records it (the shard file; the feature-cache sidecar
  // X.json).
  const nlohmann::json& provenance() const { return provenance_; }
  const std::string& source() const { return source_; }  // the list, or the first file
  const std::string& list_sha256() const { return list_sha256_; }  // empty for plain files
  int64_t shards() const { return shards_; }             // shard files merged (plain: files)
  int64_t listed() const { return listed_; }             // rows in the files
  int64_t list_begin() const { return list_begin_; }     // list index of the first file row
  int64_t rows() const { return listed_ - int64_t(failed_.size()); }  // readable rows
  const std::vector<int64_t>& row_shape() const { return row_shape_; }  // [dim] or [tokens, dim]
  int64_t row_size() const;
  // Shape of n rows: {n, row_shape...}.
  std::vector<int64_t> shape(int64_t n) const;
  const std::vector<models::FailedImage>& failed() const { return failed_; }  // by list index
  const std::vector<std::string>& paths() const { return paths_; }  // names, by list index
  const std::vector<std::string>& files() const { return files_; }  // in list order

  // Stream row -> list index (rows of failed images skipped), and back (for a readable row).
  int64_t list_index(int64_t row) const;
  int64_t row_of_list_index(int64_t list_index) const;
  // Name of stream row `row`.
  const std::string& path(int64_t row) const { return paths_[list_index(row) - list_begin_]; }

  // Rows `rows` (stream rows, any order) as a [rows.size(), ...] array. Throws Error naming the
  // file of a row that holds NaN or Inf.
  FloatArray read_rows(const std::vector<int64_t>& rows) const;

  // Visits all rows in order, block by block: fn(first row, block). A block holds the readable
  // rows of list rows [j block_rows, (j + 1) block_rows) within one file. The block may be
  // modified (normalised) by fn; it is reused for the next block but one: while fn works on a
  // block, a second thread reads the next one, so two blocks are held at once. `prepare`, when
  // given, runs on that reading thread on each block just read, in block order, so that per-block
  // work which needs no other thread (normalising, the duplicate sketch) overlaps fn instead of
  // leaving cores idle between blocks; its exceptions reach the caller before fn sees the block.
  void for_each_block(int64_t block_rows, const std::function<void(int64_t, FloatArray&)>& fn,
                      const std::function<void(FloatArray&)>& prepare = nullptr) const;

  // Progress of for_each_block's passes of two blocks or more on stderr (core/progress.h),
  // labelled "LABEL, pass N": off a terminal a line per group of blocks (a tenth of the pass)
  // with rows/s and the time left, then a summary line; on a terminal one line redrawn. Off (the
  // default): nothing. A pass of one block prints nothing, so an error found after it is still
  // the only line.
  void show_progress(ProgressMode mode, std::string label) {
    progress_ = mode;
    progress_label_ = std::move(label);
  }

  // What the reading held: blocks read, and the largest number of descriptor rows and buffer
  // bytes held at once (the high-water mark that bounds memory).
  struct Stats {
    int64_t blocks = 0, peak_rows = 0, peak_bytes = 0;
    // Seconds for_each_block's caller waited for the reading thread (reading and `prepare`).
    double read_wait_seconds = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct File {
    std::string path;
    NpyHeader header;
    int64_t begin = 0, rows = 0;  // list rows [begin, begin + rows)
  };
  // Reads list rows [begin, end) that are not failed into out (row-major, consecutive).
  void read_list_range(int64_t begin, int64_t end, float* out, std::vector<char>& raw) const;
  const File& file_of(int64_t list_row) const;

  bool sidecar_ = false;
  std::string model_, source_, list_sha256_;
  nlohmann::json provenance_ = nlohmann::json::object();
  int64_t shards_ = 0, listed_ = 0, list_begin_ = 0;
  std::vector<int64_t> row_shape_;
  std::vector<File> files_meta_;
  std::vector<std::string> files_;
  std::vector<models::FailedImage> failed_;
  std::vector<int64_t> failed_index_;  // sorted list indices of failed_
  std::vector<std::string> paths_;
  mutable Stats stats_;
  ProgressMode progress_ = ProgressMode::kOff;
  std::string progress_label_;
  mutable int passes_ = 0;
};

}  // namespace repbench::scan
