// Sets as data: what `repbench datasets info --json` prints for a set on disk, and one registered
// set's entry of `datasets list`. The verb and the Python module (repbench.datasets) share them.
#pragma once

#include <nlohmann/json.hpp>

#include "datasets/retrieval_set.h"
#include "datasets/set_registry.h"

namespace repbench::datasets {

// {"set", "protocol", "db_images", "queries", "queries_scored", "positives_total",
// "junk_total", "query_crop", "root", "source", "metric"} and, for a registered set,
// "official_db_images" and "official_queries".
nlohmann::json set_summary_json(const RetrievalSet& set);

// {"name", "description", "protocols", "default_protocol", "db_images", "queries" (-1 = varies),
// "files", "metric"}.
nlohmann::json set_info_json(const SetInfo& info);

}  // namespace repbench::datasets
