#include "records/record_envelope.h"

#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "core/error.h"
#include "core/version.h"

namespace repbench::records {

namespace {

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

nlohmann::json record_context() {
  nlohmann::json context = version_info();
  context["date"] = utc_now_iso8601();
  context["host"] = hostname();
  // How libgomp's idle threads waited (app/main.cpp restarts LibTorch verbs with "passive"
  // unless the user chose).
  const char* omp = std::getenv("OMP_WAIT_POLICY");
  context["omp_wait_policy"] = omp ? nlohmann::json(omp) : nlohmann::json(nullptr);
  return context;
}

nlohmann::json record_envelope(const std::string& schema, nlohmann::json timings) {
  REPBENCH_ASSERT(timings.is_object());
  return {{"schema", schema}, {"context", record_context()}, {"timings", std::move(timings)}};
}

}  // namespace repbench::records
