#include "metrics/score_norm.h"

#include <cmath>
#include <regex>

#include "core/error.h"
#include "metrics/topk.h"

namespace repbench::metrics {

ScoreNormSpec parse_score_norm(const std::string& text, const std::string& what) {
  static const std::regex kSscd(R"(\s*([-+0-9.eE]+)\s*\[\s*(\d+)\s*(?:,\s*(\d+)\s*)?\]\s*)");
  static const std::regex kIsc(R"(\s*isc2021\s*:\s*n\s*=\s*(\d+)\s*(?:,\s*factor\s*=\s*([-+0-9.eE]+)\s*)?)");
  ScoreNormSpec s;
  s.text = text;
  std::smatch m;
  auto number = [&](const std::string& v) {
    try {
      size_t used = 0;
      const double x = std::stod(v, &used);
      if (used == v.size() && std::isfinite(x)) return x;
    } catch (const std::exception&) {
    }
    fail("{} '{}': weight '{}' is not a finite number", what, text, v);
  };
  auto rank = [&](const std::string& v) {
    if (v.size() > 9) fail("{} '{}': rank {} is too large", what, text, v);
    return static_cast<int64_t>(std::stoll(v));
  };
  if (std::regex_match(text, m, kSscd)) {
    s.form = "sscd";
    s.weight = number(m[1].str());
    s.first = rank(m[2].str());
    s.last = m[3].matched ? rank(m[3].str()) : s.first;
  } else if (std::regex_match(text, m, kIsc)) {
    s.form = "isc2021";
    const int64_t n = rank(m[1].str());
    if (n < 1) fail("{} '{}': n must be at least 1 (the n-th training neighbour)", what, text);
    s.first = s.last = n - 1;
    s.weight = m[2].matched ? number(m[2].str()) : 1.0;
  } else {
    fail("{} '{}' is not WEIGHT[FIRST,LAST] (SSCD, e.g. 1.0[0,2]) or isc2021:n=N[,factor=F]",
         what, text);
  }
  if (s.last < s.first)
    fail("{} '{}': the last rank {} is before the first {}", what, text, s.last, s.first);
  return s;
}

std::vector<float> score_norm_offsets(const ScoreSource& query_vs_train, const ScoreNormSpec& spec,
                                      int threads) {
  const int64_t k = spec.last + 1;
  if (query_vs_train.nb() < k)
    fail("score normalisation '{}' needs at least {} training descriptors; there are {}",
         spec.text, k, query_vs_train.nb());
  const TopKResult t = search_topk(query_vs_train, k, threads);
  std::vector<float> offset(static_cast<size_t>(t.nq));
  for (int64_t q = 0; q < t.nq; ++q) {
    double sum = 0;
    for (int64_t j = spec.first; j <= spec.last; ++j) sum += t.scores[q * k + j];
    offset[q] = static_cast<float>(spec.weight * sum / static_cast<double>(spec.last - spec.first + 1));
  }
  return offset;
}

OffsetScores::OffsetScores(const ScoreSource& base, const std::vector<float>& offset)
    : base_(base), offset_(offset) {
  if (static_cast<int64_t>(offset.size()) != base.nq())
    fail("score normalisation: {} offsets for {} queries", offset.size(), base.nq());
}

void OffsetScores::compute(int64_t q0, int64_t qn, int64_t b0, int64_t bn, float* out,
                           int64_t ld) const {
  base_.compute(q0, qn, b0, bn, out, ld);
  for (int64_t i = 0; i < qn; ++i) {
    const float o = offset_[q0 + i];
    float* row = out + i * ld;
    for (int64_t j = 0; j < bn; ++j) row[j] -= o;
  }
}

std::vector<Prediction> offset_predictions(std::vector<Prediction> predictions,
                                           const std::vector<float>& offset) {
  for (Prediction& p : predictions) p.score -= offset[p.query];
  return predictions;
}

}  // namespace repbench::metrics
