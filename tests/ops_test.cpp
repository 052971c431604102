// Operations with the real tools: a Prometheus server scraping hiserve, and live CPU
// profiles of the real binary under load, read by google-pprof.
#include <doctest/doctest.h>
#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "process.hpp"

using namespace test;
using Clock = std::chrono::steady_clock;

namespace {

// The value of a one-sample instant query, or "" (Prometheus's JSON, e.g.
// {"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.1,"57"]}]}}).
std::string query(int prometheus_port, const std::string& promql) {
  std::string q;
  for (char c : promql) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') q += c;
    else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      q += hex;
    }
  }
  auto r = fetch(prometheus_port, "GET /api/v1/query?query=" + q + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  if (!r || r->status != 200) return "";
  std::smatch m;
  if (!std::regex_search(r->body, m, std::regex(R"re("value":\[[0-9.e+]+,"([^"]*)"\])re"))) return "";
  return m[1];
}

}  // namespace

TEST_CASE("a real Prometheus server scrapes /metrics: hiserve_requests_total is what was sent") {
  Hiserve h({"--threads", "2", "--counter", "memory", "--metrics-addr", "127.0.0.1:0"});
  TempDir dir;
  std::ofstream(dir.path + "/prometheus.yml") << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                                 "scrape_configs:\n  - job_name: hiserve\n    static_configs:\n"
                                                 "      - targets: ['127.0.0.1:"
                                              << h.metrics_port << "']\n";
  const int port = free_port();
  Process prometheus({"prometheus", "--config.file=" + dir.path + "/prometheus.yml",
                      "--storage.tsdb.path=" + dir.path + "/data", "--web.listen-address=127.0.0.1:" + std::to_string(port),
                      "--log.level=error"});
  // 40 answered 200, 10 404, 7 400.
  Client c(h.port);
  for (int i = 0; i < 57; ++i) {
    const char* target = i < 40 ? "/hi?color=red" : i < 50 ? "/nope" : "/hi?color=%3C";
    REQUIRE(c.send(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(c.read_response());
  }
  // Prometheus starts, then scrapes every second: wait (at most 30 s) for the sample.
  std::string total, not_found, up;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    total = query(port, "sum(hiserve_requests_total)");
    if (total == "57") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(total == "57");
  CHECK(query(port, "hiserve_requests_total{code=\"404\"}") == "10");
  CHECK(query(port, "hiserve_requests_total{code=\"400\"}") == "7");
  CHECK(query(port, "hiserve_visitors_total") == "40");
  CHECK(query(port, "up{job=\"hiserve\"}") == "1");
  prometheus.signal(SIGTERM);
  prometheus.wait();
  h.proc.signal(SIGTERM);
  CHECK(h.proc.wait() == 0);
}

#ifdef HISERVE_PROFILER

namespace {

// CPU seconds each thread of pid has used, by thread name (/proc/PID/task/TID/stat).
std::map<std::string, double> thread_cpu(pid_t pid) {
  std::map<std::string, double> cpu;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  REQUIRE(d);
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(dir + "/" + e->d_name + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), {});
    const std::size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    cpu[stat.substr(open + 1, close - open - 1)] += (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  closedir(d);
  return cpu;
}

// Keep-alive clients sending GET /hi as fast as answers come, each answer's latency
// recorded with the time it was sent.
class Load {
 public:
  Load(int port, int clients) {
    for (int i = 0; i < clients; ++i)
      threads_.emplace_back([this, port] {
        Client c(port);
        while (!stop_) {
          const auto sent = Clock::now();
          if (!c.send("GET /hi?color=red HTTP/1.1\r\nHost: x\r\n\r\n") || !c.read_response()) {
            failed_ = true;
            return;
          }
          std::lock_guard<std::mutex> lock(mu_);
          samples_.push_back({sent, Clock::now() - sent});
        }
      });
  }
  ~Load() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  bool failed() const { return failed_; }
  // Latencies of the requests sent in [from, to), sorted.
  std::vector<double> between(Clock::time_point from, Clock::time_point to) {
    std::vector<double> v;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& s : samples_)
      if (s.sent >= from && s.sent < to) v.push_back(std::chrono::duration<double>(s.took).count());
    std::sort(v.begin(), v.end());
    return v;
  }

 private:
  struct Sample {
    Clock::time_point sent;
    Clock::duration took;
  };
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false}, failed_{false};
  std::mutex mu_;
  std::vector<Sample> samples_;
};

double percentile(const std::vector<double>& sorted, double p) {
  return sorted.empty() ? 0 : sorted[static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1))];
}

}  // namespace

TEST_CASE("a live CPU profile: every loop sampled, others served meanwhile, one at a time") {
  Hiserve h({"--threads", "2", "--counter", "memory", "--metrics-addr", "127.0.0.1:0"});
  REQUIRE(h.metrics_port > 0);
  Load load(h.port, 16);  // 16 connections: SO_REUSEPORT spreads them over both loops
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  const auto profile_from = Clock::now();

  std::optional<Response> profile;
  std::thread profiler([&] {
    Client c(h.metrics_port, 10000);
    REQUIRE(c.send("GET /debug/pprof/profile?seconds=3 HTTP/1.1\r\nHost: x\r\n\r\n"));
    profile = c.read_response();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Meanwhile: one profile at a time, bad seconds refused, /metrics answered at once.
  auto second = fetch(h.metrics_port, "GET /debug/pprof/profile?seconds=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(second);
  CHECK(second->status == 409);
  // The profile ran when the 409 was written and runs until 3 s after it started,
  // which is after profile_from: the loops' CPU between now and then was all sampled.
  // (A window around the request instead stretches on a busy machine, and 2.6 s of
  // loop CPU met 1.76 s of samples.)
  const auto sampled_from = Clock::now();
  const auto before = thread_cpu(h.proc.pid());
  CHECK(fetch(h.metrics_port, "GET /debug/pprof/profile?seconds=500 HTTP/1.1\r\nHost: x\r\n\r\n")->status == 400);
  const auto scrape_from = Clock::now();
  CHECK(fetch(h.metrics_port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")->status == 200);
  CHECK(Clock::now() - scrape_from < std::chrono::milliseconds(500));
  const auto sampled_to = profile_from + std::chrono::milliseconds(2900);
  std::this_thread::sleep_until(sampled_to);
  const auto after = thread_cpu(h.proc.pid());
  profiler.join();
  const auto profile_to = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  load.stop();
  CHECK_FALSE(load.failed());

  REQUIRE(profile);
  REQUIRE(profile->status == 200);
  CHECK(profile->header("content-type") == "application/octet-stream");
  CHECK(profile_to - profile_from >= std::chrono::seconds(3));

  // The loops kept answering: no request waited for the profile, and the typical one
  // took about what it took before.
  const auto baseline = load.between(profile_from - std::chrono::milliseconds(800), profile_from);
  const auto during = load.between(profile_from, profile_to - std::chrono::milliseconds(100));
  REQUIRE(baseline.size() > 100);
  REQUIRE(during.size() > 100);
  MESSAGE("latency p50/max before " << percentile(baseline, 0.5) * 1e3 << "/" << baseline.back() * 1e3
                                    << " ms, during the profile " << percentile(during, 0.5) * 1e3 << "/"
                                    << during.back() * 1e3 << " ms");
  CHECK(during.back() < 1.0);
  CHECK(percentile(during, 0.5) < 3 * percentile(baseline, 0.5) + 0.002);

  // google-pprof reads it against the binary and finds hiserve's own functions.
  TempDir dir;
  const std::string file = dir.path + "/cpu.prof";
  std::ofstream(file, std::ios::binary) << profile->body;
  const std::string text = run_shell(std::string("google-pprof --text ") + hiserve_binary() + " " + file);
  std::smatch total;
  REQUIRE_MESSAGE(std::regex_search(text, total, std::regex("Total: ([0-9]+) samples")), text);
  CHECK_MESSAGE(std::regex_search(text, std::regex("hiserve::|llhttp__internal")), text);

  // Every loop thread is sampled: the samples (100 a second of CPU) cover the CPU the
  // two loops used within the profile, which a profile of one thread alone could not.
  const double window = std::chrono::duration<double>(sampled_to - sampled_from).count();
  REQUIRE_MESSAGE(window > 1.0, "the 409 came " << 2.9 - window << " s into a 3 s profile");
  const double loop0 = after.at("hiserve-loop-0") - before.at("hiserve-loop-0");
  const double loop1 = after.at("hiserve-loop-1") - before.at("hiserve-loop-1");
  const double samples = std::stod(total[1]);
  MESSAGE("loop CPU in " << window << " s of the profile: " << loop0 << " s + " << loop1 << " s; " << samples
                         << " samples in 3 s");
  REQUIRE(loop0 > 0.1);
  REQUIRE(loop1 > 0.1);
  CHECK(samples / 100 > 0.6 * (loop0 + loop1));
  CHECK(samples / 100 > 1.1 * std::max(loop0, loop1));

  h.proc.signal(SIGTERM);
  CHECK(h.proc.wait() == 0);
}

TEST_CASE("a graceful stop during a profile answers with what it has, then exits 0") {
  Hiserve h({"--threads", "1", "--counter", "memory", "--metrics-addr", "127.0.0.1:0"});
  Client c(h.metrics_port, 10000);
  REQUIRE(c.send("GET /debug/pprof/profile?seconds=60 HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto stop_at = Clock::now();
  h.proc.signal(SIGTERM);
  auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("connection") == "close");
  CHECK(Clock::now() - stop_at < std::chrono::seconds(3));
  CHECK(h.proc.wait() == 0);
}

TEST_CASE("a client that leaves during its profile ends the profile; the next one may start") {
  Hiserve h({"--threads", "1", "--counter", "memory", "--metrics-addr", "127.0.0.1:0"});
  {
    Client c(h.metrics_port);
    REQUIRE(c.send("GET /debug/pprof/profile?seconds=60 HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    c.reset();
  }
  // The server learns of the reset when it next looks at the connection: the profile's
  // end. Until then a new profile is refused; the next one after it may start.
  bool started = false;
  for (int i = 0; i < 20 && !started; ++i) {
    auto r = fetch(h.metrics_port, "GET /debug/pprof/profile?seconds=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r);
    started = r->status == 200;
    if (!started) {
      CHECK(r->status == 409);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  CHECK(started);
  h.proc.signal(SIGTERM);
  CHECK(h.proc.wait() == 0);
}

#else

TEST_CASE("without libprofiler: profiles answer 501, saying why") {
  Hiserve h({"--threads", "1", "--counter", "memory", "--metrics-addr", "127.0.0.1:0"});
  auto r = fetch(h.metrics_port, "GET /debug/pprof/profile?seconds=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 501);
  CHECK(r->body == "this hiserve was built without gperftools' libprofiler: no CPU profiles\n");
  h.proc.signal(SIGTERM);
  CHECK(h.proc.wait() == 0);
}

#endif
