#include "cli.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <type_traits>
#include <vector>

#include "hiserve/store/store_thread.hpp"

namespace hiserve {
namespace {

// How a flag's value is read.
enum class Kind : std::uint8_t {
  Text,      // any non-empty string (the store and the host are checked when opened)
  Count,     // a decimal integer in [min, max]
  Seconds,   // a decimal number, min < v <= max
  HostPort,  // HOST:PORT, an IPv6 host in brackets
};

struct Flag {
  const char* name;
  const char* metavar;
  // --help's text: lines after the first are indented under it. "(default ...)" is
  // added to the first line (before a closing ':'), from Config{}.
  const char* help;
  Kind kind;
  double min, max;
  const char* unset;  // how a default of 0 or "" reads ("off", "one per core")
  std::string (*read)(const Config& c);
  bool (*write)(const Flag& f, Config& c, const std::string& value);
};

bool parse_count(const std::string& s, const Flag& f, unsigned long long* out) {
  if (s.empty() || s[0] == '-' || s[0] == '+') return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno || *end || v < f.min || v > f.max) return false;
  *out = v;
  return true;
}

bool parse_seconds(const std::string& s, const Flag& f, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (errno || *end || !std::isfinite(v) || v <= f.min || v > f.max) return false;
  *out = v;
  return true;
}

std::string show(const std::string& v) { return v; }
std::string show(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
template <class T>
std::enable_if_t<std::is_integral_v<T>, std::string> show(T v) {
  return std::to_string(v);
}

template <class T>
bool parse_into(const Flag& f, const std::string& s, T& field) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (s.empty()) return false;
    field = s;
  } else if constexpr (std::is_floating_point_v<T>) {
    return parse_seconds(s, f, &field);
  } else {
    unsigned long long n = 0;
    if (!parse_count(s, f, &n)) return false;
    field = static_cast<T>(n);
  }
  return true;
}

// A flag's Config field, as --help shows it and as the parser fills it.
#define HISERVE_FIELD(field)                                    \
  [](const Config& c) { return show(c.field); },                \
  [](const Flag& f, Config& c, const std::string& v) { return parse_into(f, v, c.field); }

bool write_host_port(const Flag& f, Config& c, const std::string& value) {
  const std::size_t colon = value.rfind(':');
  unsigned long long port = 0;
  if (colon == std::string::npos || !parse_count(value.substr(colon + 1), f, &port)) return false;
  std::string host = value.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host.find_first_of("[]") != std::string::npos) return false;
  c.metrics_host = host;
  c.metrics_port = static_cast<int>(port);
  return true;
}

bool write_log_format(const Flag&, Config& c, const std::string& value) {
  if (value != "combined" && value != "json") return false;
  c.access_log_format = value == "json" ? AccessLogFormat::Json : AccessLogFormat::Combined;
  return true;
}

constexpr double kYear = 86400.0 * 365;

const Flag kFlags[] = {
    {"--host", "ADDR|NAME",
     "address or name to listen on\n"
     "(a name: every address it resolves to; on Linux, :: takes IPv4 too\n"
     "unless net.ipv6.bindv6only=1)",
     Kind::Text, 0, 0, nullptr, HISERVE_FIELD(host)},
    {"--port", "N", "port; 0 picks a free one and logs it", Kind::Count, 0, 65535, nullptr, HISERVE_FIELD(port)},
    {"--threads", "N", "event loops, one thread each", Kind::Count, 1, 1024, "one per core", HISERVE_FIELD(threads)},
    {"--max-connections", "N", "open connections at once; more are closed", Kind::Count, 1, 10'000'000, nullptr,
     HISERVE_FIELD(max_connections)},
    {"--max-head-bytes", "N", "request line + headers limit, else 431", Kind::Count, 64, 1 << 24, nullptr,
     HISERVE_FIELD(limits.max_head_bytes)},
    {"--max-body-bytes", "N", "request body limit, else 413", Kind::Count, 0, 1ull << 30, nullptr,
     HISERVE_FIELD(limits.max_body_bytes)},
    {"--header-timeout", "SECS", "a request head must arrive within this", Kind::Seconds, 0, kYear, nullptr,
     HISERVE_FIELD(header_timeout_s)},
    {"--idle-timeout", "SECS", "idle keep-alive connections close after this", Kind::Seconds, 0, kYear, nullptr,
     HISERVE_FIELD(idle_timeout_s)},
    {"--counter", "STORE",
     "where the visitor count lives:\n"
     "file:PATH    a file on this machine; survives restarts and crashes\n"
     "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?key=NAME]\n"
     "             shared by any number of hiserve processes\n"
     "redis-sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...][/DB]\n"
     "             ?sentinelMasterId=NAME[&key=K][&replicas=N]\n"
     "             the same, on the master Sentinel names, through failovers\n"
     "memory       starts at 1 every run",
     Kind::Text, 0, 0, nullptr, HISERVE_FIELD(counter)},
    {"--counter-block", "N", "visitor numbers reserved per lease; grows up to {growth}x under load",
     Kind::Count, 1, 1'000'000'000, nullptr, HISERVE_FIELD(counter_block)},
    {"--stats-interval", "SECS", "log connection, error and counter figures to stderr this often", Kind::Seconds, 0,
     kYear, "off", HISERVE_FIELD(stats_interval_s)},
    {"--metrics-addr", "HOST:PORT",
     "serve Prometheus /metrics, /healthz, /readyz and live CPU profiles\n"
     "(/debug/pprof/profile?seconds=N) on a second listener;\n"
     "no authentication: bind it to loopback or a private interface only",
     Kind::HostPort, 0, 65535, "off", [](const Config& c) { return c.metrics_port < 0 ? std::string() : c.metrics_host; },
     write_host_port},
    {"--pid-file", "PATH", "write the process id here once ready; removed at a normal stop", Kind::Text, 0, 0,
     "none", HISERVE_FIELD(pid_file)},
    {"--access-log", "PATH",
     "append a line per response to this file\n"
     "(nginx's access_log; SIGUSR1 reopens it by its path, for logrotate)",
     Kind::Text, 0, 0, "off", HISERVE_FIELD(access_log)},
    {"--access-log-format", "combined|json", "nginx's combined line, or one JSON object a line", Kind::Text, 0, 0,
     nullptr, [](const Config& c) { return std::string(c.access_log_format == AccessLogFormat::Json ? "json" : "combined"); },
     write_log_format},
};

#undef HISERVE_FIELD

const Flag* find_flag(std::string_view name) {
  for (const Flag& f : kFlags)
    if (name == f.name) return &f;
  return nullptr;
}

// The help text with {growth} filled in, and the default from Config{}.
std::string help_of(const Flag& f) {
  std::string help = f.help;
  if (const std::size_t at = help.find("{growth}"); at != std::string::npos)
    help.replace(at, 8, std::to_string(kMaxBlockGrowth));
  std::string def = f.read(Config{});
  if (def.empty() || def == "0") def = f.unset ? f.unset : def;
  std::size_t at = help.find('\n');
  if (at == std::string::npos) at = help.size();
  if (at > 0 && help[at - 1] == ':') --at;
  return help.insert(at, (f.unset && def == f.unset ? " (default: " : " (default ") + def + ")");
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(text.substr(start, nl - start));
  out.push_back(text.substr(start));
  return out;
}

// man(7) text: a leading '.' or '\'' would be a request, a backslash an escape.
std::string roff(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

}  // namespace

std::string usage() {
  std::string u =
      "usage: hiserve [flags]\n"
      "Serves /hi (the visitor counter of Brad Fitzpatrick's Go profiling talk) over HTTP/1.1.\n"
      "\n";
  constexpr std::size_t kColumn = 26;
  for (const Flag& f : kFlags) {
    std::string head = std::string("  ") + f.name + " " + f.metavar;
    const std::vector<std::string> lines = lines_of(help_of(f));
    // A long name goes on a line of its own.
    u += head.size() + 2 > kColumn ? head + "\n" + std::string(kColumn, ' ') : head + std::string(kColumn - head.size(), ' ');
    u += lines[0] + "\n";
    for (std::size_t i = 1; i < lines.size(); ++i) u += std::string(kColumn, ' ') + lines[i] + "\n";
  }
  u += "  --version               print the version and exit\n"
       "  --help                  this text\n"
       "\n"
       "Flags take --flag value or --flag=value. SIGINT/SIGTERM stop gracefully;\n"
       "SIGUSR1 reopens the access log; SIGUSR2 upgrades: the binary at this one's path\n"
       "takes over the sockets and the count, with no request dropped.\n";
  return u;
}

std::string version_line() { return std::string("hiserve ") + HISERVE_VERSION + "\n"; }

std::string man_page() {
  std::string m =
      ".Dd $Mdocdate$\n"
      ".Dt HISERVE 1\n"
      ".Os\n"
      ".Sh NAME\n"
      ".Nm hiserve\n"
      ".Nd the /hi visitor counter of Go's profiling talk, as a fast HTTP/1.1 server\n"
      ".Sh SYNOPSIS\n"
      ".Nm\n"
      ".Op Fl \\-flag Ar value ...\n"
      ".Sh DESCRIPTION\n"
      ".Nm\n"
      "serves\n"
      ".Pa /hi\n"
      "over HTTP/1.1 on one event loop per thread and hands every visitor a number that is\n"
      "never given twice, kept in a file, in Redis or in memory.\n"
      "Flags take\n"
      ".Fl \\-flag Ar value\n"
      "or\n"
      ".Fl \\-flag Ns = Ns Ar value .\n"
      ".Bl -tag -width Ds\n";
  for (const Flag& f : kFlags) {
    m += std::string(".It Fl ") + roff(std::string(f.name).substr(1)) + " Ar " + roff(f.metavar) + "\n";
    for (const std::string& line : lines_of(help_of(f)))
      m += roff(line.substr(line.find_first_not_of(' '))) + "\n.br\n";
    if (f.kind == Kind::Count || f.kind == Kind::HostPort)
      m += "Accepted: " + show(static_cast<unsigned long long>(f.min)) + " to " +
           show(static_cast<unsigned long long>(f.max)) + (f.kind == Kind::HostPort ? " for the port.\n" : ".\n");
    else if (f.kind == Kind::Seconds)
      m += "Accepted: more than " + show(f.min) + ", at most " + show(f.max) + " seconds.\n";
    else m += "Accepted: any non-empty value.\n";
  }
  m += ".It Fl \\-version\nprint the version and exit.\n"
       ".It Fl \\-help\nprint the flags and exit.\n"
       ".El\n"
       ".Sh SIGNALS\n"
       ".Bl -tag -width Ds\n"
       ".It Dv SIGINT , SIGTERM\n"
       "stop accepting, finish the responses under way, close idle connections, write the\n"
       "access log's buffered lines and exit 0.\n"
       ".It Dv SIGUSR1\n"
       "reopen the access log by its path (after\n"
       ".Xr logrotate 8\n"
       "has renamed it) and write the buffered lines to the new file.\n"
       ".It Dv SIGUSR2\n"
       "upgrade: start the binary now at the path this one was started from, with the same\n"
       "flags, and hand it every listening socket and the visitor count; once it is ready,\n"
       "stop accepting, finish the responses under way and exit 0.\n"
       "If it fails (not executable, exits, not ready within 10 s), one line says why and\n"
       "this process goes on serving.\n"
       ".Ic systemctl reload hiserve\n"
       "sends it.\n"
       ".El\n"
       ".Sh EXIT STATUS\n"
       "0 after a graceful stop, 1 when the server cannot start, 2 for a bad flag.\n"
       ".Sh EXAMPLES\n"
       ".Dl hiserve --port 8080 --counter file:/var/lib/hiserve/counter\n"
       ".Dl curl 'http://127.0.0.1:8080/hi?color=red'\n"
       ".Sh SEE ALSO\n"
       ".Xr curl 1 ,\n"
       ".Xr systemctl 1 ,\n"
       ".Xr logrotate 8\n";
  return m;
}

std::string one_line(std::string_view msg) {
  std::string out;
  for (unsigned char c : msg) {
    if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
      continue;
    }
    static constexpr char kHex[] = "0123456789ABCDEF";
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

CliResult parse_cli(int argc, const char* const* argv) {
  CliResult r;
  auto fail = [&r](const std::string& msg) {
    r.action = CliResult::Action::Error;
    r.error = one_line(msg);
    return r;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      r.action = CliResult::Action::Help;
      return r;
    }
    if (arg == "--version") {
      r.action = CliResult::Action::Version;
      return r;
    }
    if (arg.substr(0, 2) != "--") return fail("unexpected argument: " + std::string(arg));
    const std::size_t eq = arg.find('=');
    const std::string name(arg.substr(0, eq));
    const Flag* f = find_flag(name);
    if (!f) return fail("unknown flag: " + name);
    std::string value;
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
    } else {
      if (i + 1 >= argc) return fail("flag " + name + " needs a value");
      value = argv[++i];
    }
    if (!f->write(*f, r.config, value)) return fail("invalid value for " + name + ": '" + value + "'");
  }
  return r;
}

}  // namespace hiserve
