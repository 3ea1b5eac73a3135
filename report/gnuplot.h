// Drawing with gnuplot (Debian's gnuplot-nox): a generated script and its data files are written
// into a fresh temporary folder, gnuplot runs there as a subprocess (no shell) and refers to
// nothing but those relative file names, and the pictures it makes are then copied atomically
// into place. A user's path therefore never appears inside a gnuplot script.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace repbench::report {

struct GnuplotJob {
  std::string script;                        // gnuplot commands; file names relative to its folder
  std::map<std::string, std::string> files;  // data files the script reads: name -> content
  // Files the script writes (names relative to its folder) -> where each goes, written with
  // write_file_atomic after gnuplot has succeeded.
  std::map<std::string, std::filesystem::path> outputs;
};

// Runs the job. Throws Error (one line) when gnuplot is not on PATH ("install gnuplot-nox"),
// when it fails (with the first line of its stderr), runs past `timeout_s`, or does not write an
// output; nothing is put in place unless every output exists.
void run_gnuplot(const GnuplotJob& job, double timeout_s = 120);

}  // namespace repbench::report
