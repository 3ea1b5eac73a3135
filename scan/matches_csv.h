// matches.csv, every generation's top-k matches, written by every kind of scan. Public (not
// scan/impl/): the scale benchmark writes it too.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "metrics/topk.h"

namespace repbench::scan {

// matches.csv: header "generated,rank,train,score", one line per generation and rank 1..k (ranks
// with no match are left out); fields with a comma, quote or newline are quoted RFC 4180 style.
void write_matches_csv(const std::string& path, const std::vector<std::string>& generated_paths,
                       const std::vector<std::string>& train_paths, const metrics::TopKResult& m);
void write_matches_csv(const std::string& path, const std::vector<std::string>& generated_paths,
                       const std::function<const std::string&(int64_t)>& train_path,
                       const metrics::TopKResult& m);

}  // namespace repbench::scan
