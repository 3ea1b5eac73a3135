#include "scan/duplicate_sketch.h"

#include <cblas.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include <Eigen/Eigenvalues>

#include "core/descriptors.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/parallel.h"
#include "metrics/parallel.h"
#include "scan/duplicates.h"
#include "scan/index.h"

namespace fs = std::filesystem;

namespace repbench::scan {

namespace {

// Rows of the first block the directions are taken from.
constexpr int64_t kFitRows = 8192;
// Added under the residual's square root: covers the rounding of |x|^2 - |y|^2 (both near 1,
// float sums over a few hundred values), so the stored norm is never below the true one.
constexpr float kResidualSlack = 1e-5f;
// Subtracted from the threshold before pruning: the float16 sketch's rounding moves y_t . y_x by
// at most 2^-11 |y_t| |y_x| <= 4.9e-4, the float products and the basis's departure from
// orthonormality (float32 of double eigenvectors) by ~1e-6.
constexpr float kMargin = 1e-3f;
// Sketch rows decoded and searched at a time, and the query block of one thread.
constexpr int64_t kTileRows = 8192, kQueryBlock = 64;

}  // namespace

DuplicateSketch::DuplicateSketch(int64_t row_size, int64_t dims, const std::string& scratch_dir)
    : row_size_(row_size), dims_(dims), scratch_dir_(scratch_dir) {
  REPBENCH_ASSERT(dims >= 1 && dims <= row_size);
  if (scratch_dir_.empty()) scratch_dir_ = fs::temp_directory_path().string();
  std::error_code ec;
  fs::create_directories(scratch_dir_, ec);
  std::string name = (fs::path(scratch_dir_) / ".repbench-sketch-XXXXXX").string();
  fd_ = ::mkstemp(name.data());
  if (fd_ < 0)
    fail("{}: cannot create the duplicate sketch's scratch file: {}", scratch_dir_,
         std::strerror(errno));
  ::unlink(name.c_str());  // nameless from now on: nothing is left behind, even after a crash
}

DuplicateSketch::~DuplicateSketch() {
  if (fd_ >= 0) ::close(fd_);
}

void DuplicateSketch::fit(const FloatArray& block) {
  // The m leading eigenvectors of the second-moment matrix X^T X of up to kFitRows rows, by
  // Eigen's symmetric eigensolver in double (deterministic; any orthonormal basis keeps the bound
  // valid, a good one only prunes more).
  const int64_t n = std::min(block.rows(), kFitRows), d = row_size_, m = dims_;
  std::vector<float> cf(size_t(d * d));
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, int(d), int(n), 1.0f, block.data.data(),
              int(d), 0.0f, cf.data(), int(d));
  Eigen::MatrixXd c(d, d);
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = i; j < d; ++j) c(i, j) = c(j, i) = cf[i * d + j];
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(c);
  if (eig.info() != Eigen::Success)
    fail("duplicate sketch: the eigen-decomposition of the {} x {} second-moment matrix failed",
         d, d);
  // Eigenvalues ascend: the last m columns, largest first, become the basis's rows.
  basis_.resize(size_t(m * d));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t t = 0; t < d; ++t)
      basis_[size_t(i * d + t)] = float(eig.eigenvectors()(t, d - 1 - i));
}

void DuplicateSketch::project(const float* rows, int64_t n, float* y, float* r) const {
  const int64_t d = row_size_, m = dims_;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(n), int(m), int(d), 1.0f, rows, int(d),
              basis_.data(), int(d), 0.0f, y, int(m));
  for (int64_t i = 0; i < n; ++i) {
    double xx = 0, yy = 0;
    for (int64_t t = 0; t < d; ++t) xx += double(rows[i * d + t]) * rows[i * d + t];
    for (int64_t t = 0; t < m; ++t) yy += double(y[i * m + t]) * y[i * m + t];
    r[i] = std::sqrt(float(std::max(0.0, xx - yy)) + kResidualSlack);
  }
}

void DuplicateSketch::add(const FloatArray& block) {
  REPBENCH_ASSERT(block.row_size() == row_size_);
  if (block.rows() == 0) return;
  if (basis_.empty()) fit(block);
  const int64_t m = dims_, rec = bytes_per_row();
  std::vector<float> y(size_t(kTileRows * m)), r(static_cast<size_t>(kTileRows));
  std::vector<char> out;
  for (int64_t b0 = 0; b0 < block.rows(); b0 += kTileRows) {
    const int64_t n = std::min(kTileRows, block.rows() - b0);
    project(block.row(b0), n, y.data(), r.data());
    out.resize(size_t(n * rec));
    for (int64_t i = 0; i < n; ++i) {
      char* o = out.data() + i * rec;
      for (int64_t t = 0; t < m; ++t) {
        const uint16_t h = float_to_half(y[i * m + t]);
        std::memcpy(o + 2 * t, &h, 2);
      }
      std::memcpy(o + 2 * m, &r[i], 4);
    }
    write_exact(fd_, out.data(), out.size(), scratch_dir_ + " (duplicate sketch)");
  }
  rows_ += block.rows();
}

std::optional<DuplicateSketch::Counted> DuplicateSketch::count(
    const DescriptorStream& train, const FloatArray& queries, const std::vector<int64_t>& self,
    double threshold, int64_t max_rows, int64_t chunk_rows, int threads) const {
  REPBENCH_ASSERT(rows_ == train.rows() && queries.rows() == int64_t(self.size()));
  const int64_t nq = queries.rows(), m = dims_, rec = bytes_per_row();
  Counted out;
  out.counts.assign(size_t(nq), 0);
  if (nq == 0 || rows_ == 0) return out;
  std::vector<float> yq(size_t(nq * m)), rq(static_cast<size_t>(nq));
  project(queries.data.data(), nq, yq.data(), rq.data());
  const float t = static_cast<float>(threshold), cut = t - kMargin;

  // Pass over the sketch file: every (query, row) pair whose bound reaches the cut.
  const int team = resolve_threads(threads);
  const int64_t qblocks = (nq + kQueryBlock - 1) / kQueryBlock;
  metrics::BlasThreadsScope blas(1);
  std::vector<std::vector<std::pair<int32_t, int64_t>>> found(static_cast<size_t>(team));
  std::vector<std::vector<float>> bufs(size_t(team), std::vector<float>(kQueryBlock * kTileRows));
  std::vector<char> raw(size_t(kTileRows * rec));
  std::vector<float> ys(size_t(kTileRows * m)), rs(static_cast<size_t>(kTileRows));
  int64_t kept = 0;
  for (int64_t r0 = 0; r0 < rows_; r0 += kTileRows) {
    const int64_t n = std::min(kTileRows, rows_ - r0);
    pread_exact(fd_, raw.data(), size_t(n * rec), r0 * rec, scratch_dir_ + " (duplicate sketch)");
    for (int64_t i = 0; i < n; ++i) {
      half_to_float(raw.data() + i * rec, ys.data() + i * m, m);
      std::memcpy(&rs[size_t(i)], raw.data() + i * rec + 2 * m, 4);
    }
    metrics::parallel_for(qblocks, team, [&](int64_t b, int thread) {
      const int64_t q0 = b * kQueryBlock, qn = std::min(kQueryBlock, nq - q0);
      float* buf = bufs[size_t(thread)].data();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(qn), int(n), int(m), 1.0f,
                  yq.data() + q0 * m, int(m), ys.data(), int(m), 0.0f, buf, int(n));
      for (int64_t i = 0; i < qn; ++i) {
        const float* s = buf + i * n;
        const float ri = rq[size_t(q0 + i)];
        // Branch-free first: nearly every row of nearly every tile is pruned.
        int32_t any = 0;
        for (int64_t j = 0; j < n; ++j) any |= s[j] + ri * rs[size_t(j)] >= cut;
        if (!any) continue;
        for (int64_t j = 0; j < n; ++j)
          if (s[j] + ri * rs[size_t(j)] >= cut)
            found[size_t(thread)].push_back({int32_t(q0 + i), r0 + j});
      }
    });
    kept = 0;
    for (const auto& f : found) kept += int64_t(f.size());
    // Each query keeps at least itself; far more pairs than rows allowed means the bound is not
    // pruning: the full pass is cheaper than reading the survivors one by one.
    if (kept > nq + 4 * max_rows) return std::nullopt;
  }
  // The survivors, by training row, decided as add_duplicate_counts decides a score near its
  // threshold; their rows are read chunk_rows at a time, so memory stays one block.
  std::vector<std::pair<int64_t, int32_t>> pairs;  // (row, query)
  pairs.reserve(size_t(kept));
  for (const auto& f : found)
    for (const auto& [qi, row] : f) pairs.push_back({row, qi});
  found.clear();
  std::sort(pairs.begin(), pairs.end());
  int64_t distinct = 0;
  for (size_t i = 0; i < pairs.size(); ++i) distinct += i == 0 || pairs[i].first != pairs[i - 1].first;
  if (distinct > max_rows) return std::nullopt;
  out.candidates = kept;
  out.rows_read = distinct;
  for (size_t p0 = 0; p0 < pairs.size();) {
    std::vector<int64_t> rows;
    size_t p1 = p0;
    for (; p1 < pairs.size(); ++p1) {
      if (rows.empty() || rows.back() != pairs[p1].first) {
        if (int64_t(rows.size()) == chunk_rows) break;
        rows.push_back(pairs[p1].first);
      }
    }
    FloatArray x = train.read_rows(rows);
    l2_normalize_rows(x);
    for (size_t i = p0, at = 0; i < p1; ++i) {
      while (rows[at] != pairs[i].first) ++at;
      const int32_t qi = pairs[i].second;
      if (pairs[i].first == self[size_t(qi)]) continue;  // an image is not its own duplicate
      out.counts[size_t(qi)] += reference_score(queries.row(qi), x.row(int64_t(at)), 1, row_size_) > t;
    }
    p0 = p1;
  }
  return out;
}

}  // namespace repbench::scan
