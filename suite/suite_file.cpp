#include "suite/suite_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "datasets/metric_spec.h"
#include "metrics/rerank.h"
#include "suite/recipe.h"

namespace fs = std::filesystem;

namespace repbench::suite {

namespace {

class Reader {
 public:
  Reader(std::string path, const std::map<std::string, std::string>& vars)
      : path_(std::move(path)), vars_(vars) {}

  std::string where(const YAML::Node& n) const {
    return n.Mark().is_null() ? path_ : fmt::format("{}:{}", path_, n.Mark().line + 1);
  }

  void only_keys(const YAML::Node& map, const std::set<std::string>& known,
                 const std::string& what) const {
    if (!map.IsMap()) fail("{}: {} must be a mapping", where(map), what);
    for (const auto& kv : map) {
      // get(): a complex key (a list or a mapping, "? [a]") cannot be a string.
      const std::string key = get<std::string>(kv.first, "a key in " + what);
      if (!known.count(key)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        fail("{}: unknown key '{}' in {} (known: {})", where(kv.first), key, what, list);
      }
    }
  }

  template <typename T>
  T get(const YAML::Node& n, const std::string& what) const {
    try {
      return n.as<T>();
    } catch (const YAML::Exception&) {
      fail("{}: {} has the wrong type", where(n), what);
    }
  }

  // A string value with its ${NAME} and ${NAME:-default} replaced (suite_file.h).
  std::string str(const YAML::Node& n, const std::string& what) const {
    const std::string s = get<std::string>(n, what);
    std::string out;
    for (size_t i = 0; i < s.size();) {
      if (s.compare(i, 2, "${") != 0) {
        out.push_back(s[i++]);
        continue;
      }
      const size_t end = s.find('}', i);
      if (end == std::string::npos) fail("{}: {} has a '${{' without its '}}'", where(n), what);
      const std::string ref = s.substr(i + 2, end - i - 2);
      const size_t dash = ref.find(":-");
      const std::string name = ref.substr(0, dash);
      const bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                         std::all_of(name.begin(), name.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                         });
      if (!valid) fail("{}: {} has '${{{}}}', which is not a variable name", where(n), what, ref);
      const char* env = std::getenv(name.c_str());
      if (const auto it = vars_.find(name); it != vars_.end()) {
        out += it->second;
      } else if (env != nullptr) {
        out += env;
      } else if (dash != std::string::npos) {
        out += ref.substr(dash + 2);
      } else {
        fail("{}: undefined variable ${{{}}} in {} (set it in the environment or with --set-var "
             "{}=VALUE)",
             where(n), name, what, name);
      }
      i = end + 1;
    }
    return out;
  }

  std::vector<std::string> strings(const YAML::Node& n, const std::string& what) const {
    std::vector<std::string> out;
    if (n.IsScalar()) return {str(n, what)};
    if (!n.IsSequence()) fail("{}: {} must be a list", where(n), what);
    for (const auto& x : n) out.push_back(str(x, what));
    return out;
  }

  // The options of a `synth:` set entry, typed as recipe_keys() says (suite/recipe.h).
  SetRecipe recipe(const YAML::Node& e, const std::string& what) const {
    SetRecipe r;
    r.generator = str(e["synth"], what + ".synth");
    const std::vector<RecipeKey>* keys = recipe_keys(r.generator);
    if (keys == nullptr)
      fail("{}: {}: unknown generator '{}' (known: {})", where(e["synth"]), what, r.generator,
           recipe_generators());
    std::set<std::string> known = {"synth", "name", "out", "remedy", "ap"};
    for (const RecipeKey& k : *keys) known.insert(k.key);
    only_keys(e, known, what + " (synth " + r.generator + ")");
    for (const RecipeKey& k : *keys) {
      const YAML::Node v = e[k.key];
      if (!v) continue;
      const std::string w = what + "." + k.key;
      if (!v.IsScalar()) fail("{}: {} has the wrong type", where(v), w);
      const std::string text = str(v, w);
      auto wrong = [&](const char* type) -> void {
        fail("{}: {} must be {}; got '{}'", where(v), w, type, text);
      };
      size_t used = 0;
      switch (k.kind) {
        case RecipeValue::kPath: r.options[k.key] = path(text); break;
        case RecipeValue::kText: r.options[k.key] = text; break;
        case RecipeValue::kInt:
          try {
            r.options[k.key] = static_cast<int64_t>(std::stoll(text, &used));
          } catch (const std::exception&) {
            used = 0;
          }
          if (used == 0 || used != text.size()) wrong("an integer");
          break;
        case RecipeValue::kNumber:
          try {
            r.options[k.key] = std::stod(text, &used);
          } catch (const std::exception&) {
            used = 0;
          }
          if (used == 0 || used != text.size()) wrong("a number");
          break;
        case RecipeValue::kBool:
          if (text != "true" && text != "false") wrong("true or false");
          r.options[k.key] = text == "true";
          break;
      }
    }
    return r;
  }

  // Relative paths are taken from the suite file's folder.
  std::string path(const std::string& p) const {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (fs::path(path_).parent_path() / p).lexically_normal().string();
  }

 private:
  std::string path_;
  const std::map<std::string, std::string>& vars_;
};

nlohmann::json to_json(const YAML::Node& n) {
  if (n.IsMap()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& kv : n) j[kv.first.as<std::string>()] = to_json(kv.second);
    return j;
  }
  if (n.IsSequence()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& x : n) j.push_back(to_json(x));
    return j;
  }
  if (n.IsNull()) return nullptr;
  const std::string s = n.as<std::string>();
  // Numbers and booleans as such, so preprocessing overrides keep their types.
  try {
    size_t used = 0;
    long long i = std::stoll(s, &used);
    if (used == s.size()) return i;
    double d = std::stod(s, &used);
    if (used == s.size()) return d;
  } catch (const std::exception&) {
  }
  if (s == "true") return true;
  if (s == "false") return false;
  return s;
}

}  // namespace

std::string name_slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    if (keep) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "x" : out;
}

void Suite::Check() const {
  const std::string w = source.empty() ? "suite" : source;
  if (output.empty()) fail("{}: 'output' is required", w);
  if (models.empty()) fail("{}: 'models' must list at least one model", w);
  if (sets.empty()) fail("{}: 'sets' must list at least one set", w);
  if (batch_size < 1) fail("{}: batch_size must be at least 1", w);
  if (bootstrap < 0) fail("{}: bootstrap must be >= 0", w);
  if (on_decode_error != "skip" && on_decode_error != "fail")
    fail("{}: on_decode_error '{}' is not skip or fail", w, on_decode_error);
  for (size_t i = 0; i < models.size(); ++i)
    if (models[i].postprocess.empty() != models[i].postprocess_train.empty())
      fail("{}: models[{}] needs both postprocess and postprocess_train, or neither", w, i);
  for (const auto& f : formats)
    if (f != "md" && f != "csv" && f != "tex" && f != "html" && f != "json")
      fail("{}: format '{}' is not md, csv, tex, html or json", w, f);
}

Suite read_suite(const std::string& path, const std::map<std::string, std::string>& vars) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("{}: no such file", path);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    fail("{}:{}: not valid YAML: {}", path, e.mark.line + 1, e.msg);
  }
  Reader r(path, vars);
  Suite s;
  s.source = path;
  r.only_keys(root,
              {"output", "models", "sets", "similarity", "batch_size", "device", "threads",
               "bootstrap", "seed", "on_decode_error", "fast_decode", "formats", "rerank"},
              "the suite");
  if (root["output"]) s.output = r.path(r.str(root["output"], "output"));
  if (const YAML::Node m = root["models"]) {
    if (!m.IsSequence()) fail("{}: models must be a list", r.where(m));
    for (size_t i = 0; i < m.size(); ++i) {
      const std::string what = fmt::format("models[{}]", i);
      const YAML::Node e = m[i];
      SuiteModel sm;
      if (e.IsScalar()) {
        sm.spec = r.str(e, what);
      } else {
        r.only_keys(e, {"spec", "name", "category", "preprocess", "remedy", "postprocess",
                        "postprocess_train"},
                    what);
        if (!e["spec"]) fail("{}: {} needs a 'spec'", r.where(e), what);
        sm.spec = r.str(e["spec"], what + ".spec");
        if (e["name"]) sm.name = r.str(e["name"], what + ".name");
        if (e["category"]) sm.category = r.str(e["category"], what + ".category");
        if (e["remedy"]) sm.remedy = r.str(e["remedy"], what + ".remedy");
        if (e["postprocess"]) sm.postprocess = r.str(e["postprocess"], what + ".postprocess");
        if (e["postprocess_train"])
          sm.postprocess_train =
              r.path(r.str(e["postprocess_train"], what + ".postprocess_train"));
        if (e["preprocess"]) {
          if (!e["preprocess"].IsMap())
            fail("{}: {}.preprocess must be a mapping", r.where(e["preprocess"]), what);
          try {
            sm.preprocess = to_json(e["preprocess"]);
          } catch (const YAML::Exception&) {  // a complex key, which no json key can hold
            fail("{}: {}.preprocess has a key that is not a string", r.where(e["preprocess"]),
                 what);
          }
        }
      }
      const std::string ts = "torchscript:";
      if (sm.spec.rfind(ts, 0) == 0) sm.spec = ts + r.path(sm.spec.substr(ts.size()));
      s.models.push_back(std::move(sm));
    }
  }
  if (const YAML::Node sets = root["sets"]) {
    if (!sets.IsSequence()) fail("{}: sets must be a list", r.where(sets));
    for (size_t i = 0; i < sets.size(); ++i) {
      const std::string what = fmt::format("sets[{}]", i);
      const YAML::Node e = sets[i];
      SuiteSet ss;
      if (e.IsMap() && e["synth"]) {
        ss.recipe = r.recipe(e, what);
        if (e["name"]) ss.name = r.str(e["name"], what + ".name");
        const std::string folder = ss.name.empty() ? ss.recipe->generator : name_slug(ss.name);
        ss.recipe->out = e["out"] ? r.path(r.str(e["out"], what + ".out"))
                                  : (fs::path(s.output) / "sets" / folder).string();
        if (s.output.empty() && !e["out"])
          fail("{}: {} needs 'out' (or the suite an 'output')", r.where(e), what);
        ss.set = (fs::path(ss.recipe->out) / "gnd.json").string();
        ss.recipe->where = fmt::format("{}: {}", r.where(e), what);
      } else {
        r.only_keys(e, {"set", "root", "gnd", "protocols", "ap", "name", "remedy"}, what);
        if (!e["set"])
          fail("{}: {} needs a 'set' (or 'synth', a set the suite builds)", r.where(e), what);
        ss.set = r.str(e["set"], what + ".set");
        if (ss.set.size() > 5 && ss.set.compare(ss.set.size() - 5, 5, ".json") == 0)
          ss.set = r.path(ss.set);
        if (e["root"]) ss.root = r.path(r.str(e["root"], what + ".root"));
        if (e["gnd"]) ss.gnd = r.path(r.str(e["gnd"], what + ".gnd"));
        if (e["protocols"]) ss.protocols = r.strings(e["protocols"], what + ".protocols");
        if (e["name"]) ss.name = r.str(e["name"], what + ".name");
      }
      if (e["ap"])
        ss.ap = datasets::parse_ap_kind(r.str(e["ap"], what + ".ap"),
                                        fmt::format("{}: {}.ap", r.where(e), what));
      if (e["remedy"]) ss.remedy = r.str(e["remedy"], what + ".remedy");
      s.sets.push_back(std::move(ss));
    }
  }
  if (root["similarity"])
    s.similarity = evaluation::parse_similarity(r.str(root["similarity"], "similarity"),
                                                r.where(root["similarity"]) + ": similarity");
  if (root["rerank"]) {
    // Parsed once, here; the runner takes the spec.
    const std::string text = r.str(root["rerank"], "rerank");
    try {
      s.rerank = metrics::parse_rerank(text);
    } catch (const Error& e) {
      fail("{}: rerank: {}", r.where(root["rerank"]), e.what());
    }
  }
  if (root["batch_size"]) s.batch_size = r.get<int>(root["batch_size"], "batch_size");
  if (root["device"]) s.device = r.str(root["device"], "device");
  if (root["threads"]) s.threads = r.get<int>(root["threads"], "threads");
  if (root["bootstrap"]) s.bootstrap = r.get<int>(root["bootstrap"], "bootstrap");
  if (root["seed"]) s.seed = r.get<uint64_t>(root["seed"], "seed");
  if (root["on_decode_error"])
    s.on_decode_error = r.get<std::string>(root["on_decode_error"], "on_decode_error");
  if (root["fast_decode"]) s.fast_decode = r.get<bool>(root["fast_decode"], "fast_decode");
  if (root["formats"]) s.formats = r.strings(root["formats"], "formats");
  s.Check();
  return s;
}

}  // namespace repbench::suite
