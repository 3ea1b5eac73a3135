#include "diffusion/model_config.h"

#include <climits>
#include <cmath>
#include <set>

#include "core/error.h"

namespace repbench::diffusion {

namespace {

// max: the int fields are cast to int, which must not wrap a huge value into a small one.
int64_t get_int(const nlohmann::json& j, const char* key, int64_t min, int64_t max,
                const std::string& where) {
  const auto& v = j.at(key);
  if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > max)
    fail("{}: \"{}\" must be an integer in {}..{}, found {}", where, key, min, max, v.dump());
  return v.get<int64_t>();
}

double get_double(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto& v = j.at(key);
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    fail("{}: \"{}\" must be a number, found {}", where, key, v.dump());
  return v.get<double>();
}

bool get_bool(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto& v = j.at(key);
  if (!v.is_boolean()) fail("{}: \"{}\" must be true or false, found {}", where, key, v.dump());
  return v.get<bool>();
}

}  // namespace

void EpsModelConfig::Check(const std::string& where) const {
  if (image_size < 1) fail("{}: image_size must be positive; got {}", where, image_size);
  if (channels != 1 && channels != 3) fail("{}: channels must be 1 or 3; got {}", where, channels);
  if (timesteps < 2 || timesteps > kMaxTimesteps)
    fail("{}: timesteps must be in 2..{}; got {}", where, kMaxTimesteps, timesteps);
  if (num_classes < 0) fail("{}: num_classes must be >= 0; got {}", where, num_classes);
  if (beta_schedule == BetaSchedule::kLinear &&
      !(beta_start > 0 && beta_start <= 1 && beta_end > 0 && beta_end <= 1))
    fail("{}: linear betas must lie in (0, 1]; got beta_start {} and beta_end {}", where,
         beta_start, beta_end);
}

EpsModelConfig EpsModelConfig::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) fail("{}: expected a JSON object, found {}", where, j.type_name());
  static const std::set<std::string> kKeys = {
      "kind",     "image_size",  "channels",    "timesteps",   "beta_schedule", "beta_start",
      "beta_end", "num_classes", "learn_sigma", "sigma_small", "name",          "source"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!kKeys.count(it.key()))
      fail(
          "{}: unknown key \"{}\" (known: kind, image_size, channels, timesteps, beta_schedule, "
          "beta_start, beta_end, num_classes, learn_sigma, sigma_small, name, source)",
          where, it.key());
  for (const char* key : {"kind", "image_size", "channels", "timesteps", "beta_schedule"})
    if (!j.contains(key)) fail("{}: missing \"{}\"", where, key);
  if (j["kind"] != kEpsModelKind)
    fail("{}: kind {} is not \"{}\" (a noise-prediction model)", where, j["kind"].dump(),
         kEpsModelKind);
  EpsModelConfig c;
  c.image_size = static_cast<int>(get_int(j, "image_size", 1, INT_MAX, where));
  c.channels = static_cast<int>(get_int(j, "channels", 1, INT_MAX, where));
  c.timesteps = get_int(j, "timesteps", 2, kMaxTimesteps, where);
  if (!j["beta_schedule"].is_string()) fail("{}: \"beta_schedule\" must be a string", where);
  c.beta_schedule = parse_beta_schedule(j["beta_schedule"].get<std::string>(), where);
  if (c.beta_schedule == BetaSchedule::kLinear) {
    for (const char* key : {"beta_start", "beta_end"})
      if (!j.contains(key)) fail("{}: a linear beta_schedule needs \"{}\"", where, key);
  }
  if (j.contains("beta_start")) c.beta_start = get_double(j, "beta_start", where);
  if (j.contains("beta_end")) c.beta_end = get_double(j, "beta_end", where);
  if (j.contains("num_classes"))
    c.num_classes = static_cast<int>(get_int(j, "num_classes", 0, INT_MAX, where));
  if (j.contains("learn_sigma")) c.learn_sigma = get_bool(j, "learn_sigma", where);
  if (j.contains("sigma_small")) c.sigma_small = get_bool(j, "sigma_small", where);
  if (j.contains("name")) {
    if (!j["name"].is_string()) fail("{}: \"name\" must be a string", where);
    c.name = j["name"].get<std::string>();
  }
  if (j.contains("source")) c.source = j["source"];
  c.Check(where);
  return c;
}

nlohmann::json EpsModelConfig::to_json() const {
  nlohmann::json j{{"kind", kEpsModelKind},
                   {"image_size", image_size},
                   {"channels", channels},
                   {"timesteps", timesteps},
                   {"beta_schedule", to_string(beta_schedule)},
                   {"beta_start", beta_start},
                   {"beta_end", beta_end},
                   {"num_classes", num_classes},
                   {"learn_sigma", learn_sigma},
                   {"sigma_small", sigma_small}};
  if (!name.empty()) j["name"] = name;
  if (!source.empty()) j["source"] = source;
  return j;
}

std::vector<double> EpsModelConfig::betas() const {
  return make_betas(beta_schedule, timesteps, beta_start, beta_end);
}

}  // namespace repbench::diffusion
