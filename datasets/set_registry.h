// The set registry: the one place that maps a set name to its loader, its protocols and the files
// it needs. The command line lists known_sets() and calls load_set(); nothing else names sets.
//
// A set is named either by a registered name ("roxford5k") or by a path to a gnd.json (a path
// ending in ".json", or a folder that holds a gnd.json), whose only protocol is "default".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/retrieval_set.h"

namespace repbench::datasets {

// What the registry knows about a set, for listings and error messages.
struct SetInfo {
  std::string name;                    // registry name, e.g. "roxford5k"
  std::vector<std::string> protocols;  // e.g. {"easy", "medium", "hard"}
  std::string default_protocol;        // used when a request names none
  std::string description;             // one line: what the set is
  int64_t db_images = 0;               // database size of the original release (-1 = varies)
  int64_t queries = 0;                 // number of queries (-1 = varies)
  std::string files;                   // which files it needs, and where they come from
  MetricSpec metric;                   // how its official evaluator scores it (every protocol)
};

// Every registered set, in listing order.
const std::vector<SetInfo>& known_sets();

// The registered set called `name`, or nullptr.
const SetInfo* find_set(const std::string& name);

// Whether `set` names a gnd.json rather than a registered set (ends in ".json", or is a folder
// holding a gnd.json).
bool is_gnd_json_set(const std::string& set);

// What to load.
struct SetRequest {
  std::string set;       // a registered name, or a path to a gnd.json (or its folder)
  std::string protocol;  // empty = the set's default protocol
  std::string root;      // folder that the set's images (and, by default, annotations) live in
  std::string gnd;       // annotation file that overrides the default <root>/<file>
};

// Loads the set of a request. Throws repbench::Error quoting an unknown set name (and listing the
// known ones), naming an unknown protocol (and listing the set's protocols), or saying which
// annotation file is needed when neither `root` nor `gnd` is given.
//   roxford5k, rparis6k: annotation r.gnd, else <r.root>/gnd_<set>.pkl; images under r.root,
//     else under the annotation file's folder (revisitop keeps them together).
//   gnd.json: images relative to the file's folder, or to r.root when given.
RetrievalSet load_set(const SetRequest& r);

// The protocols of `set` (a registered name or a gnd.json path), e.g. to expand "all".
// Throws Error like load_set for an unknown name.
std::vector<std::string> protocols_for(const std::string& set);

}  // namespace repbench::datasets
