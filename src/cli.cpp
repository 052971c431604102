#include "cli.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace hiserve {
namespace {

bool parse_uint(const std::string& s, unsigned long long min, unsigned long long max,
                unsigned long long* out) {
  if (s.empty() || s[0] == '-' || s[0] == '+') return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno || *end || v < min || v > max) return false;
  *out = v;
  return true;
}

bool parse_seconds(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno || *end || !std::isfinite(v) || v <= 0 || v > 86400 * 365) return false;
  *out = v;
  return true;
}

}  // namespace

const char* usage() noexcept {
  return "usage: hiserve [flags]\n"
         "Serves /hi (the visitor counter of Brad Fitzpatrick's Go profiling talk) over HTTP/1.1.\n"
         "\n"
         "  --host ADDR|NAME        address to listen on, or a name: every address it resolves to\n"
         "                          (default 127.0.0.1; on Linux, :: takes IPv4 too unless\n"
         "                          net.ipv6.bindv6only=1)\n"
         "  --port N                port; 0 picks a free one and logs it (default 8080)\n"
         "  --threads N             event loops, one thread each (default: one per core)\n"
         "  --max-connections N     open connections at once; more are closed (default 10000)\n"
         "  --max-head-bytes N      request line + headers limit, else 431 (default 8192)\n"
         "  --max-body-bytes N      request body limit, else 413 (default 1048576)\n"
         "  --header-timeout SECS   a request head must arrive within this (default 10)\n"
         "  --idle-timeout SECS     idle keep-alive connections close after this (default 60)\n"
         "  --counter STORE         where the visitor count lives (default file:hiserve.counter):\n"
         "                          file:PATH    a file on this machine; survives restarts and crashes\n"
         "                          redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?key=NAME]\n"
         "                                       shared by any number of hiserve processes\n"
         "                          memory       starts at 1 every run\n"
         "  --counter-block N       visitor numbers reserved per lease (default 1000; grows to 64x under load)\n"
         "  --stats-interval SECS   log connection, error and counter figures to stderr this often (default: off)\n"
         "  --metrics-addr HOST:PORT\n"
         "                          serve Prometheus /metrics and live CPU profiles\n"
         "                          (/debug/pprof/profile?seconds=N) on a second listener (default: off);\n"
         "                          no authentication: bind it to loopback or a private interface only\n"
#ifndef HISERVE_PROFILER
         "                          (this build has no gperftools libprofiler: profiles answer 501)\n"
#endif
         "  --help                  this text\n"
         "\n"
         "Flags take --flag value or --flag=value. SIGINT/SIGTERM stop gracefully.\n";
}

CliResult parse_cli(int argc, const char* const* argv) {
  CliResult r;
  auto fail = [&r](std::string msg) {
    r.action = CliResult::Action::Error;
    r.error = std::move(msg);
    return r;
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      r.action = CliResult::Action::Help;
      return r;
    }
    if (arg.substr(0, 2) != "--") return fail("unexpected argument: " + std::string(arg));
    std::string name, value;
    if (std::size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else {
      name = arg;
      if (i + 1 >= argc) return fail("flag " + name + " needs a value");
      value = argv[++i];
    }
    Config& c = r.config;
    unsigned long long n = 0;
    auto bad = [&] { return fail("invalid value for " + name + ": '" + value + "'"); };
    if (name == "--host") {
      if (value.empty()) return bad();
      c.host = value;
    } else if (name == "--port") {
      if (!parse_uint(value, 0, 65535, &n)) return bad();
      c.port = static_cast<int>(n);
    } else if (name == "--threads") {
      if (!parse_uint(value, 1, 1024, &n)) return bad();
      c.threads = static_cast<unsigned>(n);
    } else if (name == "--max-connections") {
      if (!parse_uint(value, 1, 10'000'000, &n)) return bad();
      c.max_connections = n;
    } else if (name == "--max-head-bytes") {
      if (!parse_uint(value, 64, 1 << 24, &n)) return bad();
      c.limits.max_head_bytes = n;
    } else if (name == "--max-body-bytes") {
      if (!parse_uint(value, 0, 1ull << 30, &n)) return bad();
      c.limits.max_body_bytes = n;
    } else if (name == "--header-timeout") {
      if (!parse_seconds(value, &c.header_timeout_s)) return bad();
    } else if (name == "--idle-timeout") {
      if (!parse_seconds(value, &c.idle_timeout_s)) return bad();
    } else if (name == "--counter") {
      if (value.empty()) return bad();  // the store itself is checked when it is opened
      c.counter = value;
    } else if (name == "--counter-block") {
      if (!parse_uint(value, 1, 1'000'000'000, &n)) return bad();
      c.counter_block = n;
    } else if (name == "--metrics-addr") {
      // HOST:PORT, an IPv6 host in brackets: [::1]:9100.
      const std::size_t colon = value.rfind(':');
      if (colon == std::string::npos || !parse_uint(value.substr(colon + 1), 0, 65535, &n)) return bad();
      std::string host = value.substr(0, colon);
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
      if (host.empty() || host.find_first_of("[]") != std::string::npos) return bad();
      c.metrics_host = host;
      c.metrics_port = static_cast<int>(n);
    } else if (name == "--stats-interval") {
      if (!parse_seconds(value, &c.stats_interval_s)) return bad();
    } else {
      return fail("unknown flag: " + name);
    }
  }
  return r;
}

}  // namespace hiserve
