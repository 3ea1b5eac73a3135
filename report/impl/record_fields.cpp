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

}  // namespace repbench::report::impl
