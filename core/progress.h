// Progress of long work on stderr: on a terminal, one line redrawn in place (items done / total,
// rate, time left) at most 5 times a second; otherwise (CI logs, files) no carriage returns: a
// plain line every 30 s and one summary line at the end.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace repbench {

enum class ProgressMode {
  kAuto,   // live line when the stream is a terminal, periodic lines otherwise
  kLines,  // periodic lines and a summary, even on a terminal
  kOff,    // nothing
};

class Progress {
 public:
  // `done` items are already finished (e.g. reused from a cache) and do not count in the rate.
  Progress(std::string label, int64_t total, ProgressMode mode = ProgressMode::kAuto,
           int64_t done = 0, std::FILE* stream = stderr);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t n);
  // Prints the summary line (once).
  void finish();

  int64_t done() const { return done_; }

 private:
  void draw(bool final);

  std::string label_;
  int64_t total_;
  int64_t done_;
  int64_t start_done_;
  std::FILE* stream_;
  bool live_ = false;  // redraw in place
  bool off_ = false;
  bool finished_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

// "3m05s", "1h02m", "42s"
std::string format_duration(double seconds);

}  // namespace repbench
