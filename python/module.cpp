// The Python module `repbench` (its compiled part, repbench._repbench): the evaluator, search,
// compare, leaderboards and the set registry, over the same library functions the verbs call
// (evaluation/descriptor_eval.h, report/compare.h, report/leaderboard_run.h,
// datasets/set_summary.h). Nothing is computed here: arrays are handed over (float32 and
// float16 C-contiguous ones read where they lie), the GIL is released while the libraries work,
// and Ctrl-C reaches evaluate() through metrics::EvalOptions::interrupt_check.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/descriptors.h"
#include "core/error.h"
#include "core/npy.h"
#include "core/version.h"
#include "datasets/metric_spec.h"
#include "datasets/set_registry.h"
#include "datasets/set_summary.h"
#include "evaluation/descriptor_eval.h"
#include "report/compare.h"
#include "report/leaderboard_run.h"
#include "scan/search_descriptors.h"

namespace py = pybind11;
namespace fs = std::filesystem;
using namespace repbench;

namespace {

// Thrown by the interrupt check when Python has a pending exception (KeyboardInterrupt from
// SIGINT): the Python error indicator is left set, and run_released() raises it.
struct Interrupted {};

// Runs `f` without the GIL; an Interrupted becomes the pending Python exception.
template <class F>
auto run_released(F&& f) -> decltype(f()) {
  try {
    py::gil_scoped_release release;
    return f();
  } catch (const Interrupted&) {
    throw py::error_already_set();
  }
}

bool on_main_thread() {
  py::module_ threading = py::module_::import("threading");
  return threading.attr("get_ident")().cast<long long>() ==
         threading.attr("main_thread")().attr("ident").cast<long long>();
}

// metrics::EvalOptions::interrupt_check for a call made on the main thread (the only one Python
// delivers signals to): every 20 ms at most, takes the GIL and runs the signal handlers.
std::function<void()> interrupt_check() {
  if (!on_main_thread()) return {};
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [last] {
    const auto now = std::chrono::steady_clock::now();
    if (now - *last < std::chrono::milliseconds(20)) return;
    *last = now;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw Interrupted{};
  };
}

py::object to_python(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

bool is_path(py::handle obj) {
  return py::isinstance<py::str>(obj) || py::hasattr(obj, "__fspath__");
}

std::string path_of(py::handle obj) {
  return py::module_::import("os").attr("fspath")(obj).cast<std::string>();
}

std::string opt_path(const py::object& obj) { return obj.is_none() ? "" : path_of(obj); }

// Where the C++ side read the last call's descriptors from and what it scored (per thread), for
// the tests of zero copy.
struct Pointers {
  uintptr_t queries_read = 0, database_read = 0, queries_scored = 0, database_scored = 0;
};
thread_local Pointers last_pointers;

// One side of a call as Python gave it: a .npy path, or an array (float32 or float16
// C-contiguous: read in place; anything else: converted by numpy to float32 once).
struct Side {
  std::string name;  // in messages ("queries", "database") or the path
  std::string path;  // a .npy file
  py::array array;   // holds the memory alive while the GIL is released
  bool half = false;
  const void* data = nullptr;
  std::vector<int64_t> shape;
  size_t bytes = 0;
  std::string description;  // "float32 [n, d]"
};

Side take(py::handle obj, const std::string& name) {
  Side s;
  if (is_path(obj)) {
    s.path = path_of(obj);
    s.name = s.path;
    return s;
  }
  s.name = name;
  py::array a = py::array::ensure(obj);
  if (!a) throw Error(fmt::format("{}: expected a numpy array or a .npy path", name));
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw Error(fmt::format("{}: dtype {} is not a real number type; expected float32 or float16",
                            name, py::str(a.dtype()).cast<std::string>()));
  const bool c_order = (a.flags() & py::array::c_style) != 0;
  if (c_order && a.dtype().is(py::dtype::of<float>())) {
    s.array = a;
  } else if (c_order && a.dtype().kind() == 'f' && a.dtype().itemsize() == 2) {
    s.array = a;
    s.half = true;
  } else {  // the one copy: numpy converts to C-contiguous float32
    s.array = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
    if (!s.array) throw py::error_already_set();
  }
  s.data = s.array.data();
  for (py::ssize_t i = 0; i < s.array.ndim(); ++i) s.shape.push_back(s.array.shape(i));
  s.bytes = static_cast<size_t>(s.array.nbytes());
  s.description = fmt::format("{} [{}]", s.half ? "float16" : "float32", fmt::join(s.shape, ", "));
  return s;
}

// Without the GIL: the side as the library takes it, checked as the verbs check their files.
evaluation::Descriptors descriptors(const Side& s, const DescriptorExpectation& expect,
                                    bool record_input) {
  if (!s.path.empty()) {  // read (and checked) before it is hashed
    evaluation::Descriptors d =
        evaluation::Descriptors::from_array(read_descriptors(s.path, expect), s.path, {});
    if (record_input) d.input = evaluation::file_input(s.path);
    return d;
  }
  evaluation::Descriptors d;
  d.name = s.name;
  if (record_input) d.input = evaluation::array_input(s.data, s.bytes, s.description);
  if (s.half) {  // widened once, as the verbs widen float16 files
    auto a = std::make_shared<FloatArray>();
    a->shape = s.shape;
    int64_t n = 1;
    for (int64_t v : s.shape) n *= v;
    a->data.resize(static_cast<size_t>(n));
    half_to_float(s.data, a->data.data(), n);
    d.owned = std::move(a);
    d.view = *d.owned;
  } else {
    d.view = FloatView(static_cast<const float*>(s.data), s.shape);
  }
  check_descriptors(d.view, d.name, expect);
  return d;
}

// Both sides; the same array (or file) given twice is read once and stays one array.
std::pair<evaluation::Descriptors, evaluation::Descriptors> both(
    const Side& q, const Side& db, const DescriptorExpectation& qe,
    const DescriptorExpectation& dbe, bool record_input, bool same) {
  evaluation::Descriptors qd = descriptors(q, qe, record_input);
  last_pointers.queries_read = reinterpret_cast<uintptr_t>(q.path.empty() ? q.data : nullptr);
  last_pointers.database_read = reinterpret_cast<uintptr_t>(db.path.empty() ? db.data : nullptr);
  if (same) {
    evaluation::Descriptors dd = qd;
    dd.name = db.name;
    return {std::move(qd), std::move(dd)};
  }
  return {std::move(qd), descriptors(db, dbe, record_input)};
}

bool same_side(const Side& q, const Side& db, int64_t nq, int64_t nb) {
  if (!q.path.empty() || !db.path.empty())
    return !q.path.empty() && !db.path.empty() &&
           fs::path(q.path).lexically_normal() == fs::path(db.path).lexically_normal() &&
           nq == nb;
  return q.data == db.data && q.shape == db.shape && q.half == db.half;
}

void record_scored(const evaluation::PreparedPair& p) {
  last_pointers.queries_scored = reinterpret_cast<uintptr_t>(p.q.view.data);
  last_pointers.database_scored = reinterpret_cast<uintptr_t>(p.db.view.data);
}

template <class T>
py::array_t<T> vector_array(const std::vector<T>& v, std::vector<py::ssize_t> shape) {
  py::array_t<T> a(shape);
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

// One protocol's evaluation, as Python sees it.
struct Result {
  std::shared_ptr<const evaluation::DescriptorEvaluation> d;
  size_t i = 0;

  const evaluation::ProtocolEvaluation& p() const { return d->protocols[i]; }
  const evaluation::SetEvaluation& e() const { return p().evaluation; }

  py::object metric(const char* key) const {
    const nlohmann::json& m = e().metrics;
    return m.contains(key) ? to_python(m[key]) : py::none();
  }

  py::dict per_query() const {
    const metrics::EvalResult& r = e().result;
    const int64_t nq = static_cast<int64_t>(r.ap.size());
    auto rows = [nq](const std::vector<std::vector<double>>& v, size_t cols) {
      py::array_t<double> a(std::vector<py::ssize_t>{nq, static_cast<py::ssize_t>(cols)});
      double* out = a.mutable_data();
      for (int64_t q = 0; q < nq; ++q)
        std::copy(v[q].begin(), v[q].end(), out + q * static_cast<int64_t>(cols));
      return a;
    };
    py::dict out;
    out["ap"] = vector_array(r.ap, {nq});
    out["ks"] = e().options.ks;
    out["precision_at_k"] = rows(r.precision_at_k, e().options.ks.size());
    out["recall_ks"] = e().options.recall_ks;
    out["recall_at_k"] = rows(r.recall_at_k, e().options.recall_ks.size());
    out["reciprocal_rank"] = vector_array(r.reciprocal_rank, {nq});
    out["top_ids"] = vector_array(r.top_ids, {nq, r.top_k});
    out["images"] = e().query_images;
    return out;
  }
};

DescriptorExpectation any_rows() { return {-1, "", true}; }

py::object evaluate(py::handle queries, py::handle database, const std::string& set,
                    const py::object& gnd, const py::object& root, const py::object& protocol,
                    const py::object& model, const std::string& category, const py::object& ap,
                    const std::string& similarity, bool l2_normalize, bool no_query_crop,
                    const py::object& postprocess, const py::object& postprocess_train,
                    const py::object& postprocess_cache, const py::object& rerank, int bootstrap,
                    uint64_t seed, int threads, const std::string& candidates,
                    int64_t candidates_k, int64_t max_results, const py::object& score_norm_train,
                    const py::object& score_norm) {
  evaluation::DescriptorEvalRequest r;
  r.set = set;
  r.gnd = opt_path(gnd);
  r.root = opt_path(root);
  r.protocol = protocol.is_none() ? "" : protocol.cast<std::string>();
  r.category = category;
  if (!ap.is_none()) r.ap = datasets::parse_ap_kind(ap.cast<std::string>(), "--ap");
  r.similarity = evaluation::parse_similarity(similarity);
  r.l2_normalize = l2_normalize;
  r.no_query_crop = no_query_crop;
  r.postprocess = {postprocess.is_none() ? "" : postprocess.cast<std::string>(),
                   opt_path(postprocess_train), opt_path(postprocess_cache)};
  r.rerank = rerank.is_none() ? "" : rerank.cast<std::string>();
  r.bootstrap = bootstrap;
  r.seed = seed;
  r.threads = threads;
  r.copy_detection.candidates = candidates;
  r.copy_detection.k = candidates_k;
  r.copy_detection.max_results = max_results;
  r.copy_detection.score_norm_train = opt_path(score_norm_train);
  if (!score_norm.is_none()) {
    if (r.copy_detection.score_norm_train.empty())
      throw Error("--score-norm needs --score-norm-train (the training descriptors it normalises by)");
    r.copy_detection.score_norm = score_norm.cast<std::string>();
  }
  r.interrupt_check = interrupt_check();
  const Side q = take(queries, "queries");
  const Side db = take(database.is_none() ? queries : database, "database");
  if (!model.is_none())
    r.model = model.cast<std::string>();
  else
    r.model = q.path.empty() ? "model" : fs::path(q.path).stem().string();
  auto d = run_released([&] {
    const evaluation::EvalSetup setup = evaluation::setup_evaluation(r);
    auto [qd, dd] = both(q, db, setup.queries(), setup.database(), true,
                         same_side(q, db, static_cast<int64_t>(setup.first.queries.size()),
                                   static_cast<int64_t>(setup.first.db.size())));
    auto out = std::make_shared<const evaluation::DescriptorEvaluation>(
        evaluation::evaluate_descriptors(r, setup, std::move(qd), std::move(dd)));
    record_scored(out->pair);
    return out;
  });
  if (r.protocol == "all") {
    py::list results;
    for (size_t i = 0; i < d->protocols.size(); ++i) results.append(Result{d, i});
    return results;
  }
  return py::cast(Result{d, 0});
}

py::tuple search(py::handle queries, py::handle database, int64_t k,
                 const std::string& similarity, bool l2_normalize, const py::object& postprocess,
                 const py::object& postprocess_train, const py::object& postprocess_cache,
                 int threads, const std::string& precision) {
  evaluation::SearchRequest r;
  r.k = k;
  r.precision = metrics::parse_precision(precision);
  r.pair.similarity = evaluation::parse_similarity(similarity);
  r.pair.l2_normalize = l2_normalize;
  r.pair.postprocess = {postprocess.is_none() ? "" : postprocess.cast<std::string>(),
                        opt_path(postprocess_train), opt_path(postprocess_cache)};
  r.pair.threads = threads;
  r.Check();
  const Side q = take(queries, "queries");
  const Side db = take(database, "database");
  evaluation::SearchResult s = run_released([&] {
    auto [qd, dd] = both(q, db, any_rows(), any_rows(), false, same_side(q, db, 0, 0));
    evaluation::SearchResult out = scan::search_descriptors(r, std::move(qd), std::move(dd));
    record_scored(out.pair);
    return out;
  });
  const metrics::TopKResult& t = s.topk;
  return py::make_tuple(vector_array(t.ids, {t.nq, t.k}), vector_array(t.scores, {t.nq, t.k}));
}

py::object compare(py::handle a, py::handle b, int resamples, int64_t permutations, uint64_t seed,
                   int threads) {
  metrics::PairedOptions o;
  o.resamples = resamples;
  o.permutations = permutations;
  o.seed = seed;
  o.threads = threads;
  const std::string pa = path_of(a), pb = path_of(b);
  const std::string text = run_released([&] {
    const report::Comparison c = report::compare_records(pa, pb, o);
    return report::render_comparison(c, report::CompareFormat::kJson);
  });
  return py::module_::import("json").attr("loads")(text);
}

struct LeaderboardResult {
  std::string text, format, check_text;
  bool checked = false, passed = true;
  std::vector<std::string> notes;
  std::string cd_diagram_note;
};

LeaderboardResult leaderboard(const py::object& records, const py::object& scores,
                              const std::string& format, const py::object& out,
                              const py::object& check, const py::object& tolerance,
                              bool significant_only, bool within_interval, bool allow_improved,
                              double alpha, int64_t permutations, uint64_t seed,
                              const py::object& reference, bool reference_synthetic,
                              int rank_resamples, const py::object& cd_diagram) {
  report::LeaderboardRequest r;
  if (!records.is_none()) {
    if (is_path(records)) {
      r.records.push_back(path_of(records));
    } else {
      for (py::handle h : records) r.records.push_back(path_of(h));
    }
  }
  r.scores = opt_path(scores);
  r.format = format;
  r.out = opt_path(out);
  r.check = opt_path(check);
  if (significant_only && within_interval)
    throw Error("significant_only and within_interval exclude each other");
  if (significant_only && !tolerance.is_none())
    throw Error("significant_only and tolerance exclude each other");
  if (!tolerance.is_none() && tolerance.cast<double>() < 0)
    throw Error(fmt::format("tolerance must be at least 0; got {}", tolerance.cast<double>()));
  report::CheckOptions& o = r.check_options;
  o.rule = significant_only       ? report::CheckRule::kSignificant
           : within_interval      ? report::CheckRule::kWithinInterval
           : !tolerance.is_none() ? report::CheckRule::kTolerance
                                  : report::CheckRule::kExact;
  o.tolerance_percent = tolerance.is_none() ? 0.0 : tolerance.cast<double>();
  o.allow_improved = allow_improved;
  o.alpha = alpha;
  o.paired.permutations = permutations;
  o.paired.seed = seed;
  r.reference = opt_path(reference);
  r.reference_synthetic = reference_synthetic;
  r.rank_resamples = rank_resamples;
  r.seed = seed;
  r.cd_diagram = opt_path(cd_diagram);
  return run_released([&] {
    const report::LeaderboardOutcome o = report::run_leaderboard(r);
    if (!r.out.empty()) write_file_atomic(r.out, o.text);
    LeaderboardResult l;
    l.text = o.text;
    l.format = r.format;
    l.checked = o.checked;
    l.passed = !o.checked || !o.check.failed();
    l.check_text = o.check_text;
    l.notes = o.board.notes;
    l.cd_diagram_note = o.cd_diagram_note;
    return l;
  });
}

}  // namespace

PYBIND11_MODULE(_repbench, m) {
  m.doc() = "repbench's compiled core: see the package `repbench` for the documentation.";
  m.attr("__version__") = repbench::version();
  static py::exception<repbench::Error> error(m, "Error", PyExc_ValueError);
  error.doc() =
      "Bad input (a missing or corrupt file, a wrong shape, NaN, an unknown name): the one-line "
      "message `repbench` prints after 'repbench: error: '. A ValueError.";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const repbench::Error& e) {
      error(e.what());
    }
  });

  py::class_<Result>(m, "Result", R"doc(One protocol's evaluation, as `repbench eval` computes it.

Attributes: set, protocol, model, map (float, a fraction), map_ci95 ((low, high) or None),
mp_at_k ({k: mP@k}), metrics (the record's "metrics" dict), per_query (numpy arrays, one row per
query), micro_ap / micro_ap_sn / recall_at_p90 (copy-detection sets, else None).
write(path) writes the record `repbench eval --out` writes.)doc")
      .def_property_readonly(
          "set", [](const Result& r) { return r.p().set.name; }, "The set's name.")
      .def_property_readonly(
          "protocol", [](const Result& r) { return r.p().set.protocol; }, "The protocol.")
      .def_property_readonly(
          "model", [](const Result& r) { return r.d->header.model["name"].get<std::string>(); },
          "The model name the record carries.")
      .def_property_readonly(
          "map", [](const Result& r) { return r.e().result.map; },
          "mAP (a fraction, not percent): the record's metrics.map.")
      .def_property_readonly(
          "map_ci95",
          [](const Result& r) -> py::object {
            const metrics::EvalResult& x = r.e().result;
            if (std::isnan(x.map_ci_low)) return py::none();
            return py::make_tuple(x.map_ci_low, x.map_ci_high);
          },
          "The bootstrap 95% interval of map as (low, high), or None without bootstrap.")
      .def_property_readonly(
          "mp_at_k",
          [](const Result& r) {
            py::dict d;
            for (size_t j = 0; j < r.e().options.ks.size(); ++j)
              d[py::int_(r.e().options.ks[j])] = r.e().result.mp_at_k[j];
            return d;
          },
          "Mean precision at each k of the set's metric: {k: value}.")
      .def_property_readonly(
          "metrics", [](const Result& r) { return to_python(r.e().metrics); },
          "The record's \"metrics\" block as a dict (NaN written as None).")
      .def_property_readonly(
          "options",
          [](const Result& r) {
            nlohmann::json o = r.d->header.options;
            o.update(r.e().options_json);
            return to_python(o);
          },
          "The record's \"options\" block as a dict.")
      .def_property_readonly("per_query", &Result::per_query,
                             R"doc(Per-query results, one row per query in the set's order:
"ap" (float64 [nq], NaN for a query left out: no positive under the protocol),
"precision_at_k" (float64 [nq, len(ks)]) with "ks", "recall_at_k" (float64 [nq, len(recall_ks)])
with "recall_ks", "reciprocal_rank" (float64 [nq]), "top_ids" (int64 [nq, k], best first) and
"images" (the query image names). New arrays at every access.)doc")
      .def_property_readonly(
          "micro_ap", [](const Result& r) { return r.metric("micro_ap"); },
          "Copy-detection sets: micro-AP (µAP) over the pooled predictions; else None.")
      .def_property_readonly(
          "micro_ap_sn", [](const Result& r) { return r.metric("micro_ap_sn"); },
          "Copy-detection sets with score_norm_train: µAP after score normalisation; else None.")
      .def_property_readonly(
          "recall_at_p90", [](const Result& r) { return r.metric("recall_at_p90"); },
          "Copy-detection sets: recall at precision 0.9; else None.")
      .def(
          "write",
          [](const Result& r, const py::object& path) {
            const std::string p = path_of(path);
            run_released([&] { r.d->write_record(r.i, p); });
          },
          py::arg("path"),
          R"doc(Writes the record `repbench eval --out PATH` writes (schema repbench.record/2,
with its per-query results and top-ids file beside it; for copy-detection sets the predictions
CSVs too), atomically. Raises repbench.Error and writes nothing when it cannot.)doc")
      .def("__repr__", [](const Result& r) {
        return fmt::format("<repbench.Result {} {} model={} mAP={:.4f}>", r.p().set.name,
                           r.p().set.protocol, r.d->header.model["name"].get<std::string>(),
                           r.e().result.map);
      });

  m.def("evaluate", &evaluate, py::arg("queries"), py::arg("database") = py::none(),
        py::kw_only(), py::arg("set"), py::arg("gnd") = py::none(), py::arg("root") = py::none(),
        py::arg("protocol") = py::none(), py::arg("model") = py::none(),
        py::arg("category") = "other", py::arg("ap") = py::none(),
        py::arg("similarity") = "auto", py::arg("l2_normalize") = false,
        py::arg("no_query_crop") = false, py::arg("postprocess") = py::none(),
        py::arg("postprocess_train") = py::none(), py::arg("postprocess_cache") = py::none(),
        py::arg("rerank") = py::none(), py::arg("bootstrap") = 1000, py::arg("seed") = 0,
        py::arg("threads") = 0, py::arg("candidates") = "knn", py::arg("candidates_k") = 0,
        py::arg("max_results") = 500000, py::arg("score_norm_train") = py::none(),
        py::arg("score_norm") = py::none(),
        R"doc(Scores descriptors on a retrieval set exactly as `repbench eval` does.

queries, database: numpy arrays [n, d] or token arrays [n, tokens, d] (rows in the set's query /
database order), or paths of .npy files; database=None (or the same array) for a leave-in set
(GPR1200, CUB), scored once. C-contiguous float32 and float16 arrays are read where they lie, no
copy (float16 is widened to float32 once, as the command line widens float16 files); any other
dtype or layout is converted to C-contiguous float32 with one copy. A step that changes values
(l2_normalize, split-product, postprocess, rerank) works on one copy: your arrays are never
changed.
set: a registered set ("roxford5k", "rparis6k", "gpr1200", "cub200", "instre", "disc21",
"copydays", ...: repbench.datasets.list()) or a gnd.json path; gnd / root: as --gnd / --root.
protocol: None = the set's default; "all" returns a list of Result, one per protocol.
The other keywords are `repbench eval`'s options: model, category, ap ("trapezoid",
"non-interpolated"), similarity ("auto", "inner-product", "split-product"), l2_normalize,
no_query_crop, postprocess / postprocess_train / postprocess_cache (a FAISS chain such as
"PCAW512,L2norm" and its training .npy), rerank ("aqe:k=2,alpha=3", "dba:...;aqe:..."),
bootstrap, seed, threads (0 = all cores), and for copy-detection sets candidates, candidates_k,
max_results, score_norm_train, score_norm.
The GIL is released while it runs; Ctrl-C raises KeyboardInterrupt.
Raises repbench.Error with the command line's one-line message on bad input.)doc");

  m.def("search", &search, py::arg("queries"), py::arg("database"), py::arg("k") = 10,
        py::kw_only(), py::arg("similarity") = "auto", py::arg("l2_normalize") = false,
        py::arg("postprocess") = py::none(), py::arg("postprocess_train") = py::none(),
        py::arg("postprocess_cache") = py::none(), py::arg("threads") = 0,
        py::arg("precision") = "auto",
        R"doc(Exact top-k search as `repbench search` runs it: returns (ids, scores), numpy
int64 and float32 arrays [nq, k], best first; equal scores ordered by ascending database index;
rows with fewer than k items end in id -1, score -inf. Arrays as in evaluate() (float32 /
float16 C-contiguous: no copy; others: one copy), or .npy paths. Token arrays [n, tokens, d] are
scored by split-product unless similarity="inner-product". precision ("auto", "fp32", "bf16")
picks the candidate pass's arithmetic; every candidate that could be in the top k is rescored
exactly, so it changes the time, never the result. The GIL is released while it runs.)doc");

  m.def("compare", &compare, py::arg("a"), py::arg("b"), py::kw_only(),
        py::arg("resamples") = 10000, py::arg("permutations") = 100000, py::arg("seed") = 0,
        py::arg("threads") = 0,
        R"doc(Is model A better than model B on the same queries? Two records (or two folders of
one model's records) as `repbench compare A B --format json` compares them; returns what it
prints, as a dict (paired mAP difference, bootstrap interval, sign-flip p-value, Holm across
sets). Raises repbench.Error when the records cannot be compared.)doc");

  py::class_<LeaderboardResult>(m, "Leaderboard",
                                "A rendered leaderboard (repbench.leaderboard()); str() is the table.")
      .def_readonly("text", &LeaderboardResult::text, "The table in the format asked for.")
      .def_readonly("format", &LeaderboardResult::format, "md, csv, tex, html or json.")
      .def_readonly("checked", &LeaderboardResult::checked, "Whether a baseline was checked.")
      .def_readonly("passed", &LeaderboardResult::passed,
                    "False when the check failed (the verb's exit status 1); True otherwise.")
      .def_readonly("check_report", &LeaderboardResult::check_text,
                    "The check's report (JSON text when format is json), as the verb prints it.")
      .def_readonly("notes", &LeaderboardResult::notes, "The board's notes.")
      .def_readonly("cd_diagram_note", &LeaderboardResult::cd_diagram_note,
                    "Why no critical-difference diagram was drawn when one was asked for.")
      .def("__str__", [](const LeaderboardResult& l) { return l.text; })
      .def("_repr_markdown_",
           [](const LeaderboardResult& l) -> py::object {
             if (l.format == "md") return py::str(l.text);
             return py::none();
           })
      .def("_repr_html_", [](const LeaderboardResult& l) -> py::object {
        if (l.format == "html") return py::str(l.text);
        return py::none();
      });

  m.def("leaderboard", &leaderboard, py::arg("records") = py::none(), py::kw_only(),
        py::arg("scores") = py::none(), py::arg("format") = "md", py::arg("out") = py::none(),
        py::arg("check") = py::none(), py::arg("tolerance") = py::none(),
        py::arg("significant_only") = false, py::arg("within_interval") = false,
        py::arg("allow_improved") = false, py::arg("alpha") = 0.05,
        py::arg("permutations") = 100000, py::arg("seed") = 0, py::arg("reference") = py::none(),
        py::arg("reference_synthetic") = false, py::arg("rank_resamples") = 1000,
        py::arg("cd_diagram") = py::none(),
        R"doc(Renders result records as `repbench leaderboard` does and returns a Leaderboard.

records: a record file or folder, or a list of them (write Results with Result.write first);
or scores=: a long-format CSV. format: md, csv, tex, html or json. out: also write the table
there (atomically). check: a baseline leaderboard (csv or json): the Leaderboard's passed is
False where the verb exits 1; the rules are tolerance (percentage points), significant_only,
within_interval, allow_improved, alpha, permutations, seed. reference: published rows to rank
among (reference_synthetic to compare synthetic columns too); rank_resamples; cd_diagram: PREFIX
of the critical-difference diagram's .svg and .png. Raises repbench.Error on unreadable input.)doc");

  py::module_ ds = m.def_submodule("datasets", "The sets repbench knows (`repbench datasets`).");
  ds.def(
      "list",
      [] {
        py::list out;
        for (const auto& s : datasets::known_sets()) out.append(to_python(datasets::set_info_json(s)));
        return out;
      },
      "Every registered set as a dict: name, description, protocols, default_protocol, "
      "db_images, queries (-1 = varies), files, metric (`repbench datasets list`).");
  ds.def(
      "info",
      [](const std::string& set, const py::object& root, const py::object& gnd,
         const py::object& protocol) {
        const std::string r = opt_path(root), g = opt_path(gnd);
        const std::string p = protocol.is_none() ? "" : protocol.cast<std::string>();
        const nlohmann::json j = run_released([&] {
          return datasets::set_summary_json(datasets::load_set({set, p, r, g}));
        });
        return to_python(j);
      },
      py::arg("set"), py::kw_only(), py::arg("root") = py::none(), py::arg("gnd") = py::none(),
      py::arg("protocol") = py::none(),
      "A set on disk under a protocol, as `repbench datasets info --json` prints it (counts, "
      "root, metric). Raises repbench.Error when it cannot be read.");
  ds.def("protocols", &datasets::protocols_for, py::arg("set"),
         "The protocols of a registered set (or of a gnd.json), default first.");

  m.def(
      "_debug_last_pointers",
      [] {
        py::dict d;
        d["queries_read"] = last_pointers.queries_read;
        d["database_read"] = last_pointers.database_read;
        d["queries_scored"] = last_pointers.queries_scored;
        d["database_scored"] = last_pointers.database_scored;
        return d;
      },
      "For tests of zero copy: the addresses this thread's last evaluate() or search() read each "
      "side's values from (0 for a file) and the addresses it scored.");
}
