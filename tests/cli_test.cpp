#include <doctest/doctest.h>

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

TEST_CASE("defaults are SPEC.md's") {
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
  std::string u = usage();
  for (const char* flag : {"--host", "--port", "--threads", "--max-connections", "--max-head-bytes", "--max-body-bytes",
                           "--header-timeout", "--idle-timeout", "--stats-interval", "--counter", "--counter-block", "--metrics-addr"})
    CHECK(u.find(flag) != std::string::npos);
}
