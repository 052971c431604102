// The metrics listener (--metrics-addr) of a real server on 127.0.0.1:0: exact figures
// after a known mix of requests, the text checked by Prometheus's own promtool, routes
// kept apart from the public listener, and the same answers to hostile input on both.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "http_client.hpp"
#include "process.hpp"
#include "server_fixture.hpp"
#include "session_cases.hpp"

using namespace test;

namespace {

hiserve::Config ops_config() {
  hiserve::Config c = small_config(2);
  c.metrics_host = "127.0.0.1";
  c.metrics_port = 0;
  return c;
}

std::string scrape(int metrics_port) {
  auto r = fetch(metrics_port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(r->header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  return r->body;
}

// "name{labels}" -> value, for every sample line. The form of the text is promtool's
// to judge (below); this only reads the numbers back.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> m;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    if (line.empty() || line[0] == '#') continue;
    const std::size_t sp = line.rfind(' ');
    m[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return m;
}

// `promtool check metrics` on text: its exit status, with what it printed. (Plain
// open(), not mkstemp or a TempDir: the loops close sockets by raw syscall, and TSan
// takes a reused fd it did not see opened for a race.)
int promtool(const std::string& text, std::string* said) {
  const std::string in = "/tmp/hiserve-metrics-" + std::to_string(getpid()) + ".txt";
  const std::string out = "/tmp/hiserve-promtool-" + std::to_string(getpid()) + ".txt";
  const int fd = open(in.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  const int status = std::system(("promtool check metrics < " + in + " > " + out + " 2>&1").c_str());
  std::ifstream f(out);
  said->assign(std::istreambuf_iterator<char>(f), {});
  unlink(in.c_str());
  unlink(out.c_str());
  return WEXITSTATUS(status);
}

// Every answer to input on a fresh connection, Date masked.
std::string answers(int port, const std::string& input, std::size_t expected, bool closes) {
  Client c(port);
  REQUIRE(c.send(input));
  std::string out;
  if (closes) {
    c.wait_closed();
    out = c.buffered();
  } else {
    for (std::size_t i = 0; i < expected; ++i) {
      auto r = c.read_response();
      if (!r) break;
      out += r->status_line + "\n" + r->body + "\n";
      for (const auto& [name, value] : r->headers)
        if (name != "date") out += name + ": " + value + "\n";
    }
  }
  return std::regex_replace(out, std::regex("Date: [^\r]*"), "Date: *");
}

}  // namespace

TEST_CASE("/metrics after a known mix of requests: exact figures, and promtool accepts the text") {
  hiserve::Config cfg = ops_config();
  cfg.header_timeout_s = 0.3;
  RunningServer s(cfg);
  REQUIRE(s.server.metrics_port() > 0);
  {
    Client c(s.port());
    for (const char* target : {"/hi?color=red", "/hi?color=red", "/hi", "/hi?color=%3C", "/nope", "/metrics"}) {
      REQUIRE(c.send(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
      REQUIRE(c.read_response());
    }
  }
  auto missing_host = fetch(s.port(), "GET /hi HTTP/1.1\r\n\r\n");  // a protocol error: 400, close
  REQUIRE(missing_host);
  CHECK(missing_host->status == 400);
  {
    Client late(s.port());  // a head that never completes: closed at the header timeout
    REQUIRE(late.send("GET /hi HTTP/1.1\r\nHo"));
    CHECK(late.wait_closed());
  }
  REQUIRE(eventually([&] { return s.server.stats().open_connections == 0; }));

  const std::string text = scrape(s.server.metrics_port());
  auto m = samples(text);
  CHECK(m["hiserve_requests_total{code=\"200\"}"] == 3);
  CHECK(m["hiserve_requests_total{code=\"400\"}"] == 2);  // the bad color and the missing Host
  CHECK(m["hiserve_requests_total{code=\"404\"}"] == 2);  // /nope and the public port's /metrics
  CHECK(m["hiserve_requests_total{code=\"503\"}"] == 0);
  CHECK(m["hiserve_protocol_errors_total{kind=\"missing_host\"}"] == 1);
  CHECK(m["hiserve_protocol_errors_total{kind=\"bad_request\"}"] == 0);
  CHECK(m["hiserve_connections_accepted_total"] == 3);
  CHECK(m["hiserve_connections_open"] == 0);
  CHECK(m["hiserve_connection_timeouts_total{kind=\"header\"}"] == 1);
  CHECK(m["hiserve_connection_timeouts_total{kind=\"idle\"}"] == 0);
  CHECK(m["hiserve_visitors_total"] == 3);
  CHECK(m["hiserve_store_up"] == 1);
  CHECK(m["hiserve_store_exhausted_total"] == 0);
  // Every response is timed once; the buckets are cumulative and end at +Inf.
  CHECK(m["hiserve_request_duration_seconds_count"] == 7);
  CHECK(m["hiserve_request_duration_seconds_bucket{le=\"+Inf\"}"] == 7);
  CHECK(m.count("hiserve_request_duration_seconds_bucket{le=\"0.0001\"}") == 1);  // Go's float format
  CHECK(m.count("hiserve_request_duration_seconds_bucket{le=\"10\"}") == 1);
  CHECK(m["hiserve_request_duration_seconds_bucket{le=\"1e-05\"}"] <= m["hiserve_request_duration_seconds_bucket{le=\"0.001\"}"]);
  CHECK(m["hiserve_request_duration_seconds_sum"] > 0);
  CHECK(m["hiserve_request_duration_seconds_sum"] < 7 * 0.25);
  CHECK(m["hiserve_pool_held_bytes"] >= m["hiserve_pool_in_use_bytes"]);
  // process_*: this process's own.
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  CHECK(m["process_max_fds"] == static_cast<double>(rl.rlim_cur));
  CHECK(m["process_open_fds"] > 5);
  CHECK(m["process_resident_memory_bytes"] > 1e6);
  CHECK(m["process_cpu_seconds_total"] >= 0);
  CHECK(std::abs(m["process_start_time_seconds"] - static_cast<double>(std::time(nullptr))) < 120);

  std::string said;
  CHECK_MESSAGE(promtool(text, &said) == 0, said);
  CHECK_MESSAGE(said.empty(), said);  // no lint warning either

  // The metrics listener's own requests are not in the public figures.
  const auto again = samples(scrape(s.server.metrics_port()));
  CHECK(again.at("hiserve_request_duration_seconds_count") == 7);
  CHECK(again.at("hiserve_connections_accepted_total") == 3);
}

TEST_CASE("each listener answers only its own routes") {
  RunningServer s(ops_config());
  const int pub = s.port(), ops = s.server.metrics_port();
  CHECK(fetch(pub, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")->status == 404);
  CHECK(fetch(pub, "GET /debug/pprof/profile?seconds=1 HTTP/1.1\r\nHost: x\r\n\r\n")->status == 404);
  CHECK(fetch(ops, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n")->status == 404);
  auto head = fetch(ops, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", true);
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(std::stoul(head->header("content-length")) > 1000);
  CHECK(head->body.empty());
  for (const char* bad : {"0", "121", "abc", "", "1.5", "-1"}) {
    CAPTURE(bad);
    auto r = fetch(ops, std::string("GET /debug/pprof/profile?seconds=") + bad + " HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
#ifdef HISERVE_PROFILER
    CHECK(r->status == 400);
#else
    CHECK(r->status == 501);
#endif
  }
  CHECK(fetch(pub, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")->status == 404);
  CHECK(s.server.stats().responses[hiserve::status_slot(404)] == 3);  // the public ones only
  const auto health = fetch(ops, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body == "ok\n");
  const auto ready = fetch(ops, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(ready->body == "ready\n");
}

TEST_CASE("/readyz says draining while a graceful stop finishes the request under way") {
  RunningServer s(ops_config());
  Client c(s.port());
  REQUIRE(c.send("GET /hi HTTP/1.1\r\nHost: x\r\n"));  // a head under way holds the stop open
  CHECK(eventually([&] { return s.server.stats().open_connections == 1; }));
  s.server.stop();
  std::optional<Response> ready;
  CHECK(eventually([&] {
    ready = fetch(s.server.metrics_port(), "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    return ready && ready->status == 503;
  }));
  REQUIRE(ready);
  CHECK(ready->body == "not ready: draining\n");
  CHECK(fetch(s.server.metrics_port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")->status == 200);
  // /readyz changes at stop(); the loops learn of it a moment later, and close their
  // listeners when they do.
  CHECK(eventually([&] { return !Client(s.port()).connected(); }));
  REQUIRE(c.send("\r\n"));
  const auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("connection") == "close");
}

TEST_CASE("hostile input: the same answers on the metrics port as on the public port") {
  hiserve::Config cfg = ops_config();
  cfg.limits = kLimits;  // the table's size cases are written for these
  RunningServer s(cfg);
  int compared = 0, with_protocol_error = 0;
  for (const Case& c : cases()) {
    // Both routers answer 404 for /nope, so every difference would be the session's.
    std::string input = std::regex_replace(c.input, std::regex("/hi"), "/nope");
    // Redirects, OPTIONS * and HEAD's bodiless answers are the /hi router's own.
    if (input.find(" * ") != std::string::npos || input.find("HEAD ") != std::string::npos ||
        input.find("//") != std::string::npos || input.find("/.") != std::string::npos)
      continue;
    CAPTURE(c.name);
    const std::size_t expected = static_cast<std::size_t>(std::count(c.statuses.begin(), c.statuses.end(), ',') + 1);
    const std::string pub = answers(s.port(), input, expected, c.closes);
    if (pub.find("Welcome!") != std::string::npos) continue;  // /hi spelled another way
    CHECK(answers(s.server.metrics_port(), input, expected, c.closes) == pub);
    ++compared;
    with_protocol_error += c.closes && pub.find("Connection: close") != std::string::npos;
  }
  MESSAGE(compared << " table cases compared, " << with_protocol_error << " of them closing");
  CHECK(compared >= 60);
  CHECK(with_protocol_error >= 30);
}
