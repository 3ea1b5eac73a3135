#include "datasets/retrieval_set.h"

#include <algorithm>

#include "core/error.h"

namespace repbench::datasets {

RetrievalSet::Lists RetrievalSet::evaluation_lists() const {
  Lists l;
  l.ok.reserve(queries.size());
  l.junk.reserve(queries.size());
  l.groups.reserve(queries.size());
  for (const auto& q : queries) {
    l.ok.push_back(q.ok);
    l.junk.push_back(q.junk);
    l.groups.push_back(q.group);
  }
  return l;
}

int64_t RetrievalSet::positives_total() const {
  int64_t n = 0;
  for (const auto& q : queries) n += static_cast<int64_t>(q.ok.size());
  return n;
}

int64_t RetrievalSet::junk_total() const {
  int64_t n = 0;
  for (const auto& q : queries) n += static_cast<int64_t>(q.junk.size());
  return n;
}

int64_t RetrievalSet::scorable_queries() const {
  return std::count_if(queries.begin(), queries.end(), [](const Query& q) { return !q.ok.empty(); });
}

void RetrievalSet::Check() const {
  const int64_t nb = static_cast<int64_t>(db.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    for (const auto* list : {&queries[i].ok, &queries[i].junk}) {
      const char* what = list == &queries[i].ok ? "ok" : "junk";
      for (int64_t v : *list)
        if (v < 0 || v >= nb)
          fail("{}: query {} ({}) has {} index {} outside the database of {} images", source, i,
               queries[i].image, what, v, nb);
      if (!std::is_sorted(list->begin(), list->end()))
        fail("{}: query {} ({}) has an unsorted {} list", source, i, queries[i].image, what);
      if (std::adjacent_find(list->begin(), list->end()) != list->end())
        fail("{}: query {} ({}) lists a {} index twice", source, i, queries[i].image, what);
    }
  }
}

}  // namespace repbench::datasets
