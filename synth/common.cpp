#include "synth/common.h"

#include "core/error.h"

namespace repbench::synth {

const char* to_string(QuerySide side) {
  return side == QuerySide::kSource ? "source" : "copy";
}

QuerySide parse_query_side(const std::string& text) {
  if (text == "source") return QuerySide::kSource;
  if (text == "copy") return QuerySide::kCopy;
  fail("query side \"{}\" is not known (expected source or copy)", text);
}

void SetOptions::Check() const {
  if (count < 0) fail("--count {}: expected 0 (all) or a positive number", count);
  if (copies < 1 || copies > 99) fail("--copies {}: expected 1..99", copies);
  if (distractors < 0) fail("--distractors {}: expected 0 or more", distractors);
  if (size < 16 || size > 4096) fail("--size {}: expected 16..4096 pixels", size);
  if (jpeg_quality < 1 || jpeg_quality > 100)
    fail("--jpeg-quality {}: expected 1..100", jpeg_quality);
  if (threads < 0) fail("--threads {}: expected 0 (all cores) or more", threads);
}

nlohmann::json to_json(const SetOptions& opt) {
  nlohmann::json j = {{"count", opt.count},
                      {"copies", opt.copies},
                      {"distractors", opt.distractors},
                      {"query_side", to_string(opt.query_side)},
                      {"size", opt.size},
                      {"seed", opt.seed},
                      {"format", image_format_name(opt.format)}};
  if (opt.format == ImageFormat::kJpeg) j["jpeg_quality"] = opt.jpeg_quality;
  return j;
}

}  // namespace repbench::synth
