#include "descriptors/shards.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/sha256.h"

namespace fs = std::filesystem;

namespace repbench::descriptors {

namespace {

constexpr const char* kFormat = "repbench-shard";

nlohmann::json to_json(const ShardedDescriptors& d) {
  nlohmann::json failed = nlohmann::json::array();
  for (const auto& f : d.failed)
    failed.push_back({{"index", f.index}, {"path", f.path}, {"reason", f.reason}});
  return {{"format", kFormat}, {"format_version", 1},   {"model", d.model},
          {"decoding", d.decoding},
          {"source", d.source}, {"list_sha256", d.list_sha256}, {"total", d.total},
          {"index", d.index},   {"count", d.count},     {"begin", d.begin},
          {"end", d.end},       {"shape", d.features.shape}, {"shards_merged", d.shards_merged},
          {"paths", d.paths},   {"failed", failed}};
}

}  // namespace

ShardRange shard_range(int64_t n, int64_t index, int64_t count) {
  REPBENCH_ASSERT(count >= 1 && index >= 0 && index < count && n >= 0);
  return {n * index / count, n * (index + 1) / count};
}

ShardSpec parse_shard(const std::string& text) {
  ShardSpec s;
  const size_t slash = text.find('/');
  try {
    size_t used = 0;
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    s.index = std::stoll(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("index");
    const std::string c = text.substr(slash + 1);
    s.count = std::stoll(c, &used);
    if (used != c.size()) throw std::invalid_argument("count");
  } catch (const std::exception&) {
    fail("--shard '{}' is not I/N (e.g. 0/8: the first of 8 slices)", text);
  }
  if (s.count < 1 || s.index < 0 || s.index >= s.count)
    fail("--shard '{}': need 0 <= I < N (shards are numbered from 0)", text);
  return s;
}

std::string path_list_sha256(const std::vector<std::string>& paths) {
  std::string all;
  for (const auto& p : paths) all += p + "\n";
  return sha256_hex(all);
}

std::string shard_info_path(const std::string& npy_path) {
  fs::path p(npy_path);
  p.replace_extension(".shard.json");
  return p.string();
}

ShardedDescriptors extract_shard(models::FeatureExtractor& extractor, const std::string& source,
                                 const std::vector<std::string>& paths, const ShardSpec& shard,
                                 const std::string& npy_path,
                                 const models::PipelineOptions& pipeline,
                                 const models::CacheOptions& cache,
                                 models::CachedExtraction* cached) {
  ShardedDescriptors d;
  d.model = extractor.spec();
  d.decoding = models::decoding_name(pipeline.load);
  d.source = source;
  d.list_sha256 = path_list_sha256(paths);
  d.total = static_cast<int64_t>(paths.size());
  d.index = shard.index;
  d.count = shard.count;
  const ShardRange r = shard_range(d.total, shard.index, shard.count);
  d.begin = r.begin;
  d.end = r.end;
  if (d.begin == d.end)
    fail("{}: shard {}/{} of {} images is empty (use fewer shards than images)", source,
         shard.index, shard.count, d.total);
  std::vector<models::ImageItem> items;
  for (int64_t i = d.begin; i < d.end; ++i) {
    items.push_back({paths[i], std::nullopt});
    d.paths.push_back(paths[i]);
  }
  models::CachedExtraction c = models::extract_cached(extractor, items, npy_path, pipeline, cache);
  for (auto f : c.failed) {
    f.index += d.begin;
    d.failed.push_back(f);
  }
  d.features = std::move(c.features);
  // The shard file is the commit mark of the shard: written after the descriptors.
  write_file_atomic(shard_info_path(npy_path), to_json(d).dump(1) + "\n");
  if (cached) {
    c.features = {};
    *cached = std::move(c);
  }
  return d;
}

ShardedDescriptors read_shard_info(const std::string& npy_path) {
  const std::string info_path = shard_info_path(npy_path);
  std::error_code ec;
  if (!fs::exists(info_path, ec))
    fail("{}: no shard file {} beside it (write descriptors with `repbench extract --images "
         "... [--shard I/N]`; an unfinished shard has none)",
         npy_path, info_path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(info_path));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not JSON: {}", info_path, e.what());
  }
  ShardedDescriptors d;
  try {
    if (j.at("format") != kFormat) fail("{}: not a repbench shard file", info_path);
    d.model = j.at("model").get<std::string>();
    d.decoding = j.value("decoding", std::string("reduced-jpeg"));  // see shards.h
    d.source = j.at("source").get<std::string>();
    d.list_sha256 = j.at("list_sha256").get<std::string>();
    d.total = j.at("total").get<int64_t>();
    d.index = j.at("index").get<int64_t>();
    d.count = j.at("count").get<int64_t>();
    d.begin = j.at("begin").get<int64_t>();
    d.end = j.at("end").get<int64_t>();
    d.shards_merged = j.value("shards_merged", int64_t{1});
    d.paths = j.at("paths").get<std::vector<std::string>>();
    for (const auto& f : j.at("failed"))
      d.failed.push_back({f.at("index").get<int64_t>(), f.at("path").get<std::string>(),
                          f.at("reason").get<std::string>()});
  } catch (const nlohmann::json::exception& e) {
    fail("{}: malformed shard file: {}", info_path, e.what());
  }
  if (d.count < 1 || d.index < 0 || d.index >= d.count || d.total < 1)
    fail("{}: shard {}/{} of {} images is not a valid shard", info_path, d.index, d.count, d.total);
  const ShardRange r = shard_range(d.total, d.index, d.count);
  if (d.begin != r.begin || d.end != r.end ||
      static_cast<int64_t>(d.paths.size()) != d.end - d.begin)
    fail("{}: shard {}/{} should hold images [{}, {}) of {} but says [{}, {}) with {} paths",
         info_path, d.index, d.count, r.begin, r.end, d.total, d.begin, d.end, d.paths.size());
  d.features.shape = read_npy_header(npy_path).shape;
  if (d.features.rows() != d.end - d.begin)
    fail("{}: {} rows, but its shard file {} lists {} images", npy_path, d.features.rows(),
         info_path, d.end - d.begin);
  return d;
}

ShardedDescriptors read_shard(const std::string& npy_path) {
  ShardedDescriptors d = read_shard_info(npy_path);
  d.features = read_npy_float(npy_path);
  return d;
}

std::vector<size_t> check_tiling(const std::vector<ShardedDescriptors>& parts,
                                 const std::vector<std::string>& npy_paths) {
  REPBENCH_ASSERT(parts.size() == npy_paths.size());
  if (parts.empty()) fail("no shard files to merge");
  const ShardedDescriptors& first = parts[0];
  std::map<int64_t, size_t> by_index;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& s = parts[i];
    auto differs = [&](const char* what, const std::string& a, const std::string& b) {
      if (a != b)
        fail("{}: {} is '{}', but {} has '{}' (shards of different runs)", npy_paths[i], what, b,
             npy_paths[0], a);
    };
    differs("the model", first.model, s.model);
    differs("the decoding", first.decoding, s.decoding);
    differs("the image list (sha256)", first.list_sha256, s.list_sha256);
    differs("the shard count", std::to_string(first.count), std::to_string(s.count));
    std::vector<int64_t> a(first.features.shape.begin() + 1, first.features.shape.end()),
        b(s.features.shape.begin() + 1, s.features.shape.end());
    differs("the descriptor size", fmt::format("{}", fmt::join(a, "x")),
            fmt::format("{}", fmt::join(b, "x")));
    auto [it, inserted] = by_index.emplace(s.index, i);
    if (!inserted)
      fail("{}: shard {}/{} is given twice (also {})", npy_paths[i], s.index, s.count,
           npy_paths[it->second]);
  }
  for (int64_t i = 0; i < first.count; ++i)
    if (!by_index.count(i))
      fail("shard {}/{} of {} ({} images) is missing: {} of {} shard files given", i, first.count,
           first.source, first.total, parts.size(), first.count);
  // The recorded hash is of the whole list: the concatenated slices must give it back.
  Sha256 h;
  for (const auto& [index, i] : by_index)
    for (const auto& p : parts[i].paths) h.update(p + "\n");
  if (h.hex_digest() != first.list_sha256)
    fail("{}: the shards' paths do not concatenate to the list they were cut from", npy_paths[0]);
  std::vector<size_t> order;
  for (const auto& [index, i] : by_index) order.push_back(i);
  return order;
}

ShardedDescriptors merge_shard_files(const std::vector<std::string>& npy_paths,
                                     const std::string& out_npy) {
  if (npy_paths.empty()) fail("no shard files to merge");
  std::vector<ShardedDescriptors> parts;
  std::vector<NpyHeader> headers;
  for (const auto& p : npy_paths) {
    parts.push_back(read_shard_info(p));
    headers.push_back(read_npy_header(p));
  }
  const std::vector<size_t> order = check_tiling(parts, npy_paths);
  // Shards of one dtype are copied byte for byte (float16 stays float16); a mix is widened.
  bool one_dtype = true;
  for (const NpyHeader& h : headers) one_dtype = one_dtype && h.dtype == headers[0].dtype;
  const NpyDType dtype = one_dtype ? headers[0].dtype : NpyDType::kFloat32;
  const ShardedDescriptors& first = parts[order[0]];
  ShardedDescriptors m;
  m.model = first.model;
  m.decoding = first.decoding;
  m.source = first.source;
  m.list_sha256 = first.list_sha256;
  m.total = first.total;
  m.end = first.total;
  m.shards_merged = 0;
  m.features.shape = first.features.shape;
  m.features.shape[0] = first.total;

  AtomicFile out(out_npy);
  out.write(npy_header(dtype, m.features.shape));
  std::vector<char> buf(size_t{16} << 20);
  for (size_t i : order) {
    const std::string& path = npy_paths[i];
    if (one_dtype) {
      std::ifstream in(path, std::ios::binary);
      in.seekg(headers[i].data_offset);
      int64_t left = parts[i].features.rows() * parts[i].features.row_size() *
                     static_cast<int64_t>(npy_dtype_size(dtype));
      while (left > 0) {
        const auto n = static_cast<std::streamsize>(std::min<int64_t>(left, int64_t(buf.size())));
        in.read(buf.data(), n);
        if (in.gcount() != n) fail("{}: changed while it was read (fewer bytes than its header says)", path);
        out.write(buf.data(), size_t(n));
        left -= n;
      }
    } else {
      const FloatArray f = read_npy_float(path);
      if (f.shape != parts[i].features.shape)
        fail("{}: changed while it was read (shape [{}], was [{}])", path, fmt::join(f.shape, ", "),
             fmt::join(parts[i].features.shape, ", "));
      out.write(f.data.data(), f.data.size() * sizeof(float));
    }
    m.paths.insert(m.paths.end(), parts[i].paths.begin(), parts[i].paths.end());
    m.failed.insert(m.failed.end(), parts[i].failed.begin(), parts[i].failed.end());
    m.shards_merged += parts[i].shards_merged;
  }
  out.commit();
  write_file_atomic(shard_info_path(out_npy), to_json(m).dump(1) + "\n");
  return m;
}

void write_merged(const ShardedDescriptors& d, const std::string& npy_path) {
  REPBENCH_ASSERT(d.index == 0 && d.count == 1 && d.begin == 0 && d.end == d.total);
  write_npy(npy_path, d.features.data.data(), d.features.shape);
  write_file_atomic(shard_info_path(npy_path), to_json(d).dump(1) + "\n");
}

}  // namespace repbench::descriptors
