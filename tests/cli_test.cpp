#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"

using namespace hiserve;

namespace {
CliResult parse(std::vector<const char*> args) {
  args.insert(args.begin(), "hiserve");
  return parse_cli(static_cast<int>(args.size()), args.data());
}
}  // namespace

TEST_CASE("defaults are docs/behaviour.md's") {
  CliResult r = parse({});
  REQUIRE(r.action == CliResult::Action::Serve);
  CHECK(r.config.host == "127.0.0.1");
  CHECK(r.config.port == 8080);
  CHECK(r.config.threads == 0);
  CHECK(r.config.max_connections == 10000);
  CHECK(r.config.limits.max_head_bytes == 8192);
  CHECK(r.config.limits.max_body_bytes == 1048576);
  CHECK(r.config.header_timeout_s == 10);
  CHECK(r.config.idle_timeout_s == 60);
  CHECK(r.config.stats_interval_s == 0);
  CHECK(r.config.counter == "file:hiserve.counter");
  CHECK(r.config.counter_block == 1000);
  CHECK(r.config.metrics_port == -1);  // no metrics listener unless asked
}

TEST_CASE("--flag value and --flag=value") {
  CliResult r = parse({"--port", "0", "--threads=3", "--host=::1", "--max-connections", "5", "--max-head-bytes=100",
                       "--max-body-bytes", "0", "--header-timeout", "0.5", "--idle-timeout=2", "--stats-interval", "5", "--counter", "redis://h:1/2?key=k",
                       "--counter-block=7"});
  REQUIRE(r.action == CliResult::Action::Serve);
  CHECK(r.config.port == 0);
  CHECK(r.config.threads == 3);
  CHECK(r.config.host == "::1");
  CHECK(r.config.max_connections == 5);
  CHECK(r.config.limits.max_head_bytes == 100);
  CHECK(r.config.limits.max_body_bytes == 0);
  CHECK(r.config.header_timeout_s == 0.5);
  CHECK(r.config.idle_timeout_s == 2);
  CHECK(r.config.stats_interval_s == 5);
  CHECK(r.config.counter == "redis://h:1/2?key=k");
  CHECK(r.config.counter_block == 7);
}

TEST_CASE("--metrics-addr HOST:PORT, an IPv6 host in brackets") {
  CliResult r = parse({"--metrics-addr", "127.0.0.1:9100"});
  REQUIRE(r.action == CliResult::Action::Serve);
  CHECK(r.config.metrics_host == "127.0.0.1");
  CHECK(r.config.metrics_port == 9100);
  r = parse({"--metrics-addr=[::1]:0"});
  REQUIRE(r.action == CliResult::Action::Serve);
  CHECK(r.config.metrics_host == "::1");
  CHECK(r.config.metrics_port == 0);
  CHECK(std::string(usage()).find("no authentication") != std::string::npos);
}

TEST_CASE("bad flags are one clear error") {
  for (auto args : std::vector<std::vector<const char*>>{
           {"--port", "65536"}, {"--port", "-1"}, {"--port=abc"}, {"--threads", "0"}, {"--nope", "1"},
           {"--port"}, {"stray"}, {"--header-timeout", "0"}, {"--idle-timeout=nan"}, {"--max-connections=1x"},
           {"--stats-interval=0"}, {"--counter="}, {"--counter-block", "0"}, {"--counter-block=x"},
           {"--metrics-addr", "9100"}, {"--metrics-addr=:9100"}, {"--metrics-addr=h:"}, {"--metrics-addr=h:65536"},
           {"--metrics-addr=[::1]"}, {"--metrics-addr=::1:9100x"}}) {
    CliResult r = parse(args);
    CHECK(r.action == CliResult::Action::Error);
    CHECK_FALSE(r.error.empty());
    CHECK(r.error.find('\n') == std::string::npos);
  }
  CHECK(parse({"--help"}).action == CliResult::Action::Help);
  // A flag nobody knows is named as such, value or not.
  CHECK(parse({"--bogus"}).error == "unknown flag: --bogus");
  CHECK(parse({"--bogus=1"}).error == "unknown flag: --bogus");
  CHECK(parse({"--port"}).error == "flag --port needs a value");
  std::string u = usage();
  for (const char* flag : {"--host", "--port", "--threads", "--max-connections", "--max-head-bytes", "--max-body-bytes",
                           "--header-timeout", "--idle-timeout", "--stats-interval", "--counter", "--counter-block", "--metrics-addr"})
    CHECK(u.find(flag) != std::string::npos);
}

TEST_CASE("--version names the project's version") {
  CHECK(parse({"--port", "1", "--version"}).action == CliResult::Action::Version);
  CHECK(version_line() == std::string("hiserve ") + HISERVE_VERSION + "\n");
}

TEST_CASE("--help's defaults are Config{}'s, and the README shows --help as the binary prints it") {
  const std::string u = usage();
  CHECK(u.find("--port N                port; 0 picks a free one and logs it (default 8080)\n") != std::string::npos);
  CHECK(u.find("(default file:hiserve.counter)") != std::string::npos);
  CHECK(u.find("grows up to 64x") != std::string::npos);
  std::ifstream in(std::string(HISERVE_SOURCE_ROOT) + "/README.md");
  std::stringstream readme;
  readme << in.rdbuf();
  const std::string text = readme.str();
  const std::string open = "## Flags\n\n```\n";
  const std::size_t at = text.find(open);
  REQUIRE(at != std::string::npos);
  const std::size_t start = at + open.size();
  CHECK(text.substr(start, text.find("```", start) - start) == u);
}

TEST_CASE("the man page documents every flag --help does, with its range") {
  const std::string m = man_page();
  CHECK(m.rfind(".Dd ", 0) == 0);
  for (const char* flag : {"host", "port", "threads", "max\\-connections", "max\\-head\\-bytes", "max\\-body\\-bytes",
                           "header\\-timeout", "idle\\-timeout", "stats\\-interval", "counter", "counter\\-block",
                           "metrics\\-addr", "version", "help"})
    CHECK_MESSAGE(m.find(std::string(".It Fl \\-") + flag + (std::string(flag) == "version" || std::string(flag) == "help" ? "\n" : " Ar")) != std::string::npos, flag);
  CHECK(m.find("Accepted: 0 to 65535.") != std::string::npos);
}

TEST_CASE("an error quoting what the user gave stays one line: control bytes as \\xHH") {
  const char* argv[] = {"hiserve", "--port", "1\n2", nullptr};
  const CliResult r = parse_cli(3, argv);
  REQUIRE(r.action == CliResult::Action::Error);
  CHECK(r.error == "invalid value for --port: '1\\x0A2'");
  const char* odd[] = {"hiserve", "--\x1b[31mred", nullptr};
  CHECK(parse_cli(2, odd).error.find('\x1b') == std::string::npos);
  CHECK(one_line("a\tb\x7f") == "a\\x09b\\x7F");
}
