// Descriptor post-processing as FAISS VectorTransform chains (the practice of SSCD's evaluation:
// "PCAW512,L2norm" trained on a held-out descriptor set), applied to both sides of a comparison.
//
// A chain is any comma-separated list of vector transforms that FAISS's index_factory accepts
// before an index ("PCA64", "PCAW512", "PCAR128", "OPQ16_64", "ITQ64", "RR128", "Pad1024",
// "L2norm", ...): it is built as index_factory(d, CHAIN + ",Flat") and the transforms of the
// resulting IndexPreTransform are kept (a string that yields anything else is refused). The chain
// is trained on a named descriptor file (each transform on the output of the ones before it) and
// the trained chain is cached (faiss::write_VectorTransform of each transform, in one file) under
// a key that is the sha256 of the chain string and the training file's sha256: a later run with
// the same chain and the same training bytes reads it back instead of training again.
// Definitions and what records store: docs/PROTOCOLS.md, "Descriptor post-processing".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/npy.h"

namespace repbench::postprocess {

// The chain's components, checked for shape only (non-empty, letters, digits, '_' and '.', at
// most 8 components of 32 characters, numbers of at most 5 digits); FAISS decides the rest.
// Throws Error quoting the string.
std::vector<std::string> split_chain(const std::string& chain);

// Builds the untrained chain for `dim`-dimensional input, as FAISS parses it; returns its output
// dimension. Throws Error quoting the string and FAISS's reason when FAISS refuses it or when it
// is not a chain of vector transforms.
int64_t check_chain(const std::string& chain, int64_t dim);

// Where eval and search keep trained transforms unless told: $XDG_CACHE_HOME/repbench/postprocess,
// else $HOME/.cache/repbench/postprocess.
std::string default_cache_dir();

class Postprocessor {
 public:
  // The chain trained on `train_file` (a 2-D descriptor .npy whose rows have `dim` values), read
  // from `cache_dir` when it was trained there before, else trained and saved there (atomically;
  // the sidecar KEY.json is written last). Throws Error naming the training file when it is
  // missing, malformed, of another dimension, or gives non-finite values once transformed, and
  // quoting the chain when FAISS refuses it or cannot train it.
  static Postprocessor prepare(const std::string& chain, const std::string& train_file,
                               const std::string& cache_dir, int64_t dim);
  Postprocessor(Postprocessor&&) noexcept;
  Postprocessor& operator=(Postprocessor&&) noexcept;
  ~Postprocessor();

  int64_t d_in() const;
  int64_t d_out() const;
  bool from_cache() const;               // read back, not trained in this run
  const std::string& cache_file() const;  // the trained chain, KEY.vt

  // Replaces the rows of `a` ([n, d_in]) by their transforms ([n, d_out]). Throws Error naming
  // `what` for token descriptors, another row size, or non-finite output.
  void apply(FloatArray& a, const std::string& what) const;

  // {"chain", "transform_sha256", "train_sha256", "d_in", "d_out"}: what a record's options hold.
  nlohmann::json to_json() const;

 private:
  struct Impl;
  explicit Postprocessor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What a command line or a suite names: the chain, its training file and the cache folder ("" =
// default_cache_dir()). An empty chain means no post-processing.
struct Spec {
  std::string chain, train_file, cache_dir;
};

// What apply_to_both did: the record's options.postprocess (null when spec.chain is empty) and
// whether the trained chain came from the cache.
struct Applied {
  nlohmann::json options;
  bool from_cache = false;
};

// Prepares spec's chain for the row size of `a` and applies it to `a` and `b` (the two sides of a
// comparison; `a_name`, `b_name` name them in errors). Throws Error when only one of chain and
// training file is given, and as prepare() and apply() do.
Applied apply_to_both(const Spec& spec, FloatArray& a, const std::string& a_name, FloatArray& b,
                      const std::string& b_name);

// One line for the console: "postprocess: CHAIN (d IN -> OUT), trained on FILE[, read from the
// cache]".
std::string describe(const Spec& spec, const Applied& applied);

}  // namespace repbench::postprocess
