// Exact duplicate counts without a second pass over the training descriptor files.
//
// The streamed scan learns which training images need a duplicate count (the top-1 matches) only
// after its pass over the files. Instead of reading the files again, the first pass also writes a
// sketch of every training row to a scratch file: its coordinates in the m leading directions of
// the rows' second-moment matrix (principal axes, not centred; taken from the first block) as
// float16, and the norm of what those m coordinates leave out. For unit vectors t and x with
// sketches y_t, y_x and residual norms r_t, r_x, Cauchy-Schwarz on the residuals bounds the score:
//
//     t . x  <=  y_t . y_x + r_t r_x
//
// so a training row whose bound is below the duplicate threshold (less a margin that covers the
// float16 rounding of the sketch, 2^-11 of |y_t| |y_x|, and float arithmetic) cannot be a
// duplicate. The count pass reads the sketch file (2m + 4 bytes a row instead of the row's 2 or 4
// bytes a value), and the rows that survive are read from the files and decided by the reference
// score, the same rule as add_duplicate_counts() (scan/duplicates.h): the counts are identical to
// the full pass's, whatever the data; only how much the bound prunes depends on them. When too many
// rows survive (data whose leading directions hold little of their energy, a low threshold),
// count() says so and the caller makes the full pass.
//
// Inner-product descriptors only (the split product's max over tokens has no such bound here).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/npy.h"
#include "scan/descriptor_stream.h"

namespace repbench::scan {

class DuplicateSketch {
 public:
  // A sketch of `dims` directions of rows of `row_size` values, written to an unnamed file in
  // `scratch_dir` (removed when the sketch is destroyed, or by the system if the process dies).
  DuplicateSketch(int64_t row_size, int64_t dims, const std::string& scratch_dir);
  ~DuplicateSketch();
  DuplicateSketch(const DuplicateSketch&) = delete;
  DuplicateSketch& operator=(const DuplicateSketch&) = delete;

  // Pass 1: appends the sketches of the next block of L2-normalised training rows (stream order).
  // The directions are taken from the first block.
  void add(const FloatArray& block);
  int64_t rows() const { return rows_; }

  struct Counted {
    std::vector<int64_t> counts;  // one per `self` entry
    int64_t candidates = 0;       // (query, row) pairs the bound kept
    int64_t rows_read = 0;        // distinct training rows read to decide them
  };
  // Exact counts of training rows other than self[i] whose score with queries' row i (the
  // L2-normalised rows of `self`) is above `threshold`, or nothing when more than `max_rows`
  // distinct training rows survive the bound (reading them one by one would cost more than a
  // pass). The survivors are read `chunk_rows` at a time.
  std::optional<Counted> count(const DescriptorStream& train, const FloatArray& queries,
                               const std::vector<int64_t>& self, double threshold,
                               int64_t max_rows, int64_t chunk_rows, int threads) const;

  // Bytes the sketch file takes a training row.
  int64_t bytes_per_row() const { return 2 * dims_ + 4; }

 private:
  void fit(const FloatArray& block);
  // Sketch coordinates of n rows into y (n x dims_) and residual norms into r.
  void project(const float* rows, int64_t n, float* y, float* r) const;

  int64_t row_size_, dims_;
  int fd_ = -1;
  std::string scratch_dir_;
  std::vector<float> basis_;  // dims_ x row_size_, orthonormal rows
  int64_t rows_ = 0;
};

}  // namespace repbench::scan
