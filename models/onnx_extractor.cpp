#include "models/onnx_extractor.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

#include "core/error.h"
#include "core/sha256.h"
#include "models/impl/extractor_util.h"
#include "models/onnx_file.h"

namespace repbench::models {

namespace {

std::string read_whole(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("{}: cannot open model file ({})", path, std::strerror(errno));
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// The message of a cv::Exception without OpenCV's location prefix, on one line.
std::string cv_message(const cv::Exception& e) {
  std::string m = e.err;
  for (char& c : m)
    if (c == '\n') c = ' ';
  // The importer wraps its nodes' errors in "> ... > ".
  const size_t start = m.find_first_not_of("> "), end = m.find_last_not_of("> ");
  return start == std::string::npos ? m : m.substr(start, end - start + 1);
}

// OpenCV's ONNX importer names a failing node as "Node [TYPE@DOMAIN]:(NAME) parse error: ...".
// Returns TYPE, or "" when the message has no such part.
std::string failing_operator(const std::string& message) {
  static const std::regex node(R"(Node \[([^@\]]+)@[^\]]*\])");
  static const std::regex layer(R"(of type \"([^\"]+)\")");
  std::smatch m;
  if (std::regex_search(message, m, node) || std::regex_search(message, m, layer)) return m[1];
  return "";
}

// Runs f() with OpenCV's logging silenced (its importer logs each failure on stderr before
// throwing; the one-line Error is the report).
template <typename F>
auto quietly(F&& f) -> decltype(f()) {
  namespace lg = cv::utils::logging;
  const lg::LogLevel before = lg::setLogLevel(lg::LOG_LEVEL_SILENT);
  struct Restore {
    lg::LogLevel level;
    ~Restore() { lg::setLogLevel(level); }
  } restore{before};
  return f();
}

std::string sidecar_path(const std::string& path) { return path + ".json"; }

ModelMetadata metadata_of(const std::string& path, const OnnxFileInfo& file) {
  const std::string sidecar = sidecar_path(path);
  std::string text, where;
  if (std::filesystem::exists(sidecar)) {
    text = read_whole(sidecar);
    where = sidecar;
  } else {
    const auto it = file.properties.find(kOnnxMetadataProperty);
    if (it == file.properties.end())
      fail(
          "{}: no metadata: neither {} nor a metadata property \"{}\" in the file (export the "
          "model with scripts/export_models.py --format onnx)",
          path, sidecar, kOnnxMetadataProperty);
    text = it->second;
    where = fmt::format("{}: metadata property \"{}\"", path, kOnnxMetadataProperty);
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for 1e999
    fail("{}: invalid JSON: {}", where, e.what());
  }
  ModelMetadata m = ModelMetadata::from_json(j, where);
  if (!std::holds_alternative<std::monostate>(m.select))
    fail("{}: \"select\" must be null for an ONNX model (its graph has one output tensor)", where);
  return m;
}

class OnnxExtractor : public FeatureExtractor {
 public:
  OnnxExtractor(ExtractorInfo info, cv::dnn::Net net)
      : FeatureExtractor(std::move(info)), net_(std::move(net)) {}

  bool prefers_batches() const override { return !one_at_a_time_; }

  // For graphs that OpenCV runs right on one image but not on a batch (seen with some
  // reshape-heavy graphs): forward passes of one image each.
  void run_one_at_a_time() {
    one_at_a_time_ = true;
    info_.provenance["batching"] = "one image per forward pass (OpenCV mis-shapes batches of it)";
  }

  // Runs the graph on [n, 3, h, w] floats; writes [n, row_size()] after checking the output's
  // shape against the metadata.
  void run(const float* data, int64_t n, int h, int w, float* out) {
    const int sizes[] = {static_cast<int>(n), 3, h, w};
    const cv::Mat blob(4, sizes, CV_32F, const_cast<float*>(data));
    cv::Mat y;
    try {
      quietly([&] {
        net_.setInput(blob);
        y = net_.forward();
      });
    } catch (const cv::Exception& e) {
      const std::string msg = cv_message(e);
      const std::string op = failing_operator(msg);
      fail("{}: OpenCV {} cannot run this graph{}: {}", info_.model_path, CV_VERSION,
           op.empty() ? "" : fmt::format(" (operator {})", op), msg);
    }
    std::vector<int> shape(y.size.p, y.size.p + y.dims);
    const bool tokens = output_kind() == OutputKind::kTokens;
    const bool ok = y.type() == CV_32F && y.isContinuous() &&
                    (tokens ? (y.dims == 3 && shape[0] == n && shape[1] == this->tokens() &&
                               shape[2] == dim())
                            : (y.dims == 2 && shape[0] == n && shape[1] == dim()));
    if (!ok)
      fail("{}: output [{}] does not match the metadata ({} [{}, {}])", info_.model_path,
           fmt::join(shape, ", "), to_string(output_kind()), n,
           tokens ? fmt::format("{}, {}", this->tokens(), dim()) : std::to_string(dim()));
    std::memcpy(out, y.ptr<float>(), sizeof(float) * n * row_size());
  }

  void extract(const ImageBatch& b, float* out) override {
    if (!one_at_a_time_) return run(b.data, b.n, b.height, b.width, out);
    const int64_t pixels = int64_t{3} * b.height * b.width;
    for (int64_t i = 0; i < b.n; ++i)
      run(b.data + i * pixels, 1, b.height, b.width, out + i * row_size());
  }

 private:
  cv::dnn::Net net_;
  bool one_at_a_time_ = false;
};

}  // namespace

ModelMetadata read_onnx_metadata(const std::string& path) {
  return metadata_of(path, parse_onnx_file_info(read_whole(path), path));
}

std::unique_ptr<FeatureExtractor> create_onnx_extractor(const std::string& path,
                                                        const std::string& spec,
                                                        const ExtractorOptions& options) {
  if (options.device != "cpu")
    fail("{}: onnx: models run on the CPU (OpenCV DNN); device \"{}\" is not available for them",
         path, options.device);
  const std::string bytes = read_whole(path);
  const OnnxFileInfo file = parse_onnx_file_info(bytes, path);
  const ModelMetadata meta = metadata_of(path, file);

  cv::dnn::Net net;
  try {
    net = quietly([&] { return cv::dnn::readNetFromONNX(bytes.data(), bytes.size()); });
  } catch (const cv::Exception& e) {
    const std::string msg = cv_message(e);
    const std::string op = failing_operator(msg);
    if (op.empty()) fail("{}: OpenCV {} cannot read this ONNX model: {}", path, CV_VERSION, msg);
    fail("{}: OpenCV {} cannot run operator {} ({})", path, CV_VERSION, op, msg);
  }
  if (net.empty()) fail("{}: OpenCV {} read no layer from this ONNX model", path, CV_VERSION);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  if (options.threads > 0) cv::setNumThreads(options.threads);

  ExtractorInfo info =
      impl::info_from_metadata(meta, path, spec, options.preprocess, sha256_hex(bytes));
  info.device = "cpu";

  auto ex = std::make_unique<OnnxExtractor>(std::move(info), std::move(net));
  // Dummy input of the declared size: operators OpenCV cannot run and shapes that disagree with
  // the metadata surface here, at load time. Then a batch of two, which must give the same rows.
  const auto [w, h] = ex->preprocess().nominal_input_size();
  const size_t pixels = static_cast<size_t>(3) * h * w, row = static_cast<size_t>(ex->row_size());
  std::vector<float> input(2 * pixels), one(2 * row), two(2 * row);
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(i % 97) / 97.0f - 0.5f;
  ex->run(input.data(), 1, h, w, one.data());
  ex->run(input.data() + pixels, 1, h, w, one.data() + row);
  try {
    ex->run(input.data(), 2, h, w, two.data());
    float diff = 0, scale = 0;
    for (size_t i = 0; i < one.size(); ++i) {
      diff = std::max(diff, std::abs(one[i] - two[i]));
      scale = std::max(scale, std::abs(one[i]));
    }
    if (!(diff <= 1e-4f * std::max(scale, 1.0f))) ex->run_one_at_a_time();
  } catch (const Error&) {
    ex->run_one_at_a_time();
  }
  return ex;
}

}  // namespace repbench::models
