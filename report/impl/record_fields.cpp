#include "report/impl/record_fields.h"

#include <fmt/format.h>

#include "core/error.h"

namespace repbench::report::impl {

using nlohmann::json;

const json& RecordFields::field(const json& obj, const char* key, const std::string& where) const {
  if (!obj.is_object() || !obj.contains(key)) fail("{}: '{}{}' is missing", kind_, where, key);
  return obj.at(key);
}

double RecordFields::number(const json& v, const std::string& what) const {
  if (!v.is_number()) fail("{}: '{}' is not a number (found {})", kind_, what, v.dump());
  return v.get<double>();
}

std::vector<double> RecordFields::numbers(const json& v, const std::string& what) const {
  if (!v.is_array()) fail("{}: '{}' is not an array", kind_, what);
  std::vector<double> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) out.push_back(number(v[i], fmt::format("{}[{}]", what, i)));
  return out;
}

std::string RecordFields::string(const json& v, const std::string& what) const {
  if (!v.is_string()) fail("{}: '{}' is not a string (found {})", kind_, what, v.dump());
  return v.get<std::string>();
}

RecordFields::Origin RecordFields::origin(const json& record, const char* schema,
                                          const char* older) const {
  auto text = [](const json& obj, const char* key) {
    return obj.is_object() && obj.contains(key) && obj.at(key).is_string()
               ? obj.at(key).get<std::string>()
               : std::string();
  };
  const json none;
  const json& s = record.contains("schema") ? record.at("schema") : none;
  if (s == schema || (older && s == older)) {
    const json& context = record.contains("context") ? record.at("context") : none;
    return {text(context, "date"), text(context, "repbench")};
  }
  if (s.is_null() || s == 1) return {text(record, "created"), text(record, "repbench_version")};
  fail("{}: schema is {}, expected \"{}\" (or 1, before the record envelope)", kind_, s.dump(),
       schema);
}

}  // namespace repbench::report::impl
