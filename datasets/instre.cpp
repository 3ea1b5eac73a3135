#include "datasets/instre.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "datasets/mat_reader.h"

namespace repbench::datasets {

RetrievalSet load_instre(const std::string& gnd_mat, const std::string& image_root) {
  MatFile mat(gnd_mat);
  const std::vector<std::string> vars = mat.variables();
  for (const char* need : {"imlist", "qimlist", "gnd"}) {
    if (std::find(vars.begin(), vars.end(), need) == vars.end()) {
      std::string found;
      for (const auto& v : vars) found += (found.empty() ? "" : ", ") + v;
      fail("{}: expected variables imlist, qimlist and gnd; '{}' is missing (found: {})", gnd_mat,
           need, found.empty() ? "none" : found);
    }
  }
  RetrievalSet set;
  set.name = "instre";
  set.protocol = "default";
  set.root = image_root;
  set.source = gnd_mat;
  set.db = mat.read_string_cell("imlist");
  const std::vector<std::string> qimlist = mat.read_string_cell("qimlist");
  const auto ok = mat.read_struct_numeric_field("gnd", "ok");
  const auto bbx = mat.read_struct_numeric_field("gnd", "bbx");
  if (ok.size() != qimlist.size())
    fail("{}: gnd has {} entries but qimlist has {} queries", gnd_mat, ok.size(), qimlist.size());
  const int64_t nb = static_cast<int64_t>(set.db.size());
  set.queries.resize(qimlist.size());
  for (size_t i = 0; i < qimlist.size(); ++i) {
    Query& q = set.queries[i];
    q.image = qimlist[i];
    q.ok.reserve(ok[i].size());
    for (double v : ok[i]) {
      if (v != std::floor(v) || v < 1 || v > static_cast<double>(nb))
        fail("{}: gnd({}).ok holds {}, not a 1-based index into imlist (1..{})", gnd_mat, i + 1, v,
             nb);
      q.ok.push_back(static_cast<int64_t>(v) - 1);
    }
    std::sort(q.ok.begin(), q.ok.end());
    if (std::adjacent_find(q.ok.begin(), q.ok.end()) != q.ok.end())
      fail("{}: gnd({}).ok lists an image twice", gnd_mat, i + 1);
    if (bbx[i].size() != 4)
      fail("{}: gnd({}).bbx has {} values; expected 4 (x1 y1 x2 y2)", gnd_mat, i + 1,
           bbx[i].size());
    q.bbx = std::array<double, 4>{bbx[i][0], bbx[i][1], bbx[i][2], bbx[i][3]};
  }
  set.Check();
  return set;
}

}  // namespace repbench::datasets
