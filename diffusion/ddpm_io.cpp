// The torch-free parts of diffusion/ddpm.h: configurations, image lists, checkpoint headers.
#include <algorithm>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "diffusion/ddpm.h"
#include "diffusion/image_prep.h"
#include "diffusion/impl/checkpoint_file.h"
#include "imaging/image_list.h"

namespace repbench::diffusion {

namespace fs = std::filesystem;

namespace {

std::vector<int> get_int_list(const nlohmann::json& j, const char* key, int min,
                              const std::string& where) {
  const auto& v = j.at(key);
  std::vector<int> out;
  if (!v.is_array()) fail("{}: \"{}\" must be a list of integers, found {}", where, key, v.dump());
  for (const auto& e : v) {
    // The upper bound keeps get<int>() from wrapping a huge value into a small one.
    if (!e.is_number_integer() || e.get<int64_t>() < min || e.get<int64_t>() > INT_MAX)
      fail("{}: \"{}\" must hold integers in {}..{}, found {}", where, key, min, INT_MAX, e.dump());
    out.push_back(e.get<int>());
  }
  return out;
}

int get_int(const nlohmann::json& j, const char* key, int min, const std::string& where) {
  const auto& v = j.at(key);
  if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > INT_MAX)
    fail("{}: \"{}\" must be an integer in {}..{}, found {}", where, key, min, INT_MAX, v.dump());
  return v.get<int>();
}

}  // namespace

UNetConfig UNetConfig::small(int image_size) {
  UNetConfig c;
  c.image_size = image_size;
  c.base_channels = 32;
  c.num_res_blocks = 1;
  c.attention_resolutions = {8};
  c.channel_mult = image_size >= 64 ? std::vector<int>{1, 2, 2, 2} : std::vector<int>{1, 2, 2};
  return c;
}

void UNetConfig::Check(const std::string& where) const {
  if (channels != 1 && channels != 3) fail("{}: channels must be 1 or 3; got {}", where, channels);
  if (base_channels < 4) fail("{}: base_channels must be at least 4; got {}", where, base_channels);
  if (channel_mult.empty()) fail("{}: channel_mult must name at least one level", where);
  for (int m : channel_mult)
    if (m < 1) fail("{}: channel_mult values must be positive; got {}", where, m);
  if (num_res_blocks < 1)
    fail("{}: num_res_blocks must be at least 1; got {}", where, num_res_blocks);
  if (!(dropout >= 0 && dropout < 1)) fail("{}: dropout must be in [0, 1); got {}", where, dropout);
  // Checked before the shift below, which is undefined from 31 levels on.
  if (channel_mult.size() > 16)
    fail("{}: channel_mult names {} levels; at most 16", where, channel_mult.size());
  const int div = 1 << (channel_mult.size() - 1);
  if (image_size < div || image_size % div != 0)
    fail("{}: image_size {} must be a multiple of {} for {} levels", where, image_size, div,
         channel_mult.size());
}

UNetConfig UNetConfig::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) fail("{}: expected a JSON object, found {}", where, j.type_name());
  static const std::set<std::string> kKeys = {"image_size",     "channels",
                                              "base_channels",  "channel_mult",
                                              "num_res_blocks", "attention_resolutions",
                                              "dropout"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!kKeys.count(it.key())) fail("{}: unknown key \"{}\"", where, it.key());
  for (const auto& key : kKeys)
    if (!j.contains(key)) fail("{}: missing \"{}\"", where, key);
  UNetConfig c;
  c.image_size = get_int(j, "image_size", 1, where);
  c.channels = get_int(j, "channels", 1, where);
  c.base_channels = get_int(j, "base_channels", 1, where);
  c.channel_mult = get_int_list(j, "channel_mult", 1, where);
  c.num_res_blocks = get_int(j, "num_res_blocks", 1, where);
  c.attention_resolutions = get_int_list(j, "attention_resolutions", 1, where);
  if (!j["dropout"].is_number()) fail("{}: \"dropout\" must be a number", where);
  c.dropout = j["dropout"].get<double>();
  c.Check(where);
  return c;
}

nlohmann::json UNetConfig::to_json() const {
  return {{"image_size", image_size},
          {"channels", channels},
          {"base_channels", base_channels},
          {"channel_mult", channel_mult},
          {"num_res_blocks", num_res_blocks},
          {"attention_resolutions", attention_resolutions},
          {"dropout", dropout}};
}

void TrainOptions::Check(const std::string& where) const {
  unet.Check(where);
  model_config().Check(where);
  if (steps < 0) fail("{}: steps must be >= 0; got {}", where, steps);
  if (batch_size < 1) fail("{}: batch size must be at least 1; got {}", where, batch_size);
  if (!(lr > 0)) fail("{}: learning rate must be positive; got {}", where, lr);
  if (!(ema_decay >= 0 && ema_decay < 1))
    fail("{}: EMA decay must be in [0, 1); got {}", where, ema_decay);
  if (!(grad_clip >= 0)) fail("{}: gradient clip must be >= 0; got {}", where, grad_clip);
  if (checkpoint_every < 0) fail("{}: checkpoint interval must be >= 0", where);
  if (!(max_seconds >= 0)) fail("{}: max seconds must be >= 0", where);
  if (log_every < 1) fail("{}: log interval must be at least 1", where);
}

EpsModelConfig TrainOptions::model_config() const {
  EpsModelConfig c;
  c.image_size = unet.image_size;
  c.channels = unet.channels;
  c.timesteps = timesteps;
  c.beta_schedule = beta_schedule;
  c.beta_start = beta_start;
  c.beta_end = beta_end;
  c.num_classes = 0;
  c.learn_sigma = false;
  // The posterior variance gives cleaner samples than beta_t with few respaced steps.
  c.sigma_small = true;
  c.name = fmt::format("repbench DDPM UNet {}px (base {}, mult {})", unet.image_size,
                       unet.base_channels, fmt::join(unet.channel_mult, ","));
  return c;
}

nlohmann::json TrainResult::to_json() const {
  nlohmann::json j{{"checkpoint", checkpoint},     {"sha256", sha256},
                   {"steps_done", steps_done},     {"steps_this_run", steps_this_run},
                   {"resumed_from", resumed_from}, {"stopped_by_time", stopped_by_time},
                   {"seconds", seconds},           {"images_per_second", images_per_second},
                   {"parameters", parameters}};
  if (!losses.empty()) {
    // First and last 100-step means: the record shows that the loss went down.
    auto mean = [&](size_t a, size_t b) {
      double s = 0;
      for (size_t i = a; i < b; ++i) s += losses[i];
      return b > a ? s / static_cast<double>(b - a) : 0.0;
    };
    const size_t n = losses.size(), w = std::min<size_t>(100, n);
    j["loss_first"] = mean(0, w);
    j["loss_last"] = mean(n - w, n);
  }
  return j;
}

std::vector<std::string> list_training_images(const std::string& dir_or_list) {
  return imaging::read_image_list(dir_or_list, {imaging::FolderRule::kTopOrSubfolders}).paths;
}

TrainImages load_training_images(const std::vector<std::string>& paths, int size, int channels) {
  if (channels != 1 && channels != 3) fail("training images must have 1 or 3 channels");
  TrainImages t;
  t.size = size;
  t.channels = channels;
  t.n = static_cast<int64_t>(paths.size());
  const size_t per = static_cast<size_t>(size) * size * channels;
  t.pixels.resize(per * paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    const imaging::RgbImage im = center_crop_arr(imaging::decode_image(paths[i]), size);
    if (channels == 3) {
      std::memcpy(t.pixels.data() + i * per, im.pixels.data(), per);
    } else {
      const std::vector<uint8_t> g = to_grey(im);
      std::memcpy(t.pixels.data() + i * per, g.data(), per);
    }
  }
  t.paths = paths;
  return t;
}

bool is_checkpoint_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[8] = {};
  if (!f.read(magic, 8)) return false;
  return std::memcmp(magic, kCheckpointMagic, 8) == 0;
}

namespace {

// The header's length from the file's first bytes (`head`: up to 16 of them) after checking the
// magic, for a file of `file_size` bytes; `name` prefixes the errors.
uint64_t checkpoint_header_length(std::string_view head, uint64_t file_size,
                                  const std::string& name) {
  if (head.size() < 8 || std::memcmp(head.data(), kCheckpointMagic, 8) != 0)
    fail("{}: not a repbench DDPM checkpoint (no \"{}\" at its start)", name, kCheckpointMagic);
  if (head.size() < 16) fail("{}: checkpoint header cut short", name);
  uint64_t len = 0;
  for (int i = 15; i >= 8; --i) len = (len << 8) | static_cast<unsigned char>(head[i]);
  if (len > (uint64_t{1} << 32))
    fail("{}: checkpoint header of {} bytes is implausible", name, len);
  // Before allocating: a short file announcing a 4 GB header must not cost 4 GB (found by
  // tests/fuzz/fuzz_diffusion_config.cpp).
  if (len > file_size - std::min<uint64_t>(file_size, 16))
    fail("{}: checkpoint header cut short ({} bytes announced)", name, len);
  return len;
}

// The header's JSON text, parsed and checked.
nlohmann::json parse_checkpoint_header_text(std::string_view text, const std::string& name) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for 1e999
    fail("{}: checkpoint header is not valid JSON: {}", name, e.what());
  }
  // Compared as json values, not with value(), which throws on a field of another type.
  if (!j.is_object() || !j.contains("format") || j["format"] != kCheckpointFormat ||
      !j.contains("metadata") || !j.contains("unet"))
    fail("{}: checkpoint header lacks format \"{}\", metadata or unet", name, kCheckpointFormat);
  if (!j.contains("version") || j["version"] != 1)
    fail("{}: checkpoint version {} is not supported (this repbench reads 1)", name,
         j.contains("version") ? j["version"].dump() : "(none)");
  return j;
}

}  // namespace

nlohmann::json parse_checkpoint_header(std::string_view bytes, const std::string& name) {
  const uint64_t len = checkpoint_header_length(bytes.substr(0, 16), bytes.size(), name);
  return parse_checkpoint_header_text(bytes.substr(16, len), name);
}

nlohmann::json read_checkpoint_header(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("{}: cannot open checkpoint ({})", path, std::strerror(errno));
  char head[16] = {};
  f.read(head, 16);
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  // An unknown size reads as 0: any announced header is then cut short.
  const uint64_t len = checkpoint_header_length(std::string_view(head, f.gcount()),
                                                ec ? 0 : static_cast<uint64_t>(size), path);
  if (ec) fail("{}: checkpoint header cut short ({} bytes announced)", path, len);
  std::string text(len, '\0');
  if (!f.read(text.data(), static_cast<std::streamsize>(len)))
    fail("{}: checkpoint header cut short ({} bytes announced)", path, len);
  return parse_checkpoint_header_text(text, path);
}

}  // namespace repbench::diffusion

namespace repbench::diffusion::impl {

CheckpointBytes read_checkpoint_file(const std::string& path) {
  CheckpointBytes c;
  c.header = read_checkpoint_header(path);
  const std::string all = read_file(path);
  uint64_t len = 0;
  for (int i = 15; i >= 8; --i) len = (len << 8) | static_cast<unsigned char>(all[i]);
  if (all.size() <= 16 + len) fail("{}: checkpoint has no weights after its header", path);
  c.archive = all.substr(16 + len);
  return c;
}

void write_checkpoint_file(const std::string& path, const nlohmann::json& header,
                           const std::string& archive) {
  const std::string text = header.dump();
  std::string head(kCheckpointMagic, 8);
  uint64_t len = text.size();
  for (int i = 0; i < 8; ++i) head.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  AtomicFile f(path);
  f.write(head);
  f.write(text);
  f.write(archive);
  f.commit();
}

}  // namespace repbench::diffusion::impl
