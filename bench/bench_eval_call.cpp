// The C++ side of bench/python_overhead.py: evaluation::evaluate_descriptors() called directly on
// a leave-in array already in memory, as repbench.evaluate(X, set=GND) calls it from Python (the
// set loaded, the array checked and hashed, the SYRK scores, evaluate(), the bootstrap).
//   bench_eval_call GND.json X.npy REPS
// Prints one JSON line: {"seconds": [one per repetition], "map": ...}; a first, untimed call
// warms the process (page faults of the n x n scores, the allocator), as the Python side's
// warm-up call does.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/elapsed.h"
#include "core/error.h"
#include "core/npy.h"
#include "evaluation/descriptor_eval.h"

int main(int argc, char** argv) {
  using namespace repbench;
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_eval_call GND.json X.npy REPS\n");
    return 2;
  }
  try {
    const FloatArray x = read_npy_float(argv[2]);
    const int reps = std::stoi(argv[3]);
    std::vector<double> seconds;
    double map = 0;
    for (int i = 0; i <= reps; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      evaluation::DescriptorEvalRequest r;
      r.set = argv[1];
      r.model = "model";
      const evaluation::EvalSetup setup = evaluation::setup_evaluation(r);
      evaluation::Descriptors q;
      q.view = x;
      q.name = "queries";
      q.input = evaluation::array_input(x.data.data(), x.data.size() * sizeof(float),
                                        fmt::format("float32 [{}]", fmt::join(x.shape, ", ")));
      check_descriptors(q.view, q.name, setup.queries());
      evaluation::Descriptors db = q;
      db.name = "database";
      const evaluation::DescriptorEvaluation d =
          evaluation::evaluate_descriptors(r, setup, std::move(q), std::move(db));
      if (i > 0)
        seconds.push_back(
            repbench::seconds_since(t0));
      map = d.protocols.at(0).evaluation.result.map;
    }
    fmt::print("{{\"seconds\": [{}], \"map\": {:.17g}}}\n", fmt::join(seconds, ", "), map);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_eval_call: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
