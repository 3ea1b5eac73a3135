#include "core/progress.h"

#include "core/elapsed.h"

#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

namespace repbench {

namespace {
constexpr double kLiveInterval = 0.2;   // seconds between redraws on a terminal
constexpr double kLineInterval = 30.0;  // seconds between plain lines otherwise
}  // namespace

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int64_t t = static_cast<int64_t>(std::llround(s));
  if (t < 60) return fmt::format("{}s", t);
  if (t < 3600) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
}

Progress::Progress(std::string label, int64_t total, ProgressMode mode, int64_t done,
                   std::FILE* stream)
    : label_(std::move(label)),
      total_(total),
      done_(done),
      start_done_(done),
      stream_(stream),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {
  off_ = mode == ProgressMode::kOff || stream_ == nullptr;
  live_ = !off_ && mode == ProgressMode::kAuto && isatty(fileno(stream_));
}

Progress::~Progress() {
  // Unwinding (an error is on its way): end the live line so the message starts on its own.
  if (live_ && drawn_ && !finished_) std::fputc('\n', stream_);
}

void Progress::advance(int64_t n) {
  done_ += n;
  if (off_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (since >= (live_ ? kLiveInterval : kLineInterval)) {
    last_ = now;
    draw(false);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!off_) draw(true);
}

void Progress::draw(bool final) {
  const double elapsed =
      seconds_since(start_);
  const int64_t fresh = done_ - start_done_;
  const double rate = elapsed > 0 ? fresh / elapsed : 0.0;
  std::string line;
  if (final) {
    line =
        fmt::format("{}: {} items in {} ({:.1f}/s)", label_, done_, format_duration(elapsed), rate);
    if (start_done_ > 0) line += fmt::format(", {} reused", start_done_);
  } else {
    const double left = rate > 0 ? (total_ - done_) / rate : NAN;
    line = fmt::format("{}: {}/{} ({:.1f}/s, {} left)", label_, done_, total_, rate,
                       format_duration(left));
  }
  if (live_) {
    fmt::print(stream_, "\r\033[K{}", line);  // redraw in place, clearing the old line
    if (final) std::fputc('\n', stream_);
  } else {
    fmt::print(stream_, "{}\n", line);
  }
  drawn_ = true;
  std::fflush(stream_);
}

}  // namespace repbench
