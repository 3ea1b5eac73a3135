// Reading the fields a page shows from a record, each failure one line that names the record's
// kind and the field ("scan record: 'pairs[3].score' is not a number (found "x")"). Shared by the
// scan and copying-experiment pages.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace repbench::report::impl {

class RecordFields {
 public:
  explicit RecordFields(std::string kind) : kind_(std::move(kind)) {}

  // obj[key]; an Error naming `where` + key when obj is not an object or lacks it.
  const nlohmann::json& field(const nlohmann::json& obj, const char* key,
                              const std::string& where) const;
  double number(const nlohmann::json& v, const std::string& what) const;
  std::vector<double> numbers(const nlohmann::json& v, const std::string& what) const;
  std::string string(const nlohmann::json& v, const std::string& what) const;

 private:
  std::string kind_;
};

}  // namespace repbench::report::impl
