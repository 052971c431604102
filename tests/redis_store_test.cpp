// The Redis store against a real redis-server (started here on a free loopback port,
// its files in a temporary directory): three instances share one count; one is
// killed and restarted mid-run; Redis is stalled (SIGSTOP) until the tiny leases run
// out, then resumed. Every number is answered once; the 503s are docs/counter.md's; each
// instance says once that the store went down and once that it is back.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <memory>

#include "http_client.hpp"
#include "load_clients.hpp"
#include "process.hpp"

namespace {

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("three instances on one Redis: every number once, through a kill -9 and a stalled Redis") {
  test::RedisServer redis;
  const std::vector<std::string> args = {"--counter", redis.url() + "?key=visitors-test", "--counter-block", "5",
                                         "--threads", "2"};
  std::vector<std::unique_ptr<test::Hiserve>> servers;
  std::vector<std::atomic<int>> ports(3);
  for (int i = 0; i < 3; ++i) {
    servers.push_back(std::make_unique<test::Hiserve>(args));
    ports[i] = servers.back()->port;
  }
  test::LoadClients clients(ports, 6);
  auto wait_for = [&](auto cond) {
    for (int i = 0; i < 1000 && !cond(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return cond();
  };
  CHECK(wait_for([&] { return clients.answered() > 2000; }));
  // One instance dies mid-run and comes back on another port.
  servers[1]->proc.signal(SIGKILL);
  servers[1]->proc.wait();
  servers[1] = std::make_unique<test::Hiserve>(args);
  ports[1] = servers[1]->port;
  const std::uint64_t before_stall = clients.answered() + 1000;
  CHECK(wait_for([&] { return clients.answered() > before_stall; }));
  // Redis stalls past the 2 s answer deadline: the leases run out, /hi answers 503.
  redis.proc->signal(SIGSTOP);
  CHECK(wait_for([&] { return clients.unavailable() > 50; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  redis.proc->signal(SIGCONT);
  const std::uint64_t after_stall = clients.answered() + 1000;
  CHECK(wait_for([&] { return clients.answered() > after_stall; }));  // recovered by itself
  std::vector<std::uint64_t> numbers = clients.stop();
  std::sort(numbers.begin(), numbers.end());
  CHECK(std::adjacent_find(numbers.begin(), numbers.end()) == numbers.end());
  CHECK(clients.unavailable_as_spec());
  for (int i : {0, 2}) {  // the instances that lived through the stall
    servers[i]->proc.signal(SIGTERM);
    CHECK(servers[i]->proc.wait() == 0);
    const std::string log = servers[i]->proc.rest();
    CAPTURE(log);
    CHECK(count(log, " is down: ") == 1);
    CHECK(count(log, " is back") == 1);
  }
  MESSAGE(numbers.size() << " numbers from 3 instances, " << clients.unavailable() << " answered 503 while Redis stalled");
}

TEST_CASE("a Redis not up at start is waited for, with 503s meanwhile; /readyz follows the store") {
  const int port = test::free_port();
  test::Hiserve h({"--counter", "redis://127.0.0.1:" + std::to_string(port), "--counter-block", "5", "--threads", "1",
                   "--metrics-addr", "127.0.0.1:0"});
  auto readyz = [&] {
    const auto r = test::fetch(h.metrics_port, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    return r ? std::to_string(r->status) + " " + r->body : std::string("no answer");
  };
  CHECK(readyz() == "503 not ready: starting\n");  // no lease yet
  auto r = test::fetch(h.port, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(r->header("retry-after") == "1");
  CHECK(r->header("connection").empty());  // kept alive
  test::TempDir dir;
  test::Process redis({"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--dir", dir.path, "--save",
                       "", "--appendonly", "no", "--logfile", "/dev/null"});
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {  // the backoff is at most 5 s
    auto again = test::fetch(h.port, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n");
    served = again && again->status == 200 && again->body.find("visitor number 1!") != std::string::npos;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(served);
  CHECK(readyz() == "200 ready\n");
  // Redis stalls: once the leased numbers are used up, no visitor can be served.
  redis.signal(SIGSTOP);
  int status = 200;
  for (int i = 0; i < 2000 && status == 200; ++i) status = test::fetch(h.port, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n")->status;
  CHECK(status == 503);
  CHECK(readyz() == "503 not ready: counter store down\n");
  redis.signal(SIGCONT);
  bool ready = false;
  for (int i = 0; i < 100 && !ready; ++i) {
    ready = readyz() == "200 ready\n";
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(ready);
}
