#include "suite/runner.h"

#include <cctype>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/commit_group.h"
#include "core/descriptors.h"
#include "core/elapsed.h"
#include "core/environment_error.h"
#include "core/error.h"
#include "core/failpoint.h"
#include "core/path_guard.h"
#include "core/sha256.h"
#include "datasets/metric_spec.h"
#include "datasets/set_registry.h"
#include "evaluation/evaluate_set.h"
#include "evaluation/scoring.h"
#include "metrics/rerank.h"
#include "models/feature_cache.h"
#include "models/registry.h"
#include "models/set_images.h"
#include "postprocess/postprocess.h"
#include "records/eval_record.h"
#include "records/record.h"
#include "report/cd_diagram.h"
#include "report/failure_page.h"
#include "report/leaderboard.h"
#include "suite/recipe.h"

namespace fs = std::filesystem;

namespace repbench::suite {

namespace {

std::string slug(const std::string& s) { return name_slug(s); }

// The protocols a suite entry asks for.
std::vector<std::string> protocols_of(const SuiteSet& s) {
  if (s.protocols.empty()) return {""};  // the set's default
  if (s.protocols.size() == 1 && s.protocols[0] == "all") return datasets::protocols_for(s.set);
  return s.protocols;
}

// Descriptors of one model on one set, extracted through the cache.
struct SetFeatures {
  FloatArray db, queries;
  std::vector<std::string> failed;  // "path: reason"
  bool cache_hit = true;
  double seconds = 0;
};

bool queries_are_db(const datasets::RetrievalSet& set) {
  if (set.queries.size() != set.db.size()) return false;
  for (size_t i = 0; i < set.db.size(); ++i)
    if (set.queries[i].image != set.db[i] || (set.crop_queries && set.queries[i].bbx)) return false;
  return true;
}

SetFeatures extract_set(models::FeatureExtractor& ex, const datasets::RetrievalSet& set,
                        const Suite& suite, const std::string& cache_dir) {
  const auto t0 = std::chrono::steady_clock::now();
  models::PipelineOptions popt;
  popt.batch_size = suite.batch_size;
  popt.on_decode_error = suite.on_decode_error == "skip" ? models::DecodeErrorPolicy::kSkip
                                                         : models::DecodeErrorPolicy::kFail;
  popt.load.reduced_decoding = suite.fast_decode;
  // The cache key tells the modes apart; their own file names let both stay cached side by side.
  const std::string mode = suite.fast_decode ? ".fast-decode" : "";
  SetFeatures f;
  auto run = [&](const std::vector<models::ImageItem>& items, const std::string& side) {
    popt.label = fmt::format("{} {} {}", ex.name(), set.name, side);
    const std::string base = (fs::path(cache_dir) / (slug(set.name) + "." + side)).string();
    models::CachedExtraction c = models::extract_cached(
        ex, items,
        base + "." + sha256_hex(set.source + "|" + set.root).substr(0, 8) + mode + ".npy", popt);
    f.cache_hit = f.cache_hit && c.cache_hit;
    for (const auto& fi : c.failed) f.failed.push_back(fi.path + ": " + fi.reason);
    return std::move(c.features);
  };
  f.db = run(models::database_items(set), "db");
  // Leave-in sets (GPR1200, CUB) query with their own database images: extract once.
  f.queries = queries_are_db(set) ? f.db : run(models::query_items(set), "queries");
  f.seconds = seconds_since(t0);
  return f;
}

// Every record of a suite, skipped ones included, names how its images were decoded.
records::RecordHeader header_for(const nlohmann::json& model, const std::string& set,
                                 const std::string& protocol, const Suite& suite) {
  records::RecordHeader h;
  h.model = model;
  h.set = set;
  h.protocol = protocol.empty() ? "default" : protocol;
  models::LoadOptions load;
  load.reduced_decoding = suite.fast_decode;
  h.options = {{"decoding", models::decoding_name(load)}};
  return h;
}

// The failure page beside an "ok" record (written with its per-query data just before), which the
// html leaderboard links; a page that cannot be drawn is a line of output, not a failed run.
template <typename Say>
void write_failure_page_beside(const std::string& record, const datasets::RetrievalSet& set,
                               const Say& say) {
  try {
    report::write_failure_page(record, set, report::failure_page_path(record));
  } catch (const EnvironmentError&) {
    throw;
  } catch (const Error& e) {
    say(fmt::format("  no failure page: {}", e.what()));
  }
}

// No output of the run replaces one of its inputs (core/path_guard.h): the suite file, the sets'
// annotation files and folders, model and post-processing training files.
void check_output_paths(const Suite& suite) {
  PathGuard guard;
  guard.reads("suite", suite.source);
  for (const SuiteModel& m : suite.models)
    guard.reads("model", models::spec_model_file(m.spec)).reads("postprocess_train", m.postprocess_train);
  for (const SuiteSet& s : suite.sets) {
    if (s.recipe) continue;  // built by the run itself (suite/recipe.h)
    guard.reads("set", s.set).reads("root", s.root).reads("gnd", s.gnd);
  }
  guard
      .writes_into("output", suite.output,
                   {"cache", "records", "leaderboard.md", "leaderboard.csv", "leaderboard.tex",
                    "leaderboard.html", "leaderboard.json", "cd_diagram.svg", "cd_diagram.png"})
      .check();
}

}  // namespace

std::string model_slug(const std::string& name, const std::string& spec) {
  return slug(name) + "-" + sha256_hex(spec).substr(0, 8);
}

SuiteRunResult run_suite(const Suite& suite, const RunOptions& options) {
  suite.Check();
  check_output_paths(suite);
  check_recipes(suite);
  SuiteRunResult result;
  const fs::path out(suite.output);
  // A killed run leaves its temporaries behind (never read: they are not under a final name).
  remove_stale_temporaries(out.string());
  auto say = [&](const std::string& line) {
    if (!options.quiet) fmt::print("{}\n", line);
  };
  // A failure of the environment stops the run, unless keep_going (then it is a skipped row and
  // is listed in the result, which `run` turns into a non-zero exit status).
  auto environment_failed = [&](const EnvironmentError& e) {
    if (!options.keep_going) throw e;
    result.environment_errors.push_back(e.what());
  };
  auto record_path = [&](const std::string& model_dir, const records::RecordHeader& h) {
    return (out / "records" / model_dir / (slug(h.set) + "." + slug(h.protocol) + ".json"))
        .string();
  };
  auto write = [&](const std::string& model_dir, const records::RecordHeader& h,
                   const nlohmann::json& rec, const records::QueryResults* queries = nullptr) {
    const std::string path = record_path(model_dir, h);
    fail_point("suite-record");  // test-only (core/failpoint.h): before each record
    queries ? records::write_eval_record(path, rec, *queries) : records::write_record(path, rec);
    result.records.push_back(path);
    if (rec.value("status", "ok") == "skipped") ++result.records_skipped;
  };

  // Sets the suite builds (suite/recipe.h), before any extraction; one that cannot be built
  // becomes skipped rows like any set that fails.
  std::vector<std::string> build_errors(suite.sets.size());
  for (size_t i = 0; i < suite.sets.size(); ++i) {
    if (!suite.sets[i].recipe) continue;
    try {
      say(build_recipe(suite.sets[i], suite, options.quiet));
    } catch (const EnvironmentError& e) {
      environment_failed(e);
      build_errors[i] = e.what();
    } catch (const Error& e) {
      build_errors[i] = e.what();
      say(fmt::format("{}: not built: {}", suite.sets[i].set, e.what()));
    }
  }

  const metrics::RerankSpec& rerank = suite.rerank;
  for (const SuiteModel& sm : suite.models) {
    models::ExtractorOptions eopt;
    eopt.device = suite.device;
    eopt.threads = suite.threads;
    eopt.preprocess = sm.preprocess;
    std::unique_ptr<models::FeatureExtractor> ex;
    std::string model_error;
    try {
      ex = models::create_extractor(sm.spec, eopt);
    } catch (const Error& e) {
      model_error = e.what();
    }
    nlohmann::json model = {{"name", !sm.name.empty() ? sm.name : ex ? ex->name() : sm.spec},
                            {"category", !sm.category.empty() ? sm.category
                                         : ex               ? ex->category()
                                                            : "other"},
                            {"spec", ex ? ex->spec() : sm.spec}};
    if (ex) model["extractor"] = ex->info().to_json();
    const std::string model_dir = model_slug(model["name"], model["spec"]);

    for (const SuiteSet& ss : suite.sets) {
      const std::vector<std::string> protocols = protocols_of(ss);
      std::string set_error = model_error;
      if (set_error.empty()) set_error = build_errors[&ss - suite.sets.data()];
      std::vector<datasets::RetrievalSet> loaded;
      if (set_error.empty()) {
        try {
          for (const auto& p : protocols) loaded.push_back(datasets::load_set({ss.set, p, ss.root, ss.gnd}));
        } catch (const Error& e) {
          set_error = e.what();
        }
        for (auto& set : loaded)
          if (!ss.name.empty()) set.name = ss.name;  // the suite's column name
      }
      SetFeatures feats;
      if (set_error.empty()) {
        try {
          feats = extract_set(*ex, loaded.front(), suite,
                              (out / "cache" / model_dir).string());
          if (!feats.failed.empty() && feats.failed.size() == loaded.front().db.size())
            set_error = fmt::format("every image failed to decode (first: {})", feats.failed[0]);
        } catch (const EnvironmentError& e) {
          environment_failed(e);
          set_error = e.what();
        } catch (const Error& e) {
          set_error = e.what();
        }
      }
      const bool tokens = feats.db.shape.size() == 3;
      // A model whose outputs do not suit the suite's similarity or re-ranking: skipped rows
      // that say so. (Token outputs with post-processing are refused by the chain itself.)
      std::string unsuited;
      if (set_error.empty() && (sm.postprocess.empty() || !tokens)) {
        if (suite.similarity == evaluation::Similarity::kSplitProduct && !tokens)
          unsuited = "split-product needs a model with token outputs; this one gives embeddings";
        else if (!rerank.empty() && tokens)
          unsuited = "rerank needs a model with embeddings; this one gives token outputs";
      }
      if (!unsuited.empty()) {
        for (const auto& set : loaded)
          write(model_dir, header_for(model, set.name, set.protocol, suite),
                records::make_skipped_record(header_for(model, set.name, set.protocol, suite),
                                             unsuited));
        continue;
      }
      // Scored as eval scores (evaluation/scoring.h): the model's post-processing (trained once
      // and kept under OUTPUT/cache/postprocess), then every descriptor L2-normalised as the
      // paper does (split-product: the flattened token vector), then the re-ranking.
      std::optional<evaluation::ScoredPair> scored;
      if (set_error.empty()) {
        evaluation::PairOptions po;
        po.similarity = suite.similarity;
        po.l2_normalize = true;
        po.postprocess = {sm.postprocess, sm.postprocess_train,
                          (out / "cache" / "postprocess").string()};
        po.rerank = rerank;
        po.threads = suite.threads;
        try {
          scored = evaluation::score_pair(
              evaluation::Descriptors::from_array(std::move(feats.queries),
                                                  "queries of " + loaded.front().name, {}),
              evaluation::Descriptors::from_array(std::move(feats.db),
                                                  "database of " + loaded.front().name, {}),
              po);
        } catch (const EnvironmentError& e) {
          environment_failed(e);
          set_error = e.what();
        } catch (const Error& e) {
          set_error = e.what();
        }
      }
      if (!set_error.empty()) {
        // Name the rows with the set's own name where it is known, else as the suite wrote it.
        const std::string set_name = !loaded.empty()   ? loaded.front().name
                                     : !ss.name.empty() ? ss.name
                                                        : ss.set;
        for (size_t i = 0; i < protocols.size(); ++i) {
          const std::string p = i < loaded.size() ? loaded[i].protocol : protocols[i];
          write(model_dir, header_for(model, set_name, p, suite),
                records::make_skipped_record(header_for(model, set_name, p, suite), set_error));
        }
        say(fmt::format("{} on {}: skipped: {}", model["name"].get<std::string>(), set_name,
                        set_error));
        continue;
      }
      const evaluation::PreparedPair& pair = scored->pair;
      const postprocess::Applied& post = pair.postprocess;
      evaluation::SetEvalOptions so;
      so.bootstrap = suite.bootstrap;
      so.seed = suite.seed;
      so.threads = suite.threads;
      so.ap = ss.ap;
      so.copy_detection.threads = suite.threads;
      for (const auto& set : loaded) {
        const evaluation::SetEvaluation e =
            evaluation::evaluate_set(set, *scored->scores, pair.q.view, pair.split, so);
        const metrics::EvalResult& r = e.result;
        records::RecordHeader h = header_for(model, set.name, set.protocol, suite);
        h.similarity = evaluation::scored_similarity_name(pair.split);
        h.inputs = {{"ground_truth", set.source}, {"image_root", set.root}};
        h.options.update({{"l2_normalize", true},
                          {"query_crop", set.crop_queries},
                          {"batch_size", suite.batch_size},
                          {"device", suite.device},
                          {"on_decode_error", suite.on_decode_error}});
        if (!post.options.is_null()) h.options["postprocess"] = post.options;
        if (!rerank.empty()) h.options["rerank"] = rerank.to_string();
        h.timings = {{"extract_seconds", feats.seconds}, {"descriptors_from_cache", feats.cache_hit}};
        if (!post.options.is_null()) h.timings["postprocess_from_cache"] = post.from_cache;
        h.seed = suite.seed;
        nlohmann::json rec = evaluation::make_set_record(h, e, set, record_path(model_dir, h));
        rec["metrics"]["images_failed"] = feats.failed.size();
        if (!feats.failed.empty()) {
          nlohmann::json names = nlohmann::json::array();
          for (size_t i = 0; i < feats.failed.size() && i < 20; ++i) names.push_back(feats.failed[i]);
          rec["metrics"]["images_failed_first"] = names;
        }
        const records::QueryResults queries = evaluation::query_results(e);
        write(model_dir, h, rec, &queries);
        say(fmt::format("{} on {} ({}): mAP {:.2f}{}", model["name"].get<std::string>(), set.name,
                        set.protocol, 100 * r.map,
                        feats.failed.empty()
                            ? ""
                            : fmt::format(" ({} images failed to decode)", feats.failed.size())));
        write_failure_page_beside(result.records.back(), set, say);
      }
    }
  }

  report::Leaderboard board = report::build_leaderboard(report::load_records(result.records));
  report::relative_page_links(board, out.string());
  // Rank intervals, the Friedman test and the CD diagram when the records carry per-query data
  // (otherwise the board gets one note saying why they are omitted).
  report::add_rank_statistics(board, {1000, suite.seed, suite.threads});
  CommitGroup boards;  // the leaderboards and the diagram become visible together
  if (board.rank_statistics) {
    const std::string prefix = (out / "cd_diagram").string();
    report::write_cd_diagram(board, prefix);
  }
  for (const auto& f : suite.formats) {
    const report::Format format = report::parse_format(f);
    const std::string path = (out / ("leaderboard." + std::string(report::format_extension(format)))).string();
    fail_point("suite-leaderboard");  // test-only (core/failpoint.h): before each format
    write_file_atomic(path, report::render(board, format));
    result.leaderboards.push_back(path);
  }
  boards.commit();
  if (board.rank_statistics)
    for (const char* ext : {".svg", ".png"})
      result.leaderboards.push_back((out / "cd_diagram").string() + ext);
  result.markdown = report::render(board, report::Format::kMarkdown);
  return result;
}

}  // namespace repbench::suite
