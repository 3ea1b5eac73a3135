#include "models/feature_cache.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "core/elapsed.h"
#include "core/atomic_file.h"
#include "core/commit_group.h"
#include "core/environment_error.h"
#include "core/error.h"
#include "core/file_lock.h"
#include "core/failpoint.h"
#include "core/sha256.h"
#include "core/version.h"
#include "core/xxhash64.h"

namespace repbench::models {

namespace fs = std::filesystem;

namespace {

constexpr int kFormatVersion = 2;  // 2: the array file's checksum ("npy_xxh64")

nlohmann::json failed_to_json(const std::vector<FailedImage>& failed) {
  nlohmann::json a = nlohmann::json::array();
  for (const FailedImage& f : failed)
    a.push_back({{"index", f.index}, {"path", f.path}, {"reason", f.reason}});
  return a;
}

std::vector<FailedImage> failed_from_json(const nlohmann::json& a, int64_t offset) {
  std::vector<FailedImage> out;
  for (const auto& f : a)
    out.push_back({f.at("index").get<int64_t>() + offset, f.at("path").get<std::string>(),
                   f.at("reason").get<std::string>()});
  return out;
}

nlohmann::json read_json(const std::string& path) {
  return nlohmann::json::parse(read_file(path));  // throws on a missing or corrupt file
}

// Reads a .npy and checks its shape and its bytes' checksum (cached_npy_verified); nullopt when
// missing, corrupt, changed since it was written or of another shape.
std::optional<FloatArray> read_matching_npy(const std::string& path,
                                            const std::vector<int64_t>& shape,
                                            const nlohmann::json& meta) {
  std::error_code ec;
  if (!fs::exists(path, ec) || !cached_npy_verified(path, meta)) return std::nullopt;
  try {
    FloatArray a = read_npy_float(path);
    if (a.shape != shape) return std::nullopt;
    return a;
  } catch (const Error&) {
    return std::nullopt;
  }
}

// The checksum (XXH64, core/xxhash64.h) of the .npy file write_npy(path, data, shape, dtype)
// writes, from the array in memory.
std::string npy_xxh64(const FloatArray& a, NpyDType dtype = NpyDType::kFloat32) {
  Xxh64 h;
  h.update(npy_header(dtype, a.shape));
  if (dtype == NpyDType::kFloat16) {
    std::vector<uint16_t> half(a.data.size());
    for (size_t i = 0; i < half.size(); ++i) half[i] = float_to_half(a.data[i]);
    h.update(std::string_view(reinterpret_cast<const char*>(half.data()), half.size() * 2));
  } else {
    h.update(std::string_view(reinterpret_cast<const char*>(a.data.data()),
                              a.data.size() * sizeof(float)));
  }
  return h.hex_digest();
}

// Writes the array and its JSON (sidecar or chunk meta, with the array's checksum added) as one
// cache entry: both visible together (core/commit_group.h), committed on their own whatever the
// caller has open, the JSON renamed last.
void write_entry(const std::string& npy, const FloatArray& a, const std::string& json_path,
                 nlohmann::json meta) {
  CommitGroup entry(CommitGroup::kOwn);
  meta["npy_xxh64"] = npy_xxh64(a);
  write_npy(npy, a.data.data(), a.shape);
  write_file_atomic(json_path, meta.dump(2) + "\n");
  entry.commit();
}

void throw_if_failed(const std::vector<FailedImage>& failed, const PipelineOptions& opt) {
  if (!failed.empty() && opt.on_decode_error == DecodeErrorPolicy::kFail)
    throw Error(failed.front().reason);
}

std::vector<int64_t> shape_with_rows(std::vector<int64_t> shape, int64_t rows) {
  shape[0] = rows;
  return shape;
}

}  // namespace

bool cached_npy_verified(const std::string& npy_path, const nlohmann::json& meta) {
  const auto it = meta.find("npy_xxh64");
  if (it == meta.end() || !it->is_string()) return false;  // an entry of an older version
  if (xxh64_file(npy_path) == it->get<std::string>()) return true;
  fmt::print(stderr,
             "repbench: {}: the cached array does not match the checksum it was written with "
             "(changed or truncated since); computing it again\n",
             npy_path);
  return false;
}

void rewrite_as_float16(const std::string& npy_path, const FloatArray& features) {
  const std::string side_path = sidecar_path(npy_path);
  nlohmann::json side = read_json(side_path);
  CommitGroup entry(CommitGroup::kOwn);
  side["npy_xxh64"] = npy_xxh64(features, NpyDType::kFloat16);
  write_npy(npy_path, features.data.data(), features.shape, NpyDType::kFloat16);
  write_file_atomic(side_path, side.dump(2) + "\n");
  entry.commit();
}

void CacheOptions::Check() const {
  if (chunk_size < 1) fail("cache chunk size must be >= 1, found {}", chunk_size);
}

std::string image_list_sha256(const std::vector<ImageItem>& items) {
  Sha256 h;
  for (const ImageItem& it : items) {
    h.update(it.path);
    h.update(std::string_view("\0", 1));
    struct stat st;
    if (::stat(it.path.c_str(), &st) == 0) {
      const int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
      h.update(fmt::format("{} {}", static_cast<int64_t>(st.st_size), mtime_ns));
    } else {
      h.update("missing");
    }
    h.update(std::string_view("\0", 1));
    if (it.bbx)
      h.update(fmt::format("{:.17g} {:.17g} {:.17g} {:.17g}", (*it.bbx)[0], (*it.bbx)[1],
                           (*it.bbx)[2], (*it.bbx)[3]));
    else
      h.update("-");
    h.update("\n");
  }
  return h.hex_digest();
}

nlohmann::json cache_key(const FeatureExtractor& ex, const std::vector<ImageItem>& items,
                         const PipelineOptions& pipeline) {
  return nlohmann::json{
      {"program_version", version()},
      {"spec", ex.spec()},
      {"model_sha256", ex.info().model_sha256},
      {"preprocess", ex.preprocess().canonical()},
      {"decoding", decoding_name(pipeline.load)},
      {"precision", ex.info().precision},
      {"graph", ex.info().graph},
      {"output",
       {{"kind", to_string(ex.output_kind())},
        {"dim", ex.dim()},
        {"tokens", ex.tokens()},
        {"normalized", ex.normalized()}}},
      {"images",
       {{"count", static_cast<int64_t>(items.size())}, {"sha256", image_list_sha256(items)}}}};
}

std::string sidecar_path(const std::string& npy_path) {
  fs::path p(npy_path);
  p.replace_extension(".json");
  return p.string();
}

std::string cache_file_name(const std::string& label, const nlohmann::json& key) {
  return fmt::format("{}.{}.npy", label, sha256_hex(key.dump()).substr(0, 16));
}

CachedExtraction extract_cached(FeatureExtractor& ex, const std::vector<ImageItem>& items,
                                const std::string& npy_path, const PipelineOptions& popt,
                                const CacheOptions& copt) {
  popt.Check();
  copt.Check();
  const auto t0 = std::chrono::steady_clock::now();
  CachedExtraction out;
  out.key = cache_key(ex, items, popt);
  out.npy_path = npy_path;
  out.sidecar_path = sidecar_path(npy_path);
  if (out.sidecar_path == npy_path) fail("{}: the feature cache file must end in .npy", npy_path);
  const int64_t n = static_cast<int64_t>(items.size());
  const int64_t row = ex.row_size();
  const std::vector<int64_t> shape = descriptor_shape(ex, n);

  // One process at a time per entry (core/file_lock.h): a second one waits, then reuses it.
  const FileLock lock(npy_path + ".lock");

  // 1. A complete entry whose key matches.
  if (copt.reuse) {
    try {
      const nlohmann::json side = read_json(out.sidecar_path);
      if (side.at("format") == "repbench-features" && side.at("key") == out.key) {
        if (auto a = read_matching_npy(npy_path, shape, side)) {
          out.failed = failed_from_json(side.at("failed"), 0);
          out.features = std::move(*a);
          out.cache_hit = true;
        }
      }
    } catch (const std::exception&) {  // missing or corrupt sidecar: recompute
      out.failed.clear();
    }
    if (out.cache_hit) {
      throw_if_failed(out.failed, popt);  // a recorded failure under the fail policy
      return out;
    }
  }

  // 2. Chunks of an interrupted run under the same key.
  const std::string partial = npy_path + ".partial";
  const std::string key_file = (fs::path(partial) / "key.json").string();
  // Chunks are only meaningful for the same key and the same chunk boundaries.
  const nlohmann::json partial_key{{"key", out.key}, {"chunk_size", copt.chunk_size}};
  std::error_code ec;
  if (fs::exists(partial, ec)) {
    bool same = false;
    try {
      same = copt.reuse && read_json(key_file) == partial_key;
    } catch (const std::exception&) {
    }
    if (!same) fs::remove_all(partial, ec);
  }
  fs::create_directories(partial, ec);
  if (ec) fail_environment("{}: cannot create the folder: {}", partial, ec.message());
  if (!fs::exists(key_file, ec)) {
    CommitGroup now(CommitGroup::kOwn);  // on disk at once, whatever the caller has open
    write_file_atomic(key_file, partial_key.dump(2) + "\n");
    now.commit();
  }

  out.features.shape = shape;
  out.features.data.assign(static_cast<size_t>(n * row), 0.0f);
  const int64_t chunks = (n + copt.chunk_size - 1) / copt.chunk_size;
  auto chunk_path = [&](int64_t c, const char* ext) {
    return (fs::path(partial) / fmt::format("chunk-{:06d}.{}", c, ext)).string();
  };
  std::vector<bool> done(static_cast<size_t>(chunks), false);
  int64_t reused_images = 0;
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t b = c * copt.chunk_size, e = std::min(n, b + copt.chunk_size);
    try {
      const nlohmann::json meta = read_json(chunk_path(c, "json"));  // written after the .npy
      if (meta.at("first") != b || meta.at("rows") != e - b) continue;
      auto a = read_matching_npy(chunk_path(c, "npy"), shape_with_rows(shape, e - b), meta);
      if (!a) continue;
      std::copy(a->data.begin(), a->data.end(), out.features.data.begin() + b * row);
      auto f = failed_from_json(meta.at("failed"), b);
      out.failed.insert(out.failed.end(), f.begin(), f.end());
      done[c] = true;
      ++out.chunks_reused;
      reused_images += e - b;
    } catch (const std::exception&) {  // missing or corrupt chunk: compute it
    }
  }
  throw_if_failed(out.failed, popt);

  Progress progress(popt.label, n, popt.progress, reused_images);
  PipelineOptions chunk_opt = popt;
  chunk_opt.progress_sink = &progress;
  for (int64_t c = 0; c < chunks; ++c) {
    if (done[c]) continue;
    const int64_t b = c * copt.chunk_size, e = std::min(n, b + copt.chunk_size);
    const std::vector<ImageItem> sub(items.begin() + b, items.begin() + e);
    Extraction x = extract_features(ex, sub, chunk_opt);
    out.stats.add(x.stats);
    out.images_extracted += e - b;
    const auto tw = std::chrono::steady_clock::now();
    write_entry(chunk_path(c, "npy"), x.features, chunk_path(c, "json"),
                {{"first", b}, {"rows", e - b}, {"failed", failed_to_json(x.failed)}});
    out.stats.write_seconds += seconds_since(tw);
    fail_point("feature-cache-chunk");  // test-only (core/failpoint.h): a chunk is saved
    std::copy(x.features.data.begin(), x.features.data.end(), out.features.data.begin() + b * row);
    for (FailedImage& f : x.failed) f.index += b;
    out.failed.insert(out.failed.end(), x.failed.begin(), x.failed.end());
    ++out.chunks_computed;
  }
  std::sort(out.failed.begin(), out.failed.end(),
            [](const FailedImage& a, const FailedImage& b) { return a.index < b.index; });

  const auto tw = std::chrono::steady_clock::now();
  write_entry(npy_path, out.features, out.sidecar_path,
              {{"format", "repbench-features"},
               {"format_version", kFormatVersion},
               {"key", out.key},
               {"extractor", ex.info().to_json()},
               {"shape", shape},
               {"failed", failed_to_json(out.failed)}});
  fs::remove_all(partial, ec);
  out.stats.write_seconds += seconds_since(tw);
  progress.finish();
  out.stats.wall_seconds = seconds_since(t0);
  return out;
}

}  // namespace repbench::models
