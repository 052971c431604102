// The talk's httptest.NewServer tests: real loops on 127.0.0.1:0, real client sockets.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "http_client.hpp"
#include "server_fixture.hpp"

using namespace test;

namespace {
const std::string kGet = "GET /hi?color=red HTTP/1.1\r\nHost: x\r\n\r\n";
}

TEST_CASE("keep-alive: one connection, many requests, numbers count up") {
  RunningServer s;
  Client c(s.port());
  for (int i = 1; i <= 5; ++i) {
    REQUIRE(c.send(kGet));
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "<h1 style='color: red'>Welcome!</h1>You are visitor number " + std::to_string(i) + "!");
    CHECK(r->header("date").size() == 29);
    CHECK(r->header("connection").empty());
  }
}

TEST_CASE("HTTP/1.0 closes after the response unless keep-alive is asked for") {
  RunningServer s;
  {
    Client c(s.port());
    REQUIRE(c.send("GET /hi HTTP/1.0\r\n\r\n"));
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->header("connection") == "close");
    CHECK(c.wait_closed());
  }
  Client c(s.port());
  for (int i = 0; i < 2; ++i) {
    REQUIRE(c.send("GET /hi HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->header("connection") == "keep-alive");
  }
}

TEST_CASE("Connection: close is honoured") {
  RunningServer s;
  Client c(s.port());
  REQUIRE(c.send("GET /hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->header("connection") == "close");
  CHECK(c.wait_closed());
}

TEST_CASE("150 pipelined requests in one write are answered in order") {
  RunningServer s;
  Client c(s.port());
  std::string batch;
  for (int i = 0; i < 150; ++i) batch += i % 3 == 2 ? "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" : kGet;
  REQUIRE(c.send(batch));
  int served = 0;
  for (int i = 0; i < 150; ++i) {
    auto r = c.read_response();
    REQUIRE(r);
    if (i % 3 == 2) {
      CHECK(r->status == 404);
    } else {
      CHECK(r->body.find("number " + std::to_string(++served) + "!") != std::string::npos);
    }
  }
}

TEST_CASE("one byte per write") {
  RunningServer s;
  Client c(s.port());
  const std::string req =
      "POST /hi HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\ncolor=green";
  for (char ch : req) REQUIRE(c.send(std::string(1, ch)));
  auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->body.find("color: green'") != std::string::npos);
}

TEST_CASE("a client that reads nothing while pipelining megabytes gets every answer") {
  RunningServer s;
  Client c(s.port(), 10000);
  std::string batch;
  const int n = 20000;  // ~1.7 MB of answers: more than the socket buffers hold
  for (int i = 0; i < n; ++i) batch += kGet;
  std::thread writer([&] { c.send(batch); });
  int got = 0;
  while (got < n) {
    auto r = c.read_response();
    if (!r) break;
    ++got;
  }
  writer.join();
  CHECK(got == n);
}

TEST_CASE("bad input: a clear status with Connection: close, then the server closes") {
  hiserve::Config cfg = small_config();
  cfg.limits = {1024, 4096};
  RunningServer s(cfg);
  struct Row {
    std::string input;
    int status;
  };
  const Row rows[] = {
      {"not http at all\r\n\r\n", 400},
      {"GET /hi HTTP/1.1\r\n\r\n", 400},
      {"GET /hi HTTP/1.7\r\nHost: x\r\n\r\n", 505},
      {"GET /hi HTTP/1.1\r\nHost: x\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", 431},
      {"POST /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413},
      {"POST /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"POST /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
      {"POST /hi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: br\r\n\r\n", 501},
      {"POST /hi HTTP/1.1\r\nHost: x\r\nExpect: something\r\nContent-Length: 1\r\n\r\na", 417},
  };
  for (const Row& row : rows) {
    CAPTURE(row.input.substr(0, 60));
    Client c(s.port());
    REQUIRE(c.send(row.input));
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->status == row.status);
    CHECK(r->header("connection") == "close");
    CHECK(r->header("content-length") == std::to_string(r->body.size()));
    CHECK(c.wait_closed());
  }
  CHECK(eventually([&] { return s.server.stats().protocol_errors == std::size(rows); }));
  const hiserve::Stats st = s.server.stats();
  CHECK(st.bad_requests == 4);
  CHECK(st.too_large == 2);
  CHECK(st.unsupported == 3);
  CHECK(eventually([&] { return s.server.stats().open_connections == 0; }));
}

TEST_CASE("Expect: 100-continue gets 100 before the body is sent") {
  RunningServer s;
  Client c(s.port());
  REQUIRE(c.send("POST /hi HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 "Expect: 100-continue\r\nContent-Length: 10\r\n\r\n"));
  auto cont = c.read_response();
  REQUIRE(cont);
  CHECK(cont->status == 100);
  REQUIRE(c.send("color=blue"));
  auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->body.find("color: blue'") != std::string::npos);
}

TEST_CASE("header timeout closes a slow head; idle timeout closes an idle keep-alive connection") {
  hiserve::Config cfg = small_config(1);
  cfg.header_timeout_s = 0.2;
  cfg.idle_timeout_s = 0.4;
  RunningServer s(cfg);
  Client slow(s.port());
  Client silent(s.port());
  Client idle(s.port());
  REQUIRE(idle.send(kGet));
  REQUIRE(idle.read_response());
  const auto t0 = std::chrono::steady_clock::now();
  // Trickle bytes faster than the timeout: they must not extend it.
  for (char ch : std::string("GET ")) {
    REQUIRE(slow.send(std::string(1, ch)));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(slow.wait_closed());
  CHECK(silent.wait_closed());
  const double slow_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(slow_s < 1.0);
  CHECK(idle.wait_closed());
  CHECK(s.server.stats().header_timeouts == 2);
  CHECK(s.server.stats().idle_timeouts == 1);
}

TEST_CASE("max connections: the excess is closed at once, the others keep being served") {
  hiserve::Config cfg = small_config();
  cfg.max_connections = 4;
  RunningServer s(cfg);
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<Client>(s.port()));
    REQUIRE(held.back()->send(kGet));
    REQUIRE(held.back()->read_response());
  }
  {
    Client extra(s.port());
    extra.send(kGet);
    CHECK_FALSE(extra.read_response());
  }
  CHECK(eventually([&] { return s.server.stats().rejected == 1; }));
  for (auto& c : held) {
    REQUIRE(c->send(kGet));
    CHECK(c->read_response());
  }
  held.pop_back();
  CHECK(eventually([&] { return s.server.stats().open_connections == 3; }));
  Client again(s.port());
  REQUIRE(again.send(kGet));
  CHECK(again.read_response());
}

TEST_CASE("resets, half-closes and clients vanishing mid-request leave nothing open") {
  RunningServer s;
  for (int i = 0; i < 20; ++i) {
    Client a(s.port());
    a.send("GET /hi HTTP/1.1\r\nHost:");
    a.reset();
    Client b(s.port());
    b.send(kGet);
    b.shutdown_write();
    auto r = b.read_response();
    CHECK(r);
    CHECK(b.wait_closed());
    Client c(s.port());
    c.send("POST /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
  }
  CHECK(eventually([&] { return s.server.stats().open_connections == 0; }));
}

TEST_CASE("graceful stop: in-flight requests finish with Connection: close, idle ones close") {
  hiserve::Config cfg = small_config();
  RunningServer s(cfg);
  Client idle(s.port());
  REQUIRE(idle.send(kGet));
  REQUIRE(idle.read_response());
  Client busy(s.port());
  REQUIRE(busy.send("GET /hi?color=blue HTTP/1.1\r\nHost: x\r\n"));  // head not finished yet
  CHECK(eventually([&] { return s.server.stats().accepted == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the partial head reach the server
  const auto t0 = std::chrono::steady_clock::now();
  s.server.stop();
  CHECK(idle.wait_closed());
  REQUIRE(busy.send("\r\n"));
  auto r = busy.read_response();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("connection") == "close");
  CHECK(busy.wait_closed());
  s.server.wait();
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 3.0);
  Client late(s.port());
  CHECK_FALSE(late.connected());
}

TEST_CASE("a port in use is a clear error") {
  RunningServer s;
  hiserve::Config cfg = small_config();
  cfg.port = s.port();
  hiserve::Server second(cfg);
  std::string err;
  CHECK(second.start(&err) != 0);
  CHECK(err.find("address already in use") != std::string::npos);
}
