#include "datasets/revisitop.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "core/error.h"
#include "datasets/pickle.h"

namespace repbench::datasets {

namespace {

// Raw per-query annotation, before a protocol combines the lists.
struct RawQuery {
  std::array<double, 4> bbx;
  std::vector<int64_t> easy, hard, junk;
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

class GndReader {
 public:
  explicit GndReader(const std::string& path) : path_(path) {}

  const PyValue& key(const PyValue& dict, const std::string& where, const char* name) {
    const PyValue* v = dict.find(name);
    if (!v) fail("{}: missing '{}' key in {}", path_, name, where);
    return *v;
  }

  const PyValue::List& sequence(const PyValue& v, const std::string& where) {
    if (!v.is_sequence()) fail("{}: {} is a {}, expected a list", path_, where, v.type_name());
    return v.items();
  }

  std::vector<std::string> names(const PyValue& v, const std::string& where) {
    const auto& items = sequence(v, where);
    std::vector<std::string> out;
    out.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_str() || items[i].as_str().empty())
        fail("{}: {}[{}] is {}, expected a non-empty image name (str)", path_, where, i,
             items[i].is_str() ? "an empty str" : std::string("a ") + items[i].type_name());
      out.push_back(items[i].as_str());
    }
    return out;
  }

  std::vector<int64_t> indices(const PyValue& v, const std::string& where, size_t db_size) {
    const auto& items = sequence(v, where);
    std::vector<int64_t> out;
    out.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_int())
        fail("{}: {}[{}] is a {} ({}), expected an int index into imlist", path_, where, i,
             items[i].type_name(), items[i].repr().substr(0, 40));
      const int64_t idx = items[i].as_int();
      if (idx < 0 || idx >= static_cast<int64_t>(db_size))
        fail("{}: {}[{}] = {} is outside imlist of {} images", path_, where, i, idx, db_size);
      out.push_back(idx);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  std::array<double, 4> box(const PyValue& v, const std::string& where) {
    const auto& items = sequence(v, where);
    if (items.size() != 4 ||
        !std::all_of(items.begin(), items.end(), [](const PyValue& x) { return x.is_number(); }))
      fail("{}: {} = {} is not 4 numbers [x1, y1, x2, y2]", path_, where, v.repr().substr(0, 60));
    std::array<double, 4> b;
    for (size_t k = 0; k < 4; ++k) b[k] = items[k].as_number();
    if (!std::all_of(b.begin(), b.end(), [](double x) { return std::isfinite(x); }) ||
        !(b[0] < b[2]) || !(b[1] < b[3]))
      fail("{}: {} = {} is not a box with x1 < x2 and y1 < y2", path_, where, v.repr());
    return b;
  }

  void disjoint(const std::vector<int64_t>& a, const char* an, const std::vector<int64_t>& b,
                const char* bn, const std::string& where) {
    std::vector<int64_t> both;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
    if (!both.empty())
      fail("{}: {}: index {} is in both '{}' and '{}' (the lists must be disjoint)", path_, where,
           both.front(), an, bn);
  }

  void read(std::vector<std::string>* imlist, std::vector<std::string>* qimlist,
            std::vector<RawQuery>* queries) {
    const PyValue top = load_pickle(path_);
    if (!top.is_dict())
      fail("{}: the pickle holds a {}, expected a dict with 'imlist', 'qimlist' and 'gnd'", path_,
           top.type_name());
    *imlist = names(key(top, "the top-level dict", "imlist"), "imlist");
    *qimlist = names(key(top, "the top-level dict", "qimlist"), "qimlist");
    const auto& gnd = sequence(key(top, "the top-level dict", "gnd"), "gnd");
    if (gnd.size() != qimlist->size())
      fail("{}: gnd has {} entries but qimlist has {} queries; they must match", path_, gnd.size(),
           qimlist->size());
    queries->resize(gnd.size());
    for (size_t i = 0; i < gnd.size(); ++i) {
      const std::string where = fmt::format("gnd[{}]", i);
      if (!gnd[i].is_dict())
        fail("{}: {} is a {}, expected a dict", path_, where, gnd[i].type_name());
      RawQuery& q = (*queries)[i];
      q.bbx = box(key(gnd[i], where, "bbx"), where + "['bbx']");
      q.easy = indices(key(gnd[i], where, "easy"), where + "['easy']", imlist->size());
      q.hard = indices(key(gnd[i], where, "hard"), where + "['hard']", imlist->size());
      q.junk = indices(key(gnd[i], where, "junk"), where + "['junk']", imlist->size());
      disjoint(q.easy, "easy", q.hard, "hard", where);
      disjoint(q.easy, "easy", q.junk, "junk", where);
      disjoint(q.hard, "hard", q.junk, "junk", where);
    }
  }

 private:
  const std::string& path_;
};

std::vector<int64_t> set_union(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

const std::vector<std::string>& revisitop_protocols() {
  static const std::vector<std::string> kProtocols = {"easy", "medium", "hard"};
  return kProtocols;
}

RetrievalSet load_revisitop(const std::string& gnd_pkl, const std::string& set_name,
                            const std::string& protocol, const std::string& image_root) {
  if (set_name != "roxford5k" && set_name != "rparis6k")
    fail("revisitop set '{}' is unknown; expected roxford5k or rparis6k", set_name);
  const auto& protocols = revisitop_protocols();
  if (std::find(protocols.begin(), protocols.end(), protocol) == protocols.end())
    fail("{}: protocol '{}' is unknown; expected one of {}", set_name, protocol, join(protocols));

  std::vector<std::string> imlist, qimlist;
  std::vector<RawQuery> raw;
  GndReader(gnd_pkl).read(&imlist, &qimlist, &raw);

  RetrievalSet set;
  set.name = set_name;
  set.protocol = protocol;
  set.root = image_root;
  set.source = gnd_pkl;
  set.crop_queries = true;
  set.db.reserve(imlist.size());
  for (const auto& n : imlist) set.db.push_back("jpg/" + n + ".jpg");
  set.queries.resize(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    Query& q = set.queries[i];
    const RawQuery& r = raw[i];
    q.image = "jpg/" + qimlist[i] + ".jpg";
    q.bbx = r.bbx;
    if (protocol == "easy") {
      q.ok = r.easy;
      q.junk = set_union(r.junk, r.hard);
    } else if (protocol == "medium") {
      q.ok = set_union(r.easy, r.hard);
      q.junk = r.junk;
    } else {  // hard
      q.ok = r.hard;
      q.junk = set_union(r.junk, r.easy);
    }
  }
  set.Check();
  return set;
}

}  // namespace repbench::datasets
