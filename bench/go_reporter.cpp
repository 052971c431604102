#include "go_reporter.hpp"

#include <cinttypes>
#include <cstdio>
#include <iostream>

#include "hiserve/alloc.hpp"

namespace {

// Go's benchmark name: the Google Benchmark name without "/real_time", and with
// "/threads:N" turned into the "-N" suffix.
std::string go_name(const benchmark::BenchmarkReporter::Run& run) {
  std::string name = run.run_name.function_name;
  if (!run.run_name.args.empty()) name += "/" + run.run_name.args;
  return name + "-" + std::to_string(run.threads);
}

double counter(const benchmark::BenchmarkReporter::Run& run, const char* name) {
  auto it = run.counters.find(name);
  return it == run.counters.end() ? -1 : it->second.value;
}

// Go's testing.BenchmarkResult formatting of ns/op.
std::string format_ns(double ns) {
  char buf[32];
  if (ns >= 100) std::snprintf(buf, sizeof buf, "%10.0f", ns);
  else if (ns >= 10) std::snprintf(buf, sizeof buf, "%12.1f", ns);
  else std::snprintf(buf, sizeof buf, "%13.2f", ns);
  return buf;
}

}  // namespace

GoReporter::GoReporter(const std::string& go_file) {
  if (!go_file.empty()) file_.open(go_file);
}

bool GoReporter::ReportContext(const Context& context) {
  const benchmark::CPUInfo& cpu = context.cpu_info;
  std::string head = "goos: linux\ncpu: " + std::to_string(cpu.num_cpus) + " x " +
                     std::to_string(static_cast<int>(cpu.cycles_per_second / 1e6)) + " MHz\nallocator: " +
                     hiserve::mem::name() + "\n";
  std::cout << head << std::flush;
  if (file_.is_open()) file_ << head;
  return true;
}

std::string GoReporter::line(const Run& run) {
  // Google Benchmark divides a multi-threaded run's wall time by the iterations of
  // all threads: what Go's RunParallel reports as ns/op.
  const double ns = run.GetAdjustedRealTime() * 1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit);
  char buf[256];
  std::string s = go_name(run);
  std::snprintf(buf, sizeof buf, "\t%10" PRId64 "\t%s ns/op", static_cast<std::int64_t>(run.iterations),
                format_ns(ns).c_str());
  s += buf;
  if (double bps = counter(run, "bytes_per_second"); bps >= 0) {
    std::snprintf(buf, sizeof buf, "\t%7.2f MB/s", bps / 1e6);
    s += buf;
  }
  const double bytes = counter(run, "B/op"), allocs = counter(run, "allocs/op");
  if (bytes >= 0 && allocs >= 0) {
    // Go truncates both to whole numbers.
    std::snprintf(buf, sizeof buf, "\t%8" PRId64 " B/op\t%8" PRId64 " allocs/op", static_cast<std::int64_t>(bytes),
                  static_cast<std::int64_t>(allocs));
    s += buf;
  }
  return s;
}

void GoReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& run : runs) {
    if (run.run_type == Run::RT_Aggregate) continue;
    if (run.error_occurred) {
      std::cout << "--- FAIL: " << go_name(run) << "\n\t" << run.error_message << std::endl;
      continue;
    }
    std::string s = line(run);
    std::cout << s << std::endl;
    if (file_.is_open()) file_ << s << '\n' << std::flush;
  }
}
