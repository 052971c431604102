// libFuzzer entry: an arbitrary command line (arguments split at NUL bytes) through
// hiserve's flag parser, --metrics-addr's HOST:PORT included. Never a crash; an error
// is one line; a command line accepted gives a Config inside every flag's range.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli.hpp"

namespace {
[[noreturn]] void broken(const char* what, const std::string& detail) {
  std::fprintf(stderr, "command line invariant broken: %s: %s\n", what, detail.c_str());
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args = {"hiserve"};
  std::string cur;
  for (std::size_t i = 0; i < size && args.size() < 64; ++i) {
    if (data[i] == 0) {
      args.push_back(cur), cur.clear();
    } else {
      cur += static_cast<char>(data[i]);
    }
  }
  args.push_back(cur);
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  const hiserve::CliResult r = hiserve::parse_cli(static_cast<int>(argv.size()), argv.data());
  using Action = hiserve::CliResult::Action;
  if (r.action == Action::Error) {
    if (r.error.empty() || r.error.find('\n') != std::string::npos) broken("error not one line", r.error);
    return 0;
  }
  const hiserve::Config& c = r.config;
  if (c.port < 0 || c.port > 65535) broken("port", std::to_string(c.port));
  if (c.threads > 1024) broken("threads", std::to_string(c.threads));
  if (c.max_connections < 1 || c.limits.max_head_bytes < 64) broken("limits", "");
  if (!(c.header_timeout_s > 0) || !(c.idle_timeout_s > 0)) broken("timeouts", "");
  if (c.host.empty() || c.counter.empty()) broken("empty text flag", "");
  if (c.metrics_port > 65535 || (c.metrics_port >= 0 && (c.metrics_host.empty() ||
                                                         c.metrics_host.find_first_of("[]") != std::string::npos)))
    broken("--metrics-addr", c.metrics_host + " " + std::to_string(c.metrics_port));
  return 0;
}
