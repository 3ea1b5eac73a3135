#include "core/version.h"

#include <ctime>

#include <faiss/Index.h>
#include <opencv2/core/version.hpp>
#include <torch/version.h>

#include <fmt/format.h>

namespace repbench {

const char* version() { return REPBENCH_VERSION; }

nlohmann::json version_info() {
  return {
      {"repbench", version()},
      {"git_commit", git_commit()},
      {"libtorch", TORCH_VERSION},
      {"opencv", CV_VERSION},
      {"faiss", fmt::format("{}.{}.{}", FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR,
                            FAISS_VERSION_PATCH)},
      {"compiler", fmt::format("gcc {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__)},
  };
}

std::string version_text() {
  auto v = version_info();
  return fmt::format("repbench {} (commit {})\nLibTorch {}\nOpenCV {}\nFAISS {}\n",
                     v["repbench"].get<std::string>(), v["git_commit"].get<std::string>(),
                     v["libtorch"].get<std::string>(), v["opencv"].get<std::string>(),
                     v["faiss"].get<std::string>());
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace repbench
