#include "report/gnuplot.h"

#include <stdlib.h>

#include <system_error>

#include "core/atomic_file.h"
#include "core/commit_group.h"
#include "core/error.h"
#include "core/subprocess.h"

namespace fs = std::filesystem;

namespace repbench::report {

namespace {

// A folder from mkdtemp, removed with its contents when the job is done or fails.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "repbench-gnuplot-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) fail("cannot create a temporary folder under {}", pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Only plain names: the script and its outputs stay inside the temporary folder.
void check_name(const std::string& name) {
  REPBENCH_ASSERT(!name.empty() && name.find('/') == std::string::npos && name != "." &&
                  name != "..");
}

}  // namespace

void run_gnuplot(const GnuplotJob& job, double timeout_s) {
  if (!find_program("gnuplot"))
    fail(
        "cannot draw plots: gnuplot is not on PATH (install gnuplot-nox, e.g. with "
        "scripts/setup.sh)");
  TempDir dir;
  CommitGroup inputs(CommitGroup::kOwn);  // gnuplot's inputs are on disk before it runs
  for (const auto& [name, content] : job.files) {
    check_name(name);
    write_file_atomic((dir.path() / name).string(), content);
  }
  write_file_atomic((dir.path() / "plot.gp").string(), job.script);
  inputs.commit();
  for (const auto& [name, dest] : job.outputs) check_name(name);

  const ProcessResult r = run_process({"gnuplot", "plot.gp"}, dir.path().string(), timeout_s);
  if (r.timed_out) fail("gnuplot did not finish within {:.0f} s", timeout_s);
  if (r.exit_code != 0) {
    const std::string why = first_line(r.err);
    fail("gnuplot failed (exit status {}): {}", r.exit_code, why.empty() ? "no message" : why);
  }
  for (const auto& [name, dest] : job.outputs) {
    std::error_code ec;
    if (fs::file_size(dir.path() / name, ec) == 0 || ec)
      fail("gnuplot wrote no {} (its stderr: {})", name,
           first_line(r.err).empty() ? "empty" : first_line(r.err));
  }
  for (const auto& [name, dest] : job.outputs)
    write_file_atomic(dest.string(), read_file((dir.path() / name).string()));
}

}  // namespace repbench::report
