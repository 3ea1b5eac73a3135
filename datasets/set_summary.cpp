#include "datasets/set_summary.h"

namespace repbench::datasets {

nlohmann::json set_summary_json(const RetrievalSet& set) {
  nlohmann::json j = {{"set", set.name},
                      {"protocol", set.protocol},
                      {"db_images", set.db.size()},
                      {"queries", set.queries.size()},
                      {"queries_scored", set.scorable_queries()},
                      {"positives_total", set.positives_total()},
                      {"junk_total", set.junk_total()},
                      {"query_crop", set.crop_queries},
                      {"root", set.root},
                      {"source", set.source},
                      {"metric", set.metric.to_json()}};
  if (const SetInfo* info = find_set(set.name)) {
    j["official_db_images"] = info->db_images;
    j["official_queries"] = info->queries;
  }
  return j;
}

nlohmann::json set_info_json(const SetInfo& info) {
  return {{"name", info.name},
          {"description", info.description},
          {"protocols", info.protocols},
          {"default_protocol", info.default_protocol},
          {"db_images", info.db_images},
          {"queries", info.queries},
          {"files", info.files},
          {"metric", info.metric.to_json()}};
}

}  // namespace repbench::datasets
