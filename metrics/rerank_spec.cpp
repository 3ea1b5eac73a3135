// The re-ranking string's parser and canonical spelling (metrics/rerank.h), apart from the
// GEMM code so that suite files and the fuzz target need only this file.
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/parse_list.h"
#include "metrics/rerank.h"

namespace repbench::metrics {

namespace {

constexpr int64_t kMaxK = 10000;
constexpr double kMaxAlpha = 100;

RerankStep parse_step(const std::string& text, const std::string& params, const std::string& whole) {
  auto bad = [&](const std::string& why) -> RerankStep {
    fail("--rerank '{}': {}; expected e.g. 'aqe:k=2,alpha=3' or 'dba:k=2,alpha=3;aqe:k=2,alpha=3'",
         whole, why);
  };
  RerankStep step;
  bool have_k = false, have_alpha = false;
  for (const std::string& p : split_fields(params, ',')) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos) return bad(fmt::format("'{}' in '{}' is not NAME=VALUE", p, text));
    const std::string name = p.substr(0, eq), value = p.substr(eq + 1);
    const char* first = value.data();
    const char* last = value.data() + value.size();
    if (name == "k" && !have_k) {
      const auto r = std::from_chars(first, last, step.k);
      if (value.empty() || r.ec != std::errc() || r.ptr != last || step.k < 1 || step.k > kMaxK)
        return bad(fmt::format("k '{}' in '{}' is not an integer in [1, {}]", value, text, kMaxK));
      have_k = true;
    } else if (name == "alpha" && !have_alpha) {
      const auto r = std::from_chars(first, last, step.alpha);
      if (value.empty() || r.ec != std::errc() || r.ptr != last || !std::isfinite(step.alpha) ||
          step.alpha < 0 || step.alpha > kMaxAlpha)
        return bad(fmt::format("alpha '{}' in '{}' is not a number in [0, {}]", value, text,
                               kMaxAlpha));
      have_alpha = true;
    } else {
      return bad(fmt::format("'{}' in '{}' is not k or alpha, or is given twice", name, text));
    }
  }
  if (!have_k || !have_alpha) return bad(fmt::format("'{}' needs both k and alpha", text));
  return step;
}

}  // namespace

std::string RerankSpec::to_string() const {
  std::string s;
  auto add = [&](const char* kind, const RerankStep& st) {
    if (!s.empty()) s += ';';
    s += fmt::format("{}:k={},alpha={}", kind, st.k, st.alpha);
  };
  if (dba) add("dba", *dba);
  if (aqe) add("aqe", *aqe);
  return s;
}

RerankSpec parse_rerank(const std::string& text) {
  RerankSpec spec;
  if (text.empty())
    fail("--rerank '': empty; expected e.g. 'aqe:k=2,alpha=3' or 'dba:k=2,alpha=3;aqe:k=2,alpha=3'");
  for (const std::string& step : split_fields(text, ';')) {
    const size_t colon = step.find(':');
    const std::string kind = step.substr(0, colon);
    if (colon == std::string::npos || (kind != "dba" && kind != "aqe"))
      fail("--rerank '{}': step '{}' is not 'dba:...' or 'aqe:...'; expected e.g. "
           "'dba:k=2,alpha=3;aqe:k=2,alpha=3'",
           text, step);
    std::optional<RerankStep>& slot = kind == "dba" ? spec.dba : spec.aqe;
    if (slot) fail("--rerank '{}': {} is given twice", text, kind);
    slot = parse_step(step, step.substr(colon + 1), text);
  }
  return spec;
}

}  // namespace repbench::metrics
