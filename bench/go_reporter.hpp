// A Google Benchmark reporter that prints `go test -bench -benchmem` lines, so Go's
// benchcmp reads hiserve's results as it read the talk's:
//   BenchmarkHi/final-1   12345678   85.3 ns/op   0 B/op   0 allocs/op
// "/threads:N" becomes Go's "-N" suffix (1 for single-threaded benchmarks);
// repetition aggregates (mean, median, ...) are left to the JSON file.
#pragma once
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>
#include <vector>

class GoReporter : public benchmark::BenchmarkReporter {
 public:
  // Lines go to stdout, and to go_file when it is not empty.
  explicit GoReporter(const std::string& go_file);
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;

  // The Go-format line for one run.
  static std::string line(const Run& run);

 private:
  std::ofstream file_;
};
