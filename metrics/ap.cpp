#include "metrics/ap.h"

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace repbench::metrics {

QueryMetrics score_query(std::vector<int64_t> ok_positions, std::vector<int64_t> junk_positions,
                         int64_t n_ok, ApKind kind, const std::vector<int>& ks,
                         const std::vector<int>& recall_ks, RecallKind recall_kind) {
  for (int k : ks)
    if (k < 1) fail("precision@k: expected k >= 1, found {}", k);
  for (int k : recall_ks)
    if (k < 1) fail("Recall@K: expected K >= 1, found {}", k);
  QueryMetrics r;
  if (n_ok <= 0) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    r.ap = nan;
    r.precision_at_k.assign(ks.size(), nan);
    r.recall_at_k.assign(recall_ks.size(), nan);
    r.reciprocal_rank = nan;
    return r;
  }
  // Positions of items listed twice collapse to one, as np.in1d does.
  auto sort_unique = [](std::vector<int64_t>& v, const char* what) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    if (!v.empty() && v.front() < 0) fail("{} position {} is negative", what, v.front());
  };
  sort_unique(ok_positions, "ok");
  sort_unique(junk_positions, "junk");
  std::vector<int64_t>& pos = ok_positions;
  if (static_cast<int64_t>(pos.size()) > n_ok)
    fail("{} distinct ok positions but only n_ok = {} ok items", pos.size(), n_ok);
  // DCR's MRR looks at the raw ranking, before junk removal.
  r.reciprocal_rank = pos.empty() ? 0.0 : 1.0 / static_cast<double>(pos.front() + 1);

  // Junk removal: move each positive up by the number of junk items strictly above it.
  size_t ij = 0;
  for (int64_t& p : pos) {
    while (ij < junk_positions.size() && junk_positions[ij] < p) ++ij;
    p -= static_cast<int64_t>(ij);
  }

  double ap = 0;
  for (size_t j = 0; j < pos.size(); ++j) {
    const double r = static_cast<double>(pos[j]);
    const double p1 = static_cast<double>(j + 1) / (r + 1);
    if (kind == ApKind::kTrapezoid) {
      const double p0 = pos[j] == 0 ? 1.0 : static_cast<double>(j) / r;
      ap += (p0 + p1) / 2;
    } else {
      ap += p1;
    }
  }
  r.ap = ap / static_cast<double>(n_ok);

  r.precision_at_k.resize(ks.size());
  for (size_t i = 0; i < ks.size(); ++i) {
    if (pos.empty()) {
      r.precision_at_k[i] = 0;
      continue;
    }
    const int64_t kq = std::min<int64_t>(pos.back() + 1, ks[i]);
    // 1-based rank pos + 1 <= kq  <=>  pos < kq; pos is sorted.
    const auto hits = std::lower_bound(pos.begin(), pos.end(), kq) - pos.begin();
    r.precision_at_k[i] = static_cast<double>(hits) / static_cast<double>(kq);
  }
  r.recall_at_k.resize(recall_ks.size());
  for (size_t i = 0; i < recall_ks.size(); ++i) {
    if (recall_kind == RecallKind::kHit) {
      r.recall_at_k[i] = !pos.empty() && pos.front() < recall_ks[i] ? 1.0 : 0.0;
    } else {
      const auto within = std::lower_bound(pos.begin(), pos.end(), recall_ks[i]) - pos.begin();
      r.recall_at_k[i] = static_cast<double>(within) / static_cast<double>(n_ok);
    }
  }
  return r;
}

}  // namespace repbench::metrics
