#include "postprocess/postprocess.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <faiss/IndexFlat.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/VectorTransform.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/commit_group.h"
#include "core/error.h"
#include "core/parse_list.h"
#include "core/sha256.h"

namespace fs = std::filesystem;

namespace repbench::postprocess {

namespace {

using Chain = std::vector<std::unique_ptr<faiss::VectorTransform>>;

constexpr size_t kMaxComponents = 8, kMaxComponentChars = 32, kMaxDigits = 5;
constexpr int64_t kApplyBlockRows = 4096;  // 8 MB of 512-d rows: a block stays in cache

// FAISS's messages carry the function, file and line before "Error: "; the reason after it,
// on one line, is what the user needs.
std::string one_line(const std::string& s) {
  const size_t at = s.rfind("Error: ");
  std::string out = at == std::string::npos ? s : s.substr(at + 7);
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

// The untrained transforms of `chain` for `dim`-dimensional input, as FAISS's factory makes them.
Chain build_chain(const std::string& chain, int64_t dim) {
  const std::vector<std::string> parts = split_chain(chain);
  if (dim < 1) fail("--postprocess '{}': descriptor dimension {} is not positive", chain, dim);
  std::unique_ptr<faiss::Index> index;
  try {
    index.reset(faiss::index_factory(static_cast<int>(dim), (chain + ",Flat").c_str(),
                                     faiss::METRIC_INNER_PRODUCT));
  } catch (const faiss::FaissException& e) {
    fail("--postprocess '{}': FAISS refuses it for {}-dimensional descriptors: {}", chain, dim,
         one_line(e.what()));
  }
  auto* pre = dynamic_cast<faiss::IndexPreTransform*>(index.get());
  if (!pre || !dynamic_cast<faiss::IndexFlat*>(pre->index) || pre->chain.size() != parts.size())
    fail("--postprocess '{}': not a chain of vector transforms (such as 'PCAW512,L2norm'); "
         "FAISS reads it as an index",
         chain);
  Chain out;
  for (faiss::VectorTransform*& vt : pre->chain) {
    out.emplace_back(vt);
    vt = nullptr;
  }
  pre->chain.clear();
  return out;
}

// Applies the chain to the n rows of `x` ([n, d_in]) and writes them to `out` ([n, d_out]),
// which may be `x` itself when d_out <= d_in. Blocks of kApplyBlockRows rows pass through the
// transforms in two scratch buffers that stay in cache; the last transform writes straight into
// `out` unless it would read the rows it overwrites. Returns the first row with a non-finite
// value, or -1 (checked block by block while the rows are still in cache).
int64_t apply_chain(const Chain& chain, const float* x, int64_t n, float* out) {
  const int64_t d_in = chain.front()->d_in, d_out = chain.back()->d_out;
  int64_t width = d_in;
  for (const auto& vt : chain) width = std::max<int64_t>(width, vt->d_out);
  const int64_t block = std::min(kApplyBlockRows, n);
  std::vector<float> scratch[2];
  for (auto& v : scratch) v.resize(static_cast<size_t>(block * width));
  int64_t bad = -1;
  for (int64_t i0 = 0; i0 < n; i0 += kApplyBlockRows) {
    const int64_t m = std::min(kApplyBlockRows, n - i0);
    const float* src = x + i0 * d_in;
    float* dst = out + i0 * d_out;
    for (size_t t = 0; t < chain.size(); ++t) {
      const bool last = t + 1 == chain.size();
      // In place, a one-transform chain would overwrite its own input: it goes through scratch.
      float* to = last && !(t == 0 && x == out) ? dst : scratch[t % 2].data();
      chain[t]->apply_noalloc(m, src, to);
      src = to;
    }
    if (src != dst) std::memcpy(dst, src, static_cast<size_t>(m * d_out) * sizeof(float));
    if (bad < 0 && (bad = first_nonfinite_row(dst, m, d_out)) >= 0) bad += i0;
  }
  return bad;
}

std::string serialise(const Chain& chain) {
  faiss::VectorIOWriter w;
  const int32_t n = static_cast<int32_t>(chain.size());
  w(&n, sizeof n, 1);
  for (const auto& vt : chain) faiss::write_VectorTransform(vt.get(), &w);
  return std::string(w.data.begin(), w.data.end());
}

// The chain in `bytes`, or an empty chain when they are not a trained chain from `dim` (the
// cache entry is then trained again).
Chain deserialise(const std::string& bytes, int64_t dim) {
  faiss::VectorIOReader r;
  r.data.assign(bytes.begin(), bytes.end());
  Chain chain;
  try {
    int32_t n = 0;
    if (r(&n, sizeof n, 1) != 1 || n < 1 || n > static_cast<int32_t>(kMaxComponents)) return {};
    int64_t d = dim;
    for (int32_t i = 0; i < n; ++i) {
      chain.emplace_back(faiss::read_VectorTransform(&r));
      if (!chain.back()->is_trained || chain.back()->d_in != d) return {};
      d = chain.back()->d_out;
    }
  } catch (const faiss::FaissException&) {
    return {};
  }
  return chain;
}

}  // namespace

std::vector<std::string> split_chain(const std::string& chain) {
  const std::vector<std::string> parts = split_fields(chain, ',');
  if (parts.size() > kMaxComponents)
    fail("--postprocess '{}': more than {} transforms", chain, kMaxComponents);
  for (const std::string& p : parts) {
    if (p.empty() || p.size() > kMaxComponentChars)
      fail("--postprocess '{}': empty or over-long transform '{}'; expected e.g. "
           "'PCAW512,L2norm'",
           chain, p);
    size_t digits = 0;
    for (char c : p) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (!std::isalnum(u) && c != '_' && c != '.')
        fail("--postprocess '{}': transform '{}' has a character other than letters, digits, "
             "'_' and '.'",
             chain, p);
      digits = std::isdigit(u) ? digits + 1 : 0;
      if (digits > kMaxDigits)
        fail("--postprocess '{}': a number in '{}' has more than {} digits", chain, p, kMaxDigits);
    }
  }
  return parts;
}

int64_t check_chain(const std::string& chain, int64_t dim) {
  return build_chain(chain, dim).back()->d_out;
}

std::string default_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return (fs::path(x) / "repbench" / "postprocess").string();
  if (const char* h = std::getenv("HOME"); h && *h)
    return (fs::path(h) / ".cache" / "repbench" / "postprocess").string();
  fail("--postprocess-cache: neither XDG_CACHE_HOME nor HOME is set; name a folder");
}

struct Postprocessor::Impl {
  std::string chain_text, train_sha256, transform_sha256, cache_file;
  Chain chain;
  bool from_cache = false;
};

Postprocessor::Postprocessor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Postprocessor::Postprocessor(Postprocessor&&) noexcept = default;
Postprocessor& Postprocessor::operator=(Postprocessor&&) noexcept = default;
Postprocessor::~Postprocessor() = default;

int64_t Postprocessor::d_in() const { return impl_->chain.front()->d_in; }
int64_t Postprocessor::d_out() const { return impl_->chain.back()->d_out; }
bool Postprocessor::from_cache() const { return impl_->from_cache; }
const std::string& Postprocessor::cache_file() const { return impl_->cache_file; }

Postprocessor Postprocessor::prepare(const std::string& chain, const std::string& train_file,
                                     const std::string& cache_dir, int64_t dim) {
  Chain untrained = build_chain(chain, dim);  // a refused string fails before any file is read
  const NpyHeader header = read_npy_header(train_file);
  if (header.shape.size() != 2)
    fail("{}: postprocess training descriptors must be [n, d]; found {} dimensions", train_file,
         header.shape.size());
  if (header.shape[1] != dim)
    fail("{}: postprocess training descriptors have dimension {}; the descriptors have {}",
         train_file, header.shape[1], dim);
  if (header.shape[0] < 1) fail("{}: postprocess training file has no rows", train_file);

  auto impl = std::make_unique<Impl>();
  impl->chain_text = chain;
  impl->train_sha256 = sha256_file(train_file);
  const std::string key = sha256_hex(chain + "\n" + impl->train_sha256);
  const fs::path base = fs::path(cache_dir) / key;
  impl->cache_file = base.string() + ".vt";
  const std::string sidecar = base.string() + ".json";

  // Reused only when the sidecar (written last) names this chain and training file and the
  // transform file has the bytes it names.
  std::error_code ec;
  if (fs::exists(sidecar, ec) && fs::exists(impl->cache_file, ec)) {
    try {
      const nlohmann::json s = nlohmann::json::parse(read_file(sidecar));
      const std::string bytes = read_file(impl->cache_file);
      if (s.value("chain", "") == chain && s.value("train_sha256", "") == impl->train_sha256 &&
          s.value("transform_sha256", "") == sha256_hex(bytes)) {
        impl->chain = deserialise(bytes, dim);
        if (!impl->chain.empty()) {
          impl->transform_sha256 = s["transform_sha256"].get<std::string>();
          impl->from_cache = true;
          return Postprocessor(std::move(impl));
        }
      }
    } catch (const nlohmann::json::exception&) {
    } catch (const Error&) {
    }
  }

  const FloatArray train = read_npy_float(train_file);
  if (const int64_t bad = first_nonfinite_row(train); bad >= 0)
    fail("{}: row {} of the postprocess training descriptors is not finite", train_file, bad);
  const int64_t n = train.rows();
  std::vector<float> x = train.data;
  for (auto& vt : untrained) {
    try {
      if (!vt->is_trained) vt->train(n, x.data());
    } catch (const faiss::FaissException& e) {
      fail("{}: postprocess '{}' cannot be trained on these {} rows: {}", train_file, chain, n,
           one_line(e.what()));
    }
    std::vector<float> y(static_cast<size_t>(n * vt->d_out));
    vt->apply_noalloc(n, x.data(), y.data());
    x.swap(y);
  }
  if (const int64_t bad = first_nonfinite_row(x.data(), n, untrained.back()->d_out); bad >= 0)
    fail("{}: postprocess '{}' trained on these {} rows gives non-finite values (row {}); a "
         "whitening needs more training rows than output dimensions",
         train_file, chain, n, bad);
  impl->chain = std::move(untrained);
  const std::string bytes = serialise(impl->chain);
  impl->transform_sha256 = sha256_hex(bytes);
  CommitGroup entry(CommitGroup::kOwn);  // a cache entry, read back by this run: committed now
  write_file_atomic(impl->cache_file, bytes);
  write_file_atomic(sidecar, nlohmann::json{{"chain", chain},
                                            {"train_file", train_file},
                                            {"train_sha256", impl->train_sha256},
                                            {"train_rows", n},
                                            {"transform_sha256", impl->transform_sha256},
                                            {"d_in", dim},
                                            {"d_out", impl->chain.back()->d_out}}
                                 .dump(2) + "\n");
  entry.commit();
  return Postprocessor(std::move(impl));
}

void Postprocessor::apply(FloatArray& a, const std::string& what) const {
  if (a.shape.size() != 2)
    fail("{}: postprocess '{}' needs descriptors [n, d]; found {} dimensions", what,
         impl_->chain_text, a.shape.size());
  if (a.row_size() != d_in())
    fail("{}: descriptors of dimension {}; postprocess '{}' was trained on dimension {}", what,
         a.row_size(), impl_->chain_text, d_in());
  // In place unless the chain widens the rows.
  const int64_t n = a.rows();
  std::vector<float> wider;
  if (d_out() > d_in()) wider.resize(static_cast<size_t>(n * d_out()));
  float* out = wider.empty() ? a.data.data() : wider.data();
  const int64_t bad = apply_chain(impl_->chain, a.data.data(), n, out);
  if (bad >= 0)
    fail("{}: postprocess '{}' gives a non-finite value in row {}", what, impl_->chain_text, bad);
  if (!wider.empty()) a.data = std::move(wider);
  a.data.resize(static_cast<size_t>(n * d_out()));
  a.shape = {n, d_out()};
}

nlohmann::json Postprocessor::to_json() const {
  return {{"chain", impl_->chain_text},
          {"transform_sha256", impl_->transform_sha256},
          {"train_sha256", impl_->train_sha256},
          {"d_in", d_in()},
          {"d_out", d_out()}};
}

Applied apply_to_both(const Spec& spec, FloatArray& a, const std::string& a_name, FloatArray& b,
                      const std::string& b_name) {
  if (spec.chain.empty() && spec.train_file.empty()) return {};
  if (spec.chain.empty())
    fail("{}: a postprocess training file is given without a postprocess chain", spec.train_file);
  if (spec.train_file.empty())
    fail("--postprocess '{}' needs a training descriptor file (--postprocess-train)", spec.chain);
  if (a.shape.size() != 2)
    fail("{}: postprocess '{}' needs descriptors [n, d]; found {} dimensions", a_name, spec.chain,
         a.shape.size());
  const Postprocessor p = Postprocessor::prepare(
      spec.chain, spec.train_file, spec.cache_dir.empty() ? default_cache_dir() : spec.cache_dir,
      a.row_size());
  p.apply(a, a_name);
  p.apply(b, b_name);
  return {p.to_json(), p.from_cache()};
}

std::string describe(const Spec& spec, const Applied& applied) {
  return fmt::format("postprocess: {} (d {} -> {}), trained on {}{}", spec.chain,
                     applied.options["d_in"].get<int64_t>(),
                     applied.options["d_out"].get<int64_t>(), spec.train_file,
                     applied.from_cache ? ", read from the cache" : "");
}

}  // namespace repbench::postprocess
