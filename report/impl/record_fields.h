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

  // When and by which repbench the record was made, read from its envelope
  // (records/record_envelope.h: context.date, context.repbench) when its "schema" is `schema`, or
  // from "created" and "repbench_version" when it predates the envelope ("schema" 1 or absent).
  // `older` (optional) is an earlier envelope schema with the same fields, read the same way.
  // A value that is absent or not a string is "". Throws Error for any other schema.
  struct Origin {
    std::string date, version;
  };
  Origin origin(const nlohmann::json& record, const char* schema,
                const char* older = nullptr) const;

 private:
  std::string kind_;
};

}  // namespace repbench::report::impl
