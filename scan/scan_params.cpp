#include "scan/scan_params.h"

#include <algorithm>
#include <exception>

#include "core/error.h"

namespace repbench::scan {

void ScanParams::Check() const {
  if (k < 1) fail("--k {} must be >= 1", k);
  if (thresholds.empty()) fail("give at least one --threshold");
  for (double t : thresholds)
    if (!(t >= -1 && t <= 1))
      fail("--threshold {} is outside [-1, 1] (scores are cosine similarities)", t);
  if (!(dup_threshold >= -1 && dup_threshold <= 1))
    fail("--dup-threshold {} is outside [-1, 1] (scores are cosine similarities)", dup_threshold);
  if (baseline_sample < 0) fail("--baseline-sample {} is negative", baseline_sample);
  if (duplicate_cap < 1) fail("duplicate cap {} must be >= 1", duplicate_cap);
  if (duplicate_sample < -1)
    fail("--duplicate-sample {} must be >= 0, or -1 for every generation", duplicate_sample);
  index.Check();
}

std::vector<double> parse_thresholds(const std::vector<std::string>& texts) {
  std::vector<double> out;
  for (const auto& text : texts) {
    size_t start = 0;
    while (start <= text.size()) {
      const size_t comma = std::min(text.find(',', start), text.size());
      const std::string item = text.substr(start, comma - start);
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(item, &used);
      } catch (const std::exception&) {
        used = std::string::npos;
      }
      if (item.empty() || used != item.size())
        fail("--threshold '{}' is not a number (or a comma-separated list of numbers)", text);
      out.push_back(v);
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace repbench::scan
