#include "scan/descriptor_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/elapsed.h"
#include "core/error.h"
#include "core/file_io.h"
#include "descriptors/shards.h"
#include "models/feature_cache.h"

namespace fs = std::filesystem;

namespace repbench::scan {

using descriptors::check_tiling;
using descriptors::read_shard_info;
using descriptors::shard_info_path;
using descriptors::ShardedDescriptors;

namespace {

// Row names of plain files: one a line (trailing '\r' dropped), exactly one per row.
std::vector<std::string> read_names(const std::string& path, int64_t rows) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open the list of row names", path);
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    names.push_back(line);
  }
  if (int64_t(names.size()) != rows)
    fail("{}: {} names, but the descriptors have {} rows", path, names.size(), rows);
  return names;
}

class Fd {
 public:
  explicit Fd(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) fail("{}: cannot open: {}", path, std::strerror(errno));
  }
  ~Fd() { ::close(fd_); }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

DescriptorStream DescriptorStream::open(const std::vector<std::string>& npy_paths,
                                        const std::string& names_list, bool whole_list) {
  if (npy_paths.empty()) fail("no descriptor files given");
  DescriptorStream s;
  std::error_code ec;
  size_t with_sidecar = 0;
  for (const auto& p : npy_paths) with_sidecar += fs::exists(shard_info_path(p), ec);
  if (with_sidecar != 0 && with_sidecar != npy_paths.size()) {
    for (const auto& p : npy_paths)
      if (!fs::exists(shard_info_path(p), ec))
        fail("{}: no shard file {} beside it, but other descriptor files given have one (give "
             "either repbench shard files or plain .npy files)",
             p, shard_info_path(p));
  }
  s.sidecar_ = with_sidecar != 0;
  if (s.sidecar_) {
    if (!names_list.empty())
      fail("{}: row names come from the shard files; a names list is for plain .npy files",
           names_list);
    std::vector<ShardedDescriptors> parts;
    for (const auto& p : npy_paths) parts.push_back(read_shard_info(p));
    std::vector<size_t> order{0};
    if (whole_list) {
      order = check_tiling(parts, npy_paths);
    } else if (parts.size() != 1) {
      fail("{}: a partial scan reads one training shard file, not {}", npy_paths[1],
           parts.size());
    }
    const ShardedDescriptors& first = parts[order[0]];
    s.model_ = first.model;
    s.source_ = first.source;
    s.list_sha256_ = first.list_sha256;
    s.provenance_["decoding"] = first.decoding;
    for (size_t i : order) {
      ShardedDescriptors& d = parts[i];
      s.files_meta_.push_back({npy_paths[i], read_npy_header(npy_paths[i]), d.begin, d.end - d.begin});
      s.paths_.insert(s.paths_.end(), std::make_move_iterator(d.paths.begin()),
                      std::make_move_iterator(d.paths.end()));
      s.failed_.insert(s.failed_.end(), d.failed.begin(), d.failed.end());
      s.shards_ += d.shards_merged;
    }
    s.listed_ = whole_list ? first.total : first.end - first.begin;
    s.list_begin_ = whole_list ? 0 : first.begin;
  } else {
    if (!whole_list) fail("{}: a partial scan needs a repbench shard file (with its .shard.json)",
                          npy_paths[0]);
    s.source_ = npy_paths[0];
    for (const auto& p : npy_paths) {
      File f{p, read_npy_header(p), s.listed_, 0};
      f.rows = f.header.shape.empty() ? 0 : f.header.shape[0];
      s.listed_ += f.rows;
      s.files_meta_.push_back(std::move(f));
    }
    s.shards_ = int64_t(npy_paths.size());
    if (names_list.empty()) {
      for (int64_t i = 0; i < s.listed_; ++i) s.paths_.push_back(std::to_string(i));
    } else {
      s.paths_ = read_names(names_list, s.listed_);
    }
  }
  for (const File& f : s.files_meta_) {
    const auto& shape = f.header.shape;
    if (shape.size() < 2 || shape.size() > 3)
      fail("{}: descriptors of shape [{}]; expected [n, dim] or [n, tokens, dim]", f.path,
           fmt::join(shape, ", "));
    if (f.header.dtype != NpyDType::kFloat32 && f.header.dtype != NpyDType::kFloat16)
      fail("{}: dtype '{}'; descriptors are float32 or float16", f.path, npy_descr(f.header.dtype));
    const std::vector<int64_t> row(shape.begin() + 1, shape.end());
    if (s.row_shape_.empty()) s.row_shape_ = row;
    if (row != s.row_shape_)
      fail("{}: rows of shape [{}], but {} has [{}]", f.path, fmt::join(row, ", "),
           s.files_meta_[0].path, fmt::join(s.row_shape_, ", "));
    s.files_.push_back(f.path);
  }
  // The feature cache's sidecar beside the first file, when there is one, names the model file
  // and the preprocessing; an unreadable or foreign one is simply not used.
  try {
    const nlohmann::json side =
        nlohmann::json::parse(read_file(models::sidecar_path(s.files_meta_[0].path)));
    if (side.at("format") == "repbench-features") {
      const nlohmann::json& key = side.at("key");
      if (s.model_.empty()) s.model_ = key.at("spec").get<std::string>();
      s.provenance_["model_sha256"] = key.at("model_sha256");
      s.provenance_["preprocess"] = key.at("preprocess");
      // A cache entry without the field predates it, when reduced decoding was the only mode.
      if (!s.provenance_.contains("decoding"))
        s.provenance_["decoding"] = key.value("decoding", std::string("reduced-jpeg"));
    }
  } catch (const std::exception&) {
  }
  if (!s.model_.empty()) s.provenance_["model"] = s.model_;
  if (s.row_size() < 1) fail("{}: descriptors with no values", s.files_meta_[0].path);
  if (whole_list && s.listed_ == 0)
    fail("{}: no rows (the descriptors of no image); there is nothing to scan",
         s.files_meta_[0].path);
  std::sort(s.failed_.begin(), s.failed_.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  for (const auto& f : s.failed_) s.failed_index_.push_back(f.index);
  return s;
}

int64_t DescriptorStream::row_size() const {
  int64_t n = 1;
  for (int64_t d : row_shape_) n *= d;
  return n;
}

std::vector<int64_t> DescriptorStream::shape(int64_t n) const {
  std::vector<int64_t> s{n};
  s.insert(s.end(), row_shape_.begin(), row_shape_.end());
  return s;
}

int64_t DescriptorStream::list_index(int64_t row) const {
  REPBENCH_ASSERT(row >= 0 && row < rows());
  int64_t l = list_begin_ + row;
  for (int64_t f : failed_index_) {
    if (f > l) break;
    ++l;
  }
  return l;
}

int64_t DescriptorStream::row_of_list_index(int64_t l) const {
  const int64_t before =
      std::lower_bound(failed_index_.begin(), failed_index_.end(), l) - failed_index_.begin();
  return l - list_begin_ - before;
}

const DescriptorStream::File& DescriptorStream::file_of(int64_t list_row) const {
  auto it = std::upper_bound(files_meta_.begin(), files_meta_.end(), list_row,
                             [](int64_t r, const File& f) { return r < f.begin; });
  REPBENCH_ASSERT(it != files_meta_.begin());
  return *(it - 1);
}

void DescriptorStream::read_list_range(int64_t begin, int64_t end, float* out,
                                       std::vector<char>& raw) const {
  // Raw bytes are read a few MiB at a time and widened as they come: the raw buffer stays small
  // whatever the block size.
  constexpr int64_t kRawChunkBytes = 8 << 20;
  const int64_t row = row_size();
  auto failed = std::lower_bound(failed_index_.begin(), failed_index_.end(), begin);
  for (int64_t l = begin; l < end;) {
    const File& f = file_of(l);
    const int64_t esize = f.header.dtype == NpyDType::kFloat16 ? 2 : 4;
    const int64_t stop =
        std::min({end, f.begin + f.rows, l + std::max<int64_t>(1, kRawChunkBytes / (row * esize))});
    const size_t bytes = size_t((stop - l) * row * esize);
    if (raw.size() < bytes) raw.resize(bytes);
    {
      Fd fd(f.path);
      pread_exact(fd.get(), raw.data(), bytes, f.header.data_offset + (l - f.begin) * row * esize,
                  f.path);
    }
    for (int64_t r = l; r < stop; ++r) {
      if (failed != failed_index_.end() && *failed == r) {
        ++failed;
        continue;
      }
      const char* src = raw.data() + (r - l) * row * esize;
      if (esize == 4)
        std::memcpy(out, src, size_t(row) * 4);
      else
        half_to_float(src, out, row);
      if (first_nonfinite_row(out, 1, row) >= 0)
        fail("{}: row {} holds NaN or Inf", f.path, r - f.begin);
      out += row;
    }
    l = stop;
  }
}

FloatArray DescriptorStream::read_rows(const std::vector<int64_t>& rows) const {
  FloatArray a;
  a.shape = shape(int64_t(rows.size()));
  a.data.resize(rows.size() * size_t(row_size()));
  std::vector<char> raw;
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t l = list_index(rows[i]);
    read_list_range(l, l + 1, a.data.data() + i * size_t(row_size()), raw);
  }
  stats_.peak_bytes = std::max<int64_t>(stats_.peak_bytes, int64_t(raw.capacity()));
  return a;
}

namespace {

// The progress of one pass (DescriptorStream::show_progress): on a terminal core/progress.h's
// live line; off one (a log) a line each time another `every` rows are done, with the rate and
// the time left, and a summary line at the end.
class PassProgress {
 public:
  PassProgress(std::string label, int64_t total, ProgressMode mode, int64_t every)
      : label_(std::move(label)), total_(total), every_(every) {
    if (mode == ProgressMode::kAuto && isatty(STDERR_FILENO))
      live_.emplace(label_, total_, ProgressMode::kAuto);
  }
  void advance(int64_t rows) {
    if (live_) return live_->advance(rows);
    done_ += rows;
    if (done_ < total_ && done_ / every_ > done_before_ / every_) {
      const double rate = done_ / seconds();
      fmt::print(stderr, "{}: {}/{} ({:.1f}/s, {} left)\n", label_, done_, total_, rate,
                 format_duration((total_ - done_) / rate));
    }
    done_before_ = done_;
  }
  void finish() {
    if (live_) return live_->finish();
    fmt::print(stderr, "{}: {} items in {} ({:.1f}/s)\n", label_, done_,
               format_duration(seconds()), done_ / seconds());
  }

 private:
  double seconds() const {
    return std::max(1e-9, seconds_since(start_));
  }
  std::string label_;
  int64_t total_, every_, done_ = 0, done_before_ = 0;
  std::optional<Progress> live_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

void DescriptorStream::for_each_block(int64_t block_rows,
                                      const std::function<void(int64_t, FloatArray&)>& fn,
                                      const std::function<void(FloatArray&)>& prepare) const {
  REPBENCH_ASSERT(block_rows >= 1);
  // Blocks cover list rows [j B, (j + 1) B) of the whole list, cut at file boundaries, so that a
  // shard read alone is cut exactly where the list of all shards is.
  struct Span {
    int64_t l0, l1, rows;
  };
  std::vector<Span> spans;
  const int64_t row = row_size(), list_end = list_begin_ + listed_;
  for (int64_t l0 = list_begin_; l0 < list_end;) {
    const File& f = file_of(l0);
    const int64_t l1 = std::min({list_end, f.begin + f.rows, (l0 / block_rows + 1) * block_rows});
    const int64_t failed =
        std::lower_bound(failed_index_.begin(), failed_index_.end(), l1) -
        std::lower_bound(failed_index_.begin(), failed_index_.end(), l0);
    if (l1 - l0 - failed > 0) spans.push_back({l0, l1, l1 - l0 - failed});
    l0 = l1;
  }
  // The next block is read (and float16 widened) by a second thread while fn works on the
  // current one: at LAION scale reading the files takes a fifth of the product's time, and
  // in turn it costs nothing. Two blocks are held at once.
  FloatArray block[2];
  std::vector<char> raw[2];
  auto read = [&](size_t i) {
    FloatArray& b = block[i % 2];
    b.shape = shape(spans[i].rows);
    b.data.resize(size_t(spans[i].rows * row));
    read_list_range(spans[i].l0, spans[i].l1, b.data.data(), raw[i % 2]);
    if (prepare) prepare(b);
  };
  std::optional<PassProgress> progress;
  ++passes_;
  if (spans.size() >= 2 && progress_ != ProgressMode::kOff)
    progress.emplace(fmt::format("{}, pass {}", progress_label_, passes_), rows(), progress_,
                     int64_t((spans.size() + 9) / 10) * block_rows);
  std::future<void> next;
  if (!spans.empty()) next = std::async(std::launch::async, read, size_t(0));
  int64_t first = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    const auto w0 = std::chrono::steady_clock::now();
    next.get();  // rethrows the reader's error (a short file, NaN) before this block is used
    stats_.read_wait_seconds +=
        seconds_since(w0);
    ++stats_.blocks;
    stats_.peak_rows = std::max(stats_.peak_rows, spans[i].rows);
    // Counted while no read is running: every buffer the reads grew is counted by the next get().
    int64_t held = 0;
    for (int b = 0; b < 2; ++b)
      held += int64_t(block[b].data.capacity() * sizeof(float) + raw[b].capacity());
    stats_.peak_bytes = std::max(stats_.peak_bytes, held);
    if (i + 1 < spans.size()) next = std::async(std::launch::async, read, i + 1);
    fn(first, block[i % 2]);
    first += spans[i].rows;
    if (progress) progress->advance(spans[i].rows);
  }
  if (progress) progress->finish();
}

}  // namespace repbench::scan
