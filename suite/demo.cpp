#include "suite/demo.h"

#include <filesystem>

#include <fmt/format.h>

#include "datasets/demo_pool.h"

namespace fs = std::filesystem;

namespace repbench::suite {

Suite prepare_demo(const DemoOptions& o) {
  const fs::path out(o.out);
  const std::string pool_dir = o.pool_dir.empty() ? datasets::default_pool_dir() : o.pool_dir;
  const std::string pool = (out / "pool").string();
  datasets::stage_demo_pool(pool_dir, pool);
  const datasets::RetrievalSet pairs = datasets::write_demo_pairs_set(pool);

  Suite s;
  s.output = o.out;
  s.seed = o.seed;
  s.threads = o.threads;
  s.batch_size = 16;
  for (const char* spec : {"builtin:tiny", "builtin:colorhist", "builtin:dct", "builtin:patches",
                           "builtin:randcnn"})
    s.models.push_back({spec, "", "", nlohmann::json::object()});
  s.sets.push_back({pairs.source, "", "", {}});
  return s;
}

SuiteRunResult run_demo(const DemoOptions& options) {
  const Suite s = prepare_demo(options);
  return run_suite(s, {options.quiet});
}

}  // namespace repbench::suite
