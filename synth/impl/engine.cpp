#include "synth/impl/engine.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <opencv2/core/utility.hpp>

#include "core/elapsed.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/sha256.h"
#include "datasets/gnd_json.h"
#include "core/rng.h"
#include "imaging/codecs_plugin.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace repbench::synth::impl {

namespace {

// Squares kept in memory by ImagePool::probe (at 256 px, about 5,400 images).
constexpr size_t kSquareCacheBytes = size_t{1} << 30;
// Writer threads: each file is fsynced (core/atomic_file.h), which waits on the disk rather than
// on a core, so more writers than cores keep the disk busy.
constexpr int kWriterThreads = 8;

int64_t mtime_ns(const fs::path& p, std::error_code& ec) {
  return static_cast<int64_t>(fs::last_write_time(p, ec).time_since_epoch().count());
}

// Reads a json file; null when it is missing or not valid (a resume record is then ignored).
json read_json_or_null(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return nullptr;
  try {
    return json::parse(read_file(path));
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace

OpenCvSingleThread::OpenCvSingleThread() : saved_(cv::getNumThreads()) {
  cv::setNumThreads(1);
}
OpenCvSingleThread::~OpenCvSingleThread() {
  cv::setNumThreads(saved_);
}

json InputInfo::ref() const {
  return {{"input", path}, {"sha256", sha256}};
}

ImagePool::ImagePool(std::vector<std::string> paths, int size) : size_(size) {
  infos_.resize(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) infos_[i].path = std::move(paths[i]);
  squares_.resize(infos_.size());
}

void ImagePool::probe(const std::string& cache_file, int threads, ProgressMode mode,
                      const std::string& label) {
  const json cache = read_json_or_null(cache_file);
  const json* cached = cache.is_object() && cache.contains("inputs") && cache["inputs"].is_object()
                           ? &cache["inputs"]
                           : nullptr;
  std::vector<json> entries(infos_.size());
  std::vector<char> need(infos_.size(), 1);
  for (size_t i = 0; i < infos_.size(); ++i) {
    InputInfo& in = infos_[i];
    std::error_code ec;
    const uint64_t bytes = fs::file_size(in.path, ec);
    if (ec) {
      in.ok = false;
      in.reason = "file is missing or unreadable";
      need[i] = 0;
      continue;
    }
    const int64_t mtime = mtime_ns(in.path, ec);
    entries[i] = {{"bytes", bytes}, {"mtime_ns", mtime}};
    if (!cached) continue;
    auto it = cached->find(in.path);
    if (it == cached->end() || !it->is_object() || it->value("bytes", uint64_t{0}) != bytes ||
        it->value("mtime_ns", int64_t{0}) != mtime)
      continue;
    try {
      in.ok = it->at("ok").get<bool>();
      in.reason = it->at("reason").get<std::string>();
      in.sha256 = it->at("sha256").get<std::string>();
      in.width = it->at("width").get<int>();
      in.height = it->at("height").get<int>();
      need[i] = 0;
    } catch (const std::exception&) {
      // A malformed entry: probe the file again.
    }
  }
  const int64_t todo = std::count(need.begin(), need.end(), 1);
  std::atomic<size_t> kept_bytes{0};
  const size_t square_bytes = static_cast<size_t>(size_) * size_ * 3;
  {
    Progress progress(label, todo, todo > 0 ? mode : ProgressMode::kOff);
    std::mutex mu;
    std::vector<size_t> work;
    for (size_t i = 0; i < infos_.size(); ++i)
      if (need[i]) work.push_back(i);
    // A missing codecs plugin stops here rather than skipping every input as undecodable.
    if (!work.empty()) imaging::require_codecs();
    parallel_for(static_cast<int64_t>(work.size()), threads, [&](int64_t k, int) {
      InputInfo& in = infos_[work[k]];
      in.ok = false;
      try {
        const std::string data = read_file(in.path);
        in.sha256 = sha256_hex(data);
        const cv::Mat bgr = decode_bgr(data, in.path);
        in.width = bgr.cols;
        in.height = bgr.rows;
        in.ok = true;
        if (kept_bytes.fetch_add(square_bytes) + square_bytes <= kSquareCacheBytes)
          squares_[work[k]] = prepare_square(bgr, size_);
      } catch (const Error& e) {
        const std::string what = e.what();
        // The message starts with the path, which the summary names separately.
        const std::string prefix = in.path + ": ";
        in.reason = what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what;
      }
      std::lock_guard<std::mutex> lock(mu);
      progress.advance(1);
    });
    progress.finish();
  }
  json out = {{"schema", "repbench.synth-probe/1"}, {"inputs", json::object()}};
  for (size_t i = 0; i < infos_.size(); ++i) {
    if (entries[i].is_null()) continue;  // missing file: nothing to remember
    json e = entries[i];
    const InputInfo& in = infos_[i];
    e["ok"] = in.ok;
    e["reason"] = in.reason;
    e["sha256"] = in.sha256;
    e["width"] = in.width;
    e["height"] = in.height;
    out["inputs"][in.path] = std::move(e);
  }
  write_file_atomic(cache_file, out.dump());
}

std::vector<size_t> ImagePool::usable() const {
  std::vector<size_t> out;
  for (size_t i = 0; i < infos_.size(); ++i)
    if (infos_[i].ok) out.push_back(i);
  return out;
}

cv::Mat ImagePool::square(size_t i) const {
  if (!squares_[i].empty()) return squares_[i];
  const InputInfo& in = infos_[i];
  return prepare_square(decode_bgr(read_file(in.path), in.path), size_);
}

std::string source_path(size_t group, ImageFormat f) {
  return fmt::format("sources/{:06d}{}", group, image_format_extension(f));
}
std::string copy_path(size_t group, int copy, ImageFormat f) {
  return fmt::format("copies/{:06d}_{:02d}{}", group, copy, image_format_extension(f));
}
std::string distractor_path(size_t index, ImageFormat f) {
  return fmt::format("distractors/{:06d}{}", index, image_format_extension(f));
}

void add_distractor_units(const ImagePool& pool, const std::vector<size_t>& distractors,
                          const nlohmann::json& pixel_options, ImageFormat format,
                          std::vector<UnitSpec>& units) {
  for (size_t d = 0; d < distractors.size(); ++d) {
    UnitSpec u{fmt::format("d{:06d}", d), pixel_options, {distractor_path(d, format)}};
    u.key["input"] = pool.info(distractors[d]).ref();
    units.push_back(std::move(u));
  }
}

UnitProduct distractor_product(const ImagePool& pool, size_t input, size_t d, ImageFormat format) {
  UnitProduct out;
  out.images.push_back(pool.square(input));
  out.record = {{"image", distractor_path(d, format)}, {"distractor", pool.info(input).ref()}};
  return out;
}

Selection select_inputs(const std::vector<size_t>& order_pool,
                        const std::function<bool(size_t)>& eligible, const SetOptions& opt,
                        const std::string& what) {
  const std::vector<int64_t> perm = Rng::for_item(opt.seed, kStreamSelect, 0)
                                        .permutation(static_cast<int64_t>(order_pool.size()));
  Selection sel;
  std::vector<char> is_source(order_pool.size(), 0);
  int64_t eligible_total = 0;
  for (int64_t p : perm) {
    if (!eligible(order_pool[p])) continue;
    ++eligible_total;
    if (opt.count == 0 || static_cast<int64_t>(sel.sources.size()) < opt.count) {
      sel.sources.push_back(order_pool[p]);
      is_source[p] = 1;
    }
  }
  if (sel.sources.empty())
    fail("{}: no eligible source image among {} usable inputs", what, order_pool.size());
  if (opt.count > 0 && eligible_total < opt.count)
    fail("{}: --count {} but only {} usable source images", what, opt.count, eligible_total);
  for (int64_t p : perm) {
    if (static_cast<int64_t>(sel.distractors.size()) >= opt.distractors) break;
    if (!is_source[p]) sel.distractors.push_back(order_pool[p]);
  }
  if (static_cast<int64_t>(sel.distractors.size()) < opt.distractors)
    fail("{}: --distractors {} but only {} usable images are not sources", what, opt.distractors,
         sel.distractors.size());
  return sel;
}

namespace {

struct WriteJob {
  size_t unit = 0;
  std::vector<std::pair<std::string, std::string>> files;  // absolute path, bytes
  std::string sidecar_path;
  std::string sidecar;
};

// A bounded queue of write jobs drained by writer threads.
class Writers {
 public:
  Writers(int threads, size_t capacity, std::function<void(int64_t)> on_files)
      : capacity_(capacity), on_files_(std::move(on_files)) {
    for (int t = 0; t < threads; ++t) threads_.emplace_back([this] { loop(); });
  }
  ~Writers() { close(); }

  void push(WriteJob job) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return queue_.size() < capacity_; });
    queue_.push_back(std::move(job));
    not_empty_.notify_one();
  }

  // Waits for every job, then rethrows the error of the lowest failing unit, if any.
  void close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      closed_ = true;
    }
    not_empty_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }
  bool failed() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_ != nullptr;
  }

 private:
  void loop() {
    for (;;) {
      WriteJob job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        not_empty_.wait(lock, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        not_full_.notify_one();
      }
      try {
        for (const auto& [path, bytes] : job.files) write_file_atomic(path, bytes);
        // The sidecar last: it vouches for files that are all in place.
        write_file_atomic(job.sidecar_path, job.sidecar);
        on_files_(static_cast<int64_t>(job.files.size()));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        if (job.unit < failed_unit_) failed_unit_ = job.unit, error_ = std::current_exception();
      }
    }
  }

  size_t capacity_;
  std::function<void(int64_t)> on_files_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<WriteJob> queue_;
  bool closed_ = false;
  size_t failed_unit_ = SIZE_MAX;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
};

}  // namespace

UnitsResult run_units(const std::string& out_dir, const std::vector<UnitSpec>& units,
                      const std::function<UnitProduct(size_t)>& produce, const SetOptions& opt,
                      const std::string& label) {
  const fs::path root(out_dir);
  const fs::path state = root / ".synth";
  std::error_code ec;
  fs::create_directories(state, ec);
  if (ec) fail("{}: cannot create folder: {}", state.string(), ec.message());

  // Temporaries of a run that was killed mid-write (never renamed into place).
  remove_stale_temporaries(out_dir);
  UnitsResult result;
  result.records.resize(units.size());
  // Per unit: which outputs must be written (all when the key does not match).
  std::vector<std::vector<char>> missing(units.size());
  std::vector<char> todo(units.size(), 0);
  bool changed = false;
  for (size_t u = 0; u < units.size(); ++u) {
    const UnitSpec& spec = units[u];
    const std::string sidecar = (state / (spec.id + ".json")).string();
    const json old = read_json_or_null(sidecar);
    const bool key_matches = old.is_object() && old.contains("key") && old["key"] == spec.key &&
                             old.contains("record") &&
                             old.value("outputs", json()) == json(spec.outputs);
    missing[u].assign(spec.outputs.size(), 1);
    if (key_matches) {
      for (size_t k = 0; k < spec.outputs.size(); ++k)
        missing[u][k] = fs::is_regular_file(root / spec.outputs[k], ec) ? 0 : 1;
      result.records[u] = old["record"];
    } else if (!old.is_null() || fs::exists(sidecar, ec)) {
      // Stale: drop the sidecar first, so that an interrupted rewrite is never taken as done.
      fs::remove(sidecar, ec);
    }
    const int64_t n_missing = std::count(missing[u].begin(), missing[u].end(), 1);
    result.reused += static_cast<int64_t>(spec.outputs.size()) - n_missing;
    if (n_missing > 0) todo[u] = 1, changed = true;
  }
  // Units of an earlier run that this one no longer has (e.g. a smaller --count).
  std::set<std::string> ids;
  for (const UnitSpec& s : units) ids.insert(s.id + ".json");
  for (const auto& entry : fs::directory_iterator(state, ec)) {
    const std::string name = entry.path().filename().string();
    if ((name[0] != 'u' && name[0] != 'd') || entry.path().extension() != ".json" ||
        ids.count(name))
      continue;
    const json old = read_json_or_null(entry.path().string());
    if (old.is_object() && old.contains("outputs") && old["outputs"].is_array())
      for (const json& o : old["outputs"])
        if (o.is_string()) fs::remove(root / o.get<std::string>(), ec);
    fs::remove(entry.path(), ec);
    changed = true;
  }
  if (changed) fs::remove(root / "gnd.json", ec);

  int64_t to_write = 0;
  std::vector<size_t> work;
  for (size_t u = 0; u < units.size(); ++u) {
    if (!todo[u]) continue;
    work.push_back(u);
    to_write += std::count(missing[u].begin(), missing[u].end(), 1);
  }
  std::mutex progress_mu;
  Progress progress(label, to_write + result.reused,
                    to_write > 0 ? opt.progress : ProgressMode::kOff, result.reused);
  const int threads = resolve_threads(opt.threads);
  Writers writers(kWriterThreads, static_cast<size_t>(2 * kWriterThreads + threads),
                  [&](int64_t n) {
                    std::lock_guard<std::mutex> lock(progress_mu);
                    progress.advance(n);
                  });
  {
    OpenCvSingleThread single;
    parallel_for(static_cast<int64_t>(work.size()), threads, [&](int64_t w, int) {
      if (writers.failed()) return;
      const size_t u = work[w];
      const UnitSpec& spec = units[u];
      UnitProduct product = produce(u);
      REPBENCH_ASSERT(product.images.size() == spec.outputs.size());
      WriteJob job;
      job.unit = u;
      for (size_t k = 0; k < spec.outputs.size(); ++k) {
        if (!missing[u][k]) continue;
        job.files.emplace_back((root / spec.outputs[k]).string(),
                               encode_image(product.images[k], opt.format, opt.jpeg_quality));
      }
      job.sidecar_path = (state / (spec.id + ".json")).string();
      job.sidecar =
          json{{"key", spec.key}, {"outputs", spec.outputs}, {"record", product.record}}.dump();
      result.records[u] = std::move(product.record);
      writers.push(std::move(job));
    });
  }
  writers.close();
  writers.rethrow();
  progress.finish();
  result.written = to_write;
  return result;
}

datasets::RetrievalSet assemble_set(const std::string& name, const std::string& out_dir,
                                    const std::vector<SetGroup>& groups,
                                    const std::vector<SetItem>& distractors, QuerySide side) {
  datasets::RetrievalSet set;
  set.name = name;
  set.protocol = "default";
  set.root = out_dir;
  set.crop_queries = false;
  // db index of each database image, and the db images holding each input's pixels.
  std::map<std::string, std::vector<int64_t>> holders;
  auto add_db = [&](const SetItem& item) {
    const int64_t index = static_cast<int64_t>(set.db.size());
    set.db.push_back(item.image);
    for (const std::string& c : item.content) holders[c].push_back(index);
    return index;
  };
  auto junk_for = [&](const std::vector<std::string>& content, const std::vector<int64_t>& ok) {
    std::set<int64_t> junk;
    for (const std::string& c : content) {
      auto it = holders.find(c);
      if (it == holders.end()) continue;
      for (int64_t j : it->second)
        if (!std::binary_search(ok.begin(), ok.end(), j)) junk.insert(j);
    }
    return std::vector<int64_t>(junk.begin(), junk.end());
  };
  if (side == QuerySide::kSource) {
    std::vector<std::vector<int64_t>> ok(groups.size());
    for (size_t g = 0; g < groups.size(); ++g)
      for (const SetItem& c : groups[g].copies) ok[g].push_back(add_db(c));
    for (const SetItem& d : distractors) add_db(d);
    for (size_t g = 0; g < groups.size(); ++g) {
      datasets::Query q;
      q.image = groups[g].source.image;
      q.ok = ok[g];
      q.junk = junk_for(groups[g].source.content, q.ok);
      set.queries.push_back(std::move(q));
    }
  } else {
    std::vector<int64_t> source_index(groups.size());
    for (size_t g = 0; g < groups.size(); ++g) source_index[g] = add_db(groups[g].source);
    for (const SetItem& d : distractors) add_db(d);
    for (size_t g = 0; g < groups.size(); ++g) {
      for (const SetItem& c : groups[g].copies) {
        datasets::Query q;
        q.image = c.image;
        q.ok = {source_index[g]};
        q.junk = junk_for(c.content, q.ok);
        set.queries.push_back(std::move(q));
      }
    }
  }
  set.Check();
  return set;
}

void add_distractors(const std::vector<std::string>& paths, ImageFormat format,
                     const UnitsResult& run, size_t first_record, std::vector<SetItem>& items,
                     json& records) {
  for (size_t d = 0; d < paths.size(); ++d) {
    items.push_back({distractor_path(d, format), {paths[d]}});
    records.push_back(run.records[first_record + d]);
  }
}

json skipped_json(const std::vector<SkippedInput>& skipped) {
  json out = json::array();
  for (const SkippedInput& s : skipped) out.push_back({{"path", s.path}, {"reason", s.reason}});
  return out;
}

void write_set(const datasets::RetrievalSet& set, const std::string& out_dir,
               const UnitsResult& run, int64_t sources, int copies_per_source, int64_t distractors,
               std::chrono::steady_clock::time_point t0, GenerationSummary& summary) {
  summary.gnd_path = (fs::path(out_dir) / "gnd.json").string();
  datasets::write_gnd_json(set, summary.gnd_path);
  summary.sources = sources;
  summary.copies = sources * copies_per_source;
  summary.distractors = distractors;
  summary.queries = static_cast<int64_t>(set.queries.size());
  summary.db_images = static_cast<int64_t>(set.db.size());
  summary.images_written = run.written;
  summary.images_reused = run.reused;
  summary.seconds = seconds_since(t0);
}

}  // namespace repbench::synth::impl
