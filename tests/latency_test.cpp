// bench/latency's engine measures what a client waits, not what a closed loop sees:
// with the server stopped (SIGSTOP) for 500 ms in a 10 s run at 2,000 requests/s, every
// request scheduled in the stall counts its wait from its scheduled time. And it treats
// a server's closes as clients do: an idle keep-alive connection closed is no error, and
// a request that crossed the close of a reused connection is sent again once.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <future>
#include <string>
#include <thread>

#include "process.hpp"

using namespace test;

namespace {
// A number field of latency-gen's one-line JSON.
double field(const std::string& json, const std::string& name) {
  const std::size_t at = json.find("\"" + name + "\": ");
  REQUIRE_MESSAGE(at != std::string::npos, json);
  return std::stod(json.substr(at + name.size() + 4));
}

// The two closes hiserve makes at a stop, made every time: hiserve itself cannot be
// told to lose the race with a client on purpose. One connection at a time (the
// generator runs with one): the first request on each gets an empty 200; then either
// the connection closes at once (an idle close) or the second request is read and
// the connection closed without an answer (a request that crossed the close).
class ClosingServer {
 public:
  explicit ClosingServer(bool drop_second) : drop_second_(drop_second) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ClosingServer() {
    shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    close(fd_);
  }
  int port = 0;

 private:
  void serve() {
    for (int c; (c = accept(fd_, nullptr, nullptr)) >= 0; close(c)) {
      std::string in;
      int requests = 0;
      char buf[4096];
      for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;) {
        in.append(buf, static_cast<std::size_t>(n));
        std::size_t end = in.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        in.erase(0, end + 4);
        if (++requests > 1) break;  // the second request: closed unanswered
        static const char kOk[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        if (write(c, kOk, sizeof kOk - 1) != sizeof kOk - 1 || !drop_second_) break;
      }
    }
  }
  bool drop_second_;
  int fd_ = -1;
  std::thread thread_;
};

std::string generate(int port) {
  return run_shell(std::string(HISERVE_LATENCY_GEN) + " --url http://127.0.0.1:" + std::to_string(port) +
                   "/hi --rate 100 --duration 1 --connections 1 --json");
}
}  // namespace

TEST_CASE("a 500 ms stall shows in the open-loop percentiles") {
  Hiserve h({"--threads", "1", "--counter", "memory"});
  const std::string cmd = std::string(HISERVE_LATENCY_GEN) + " --url http://127.0.0.1:" + std::to_string(h.port) +
                          "/hi --rate 2000 --duration 10 --connections 20 --json";
  auto run = std::async(std::launch::async, [&] { return run_shell(cmd); });
  std::this_thread::sleep_for(std::chrono::seconds(4));
  h.proc.signal(SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  h.proc.signal(SIGCONT);
  const std::string json = run.get();
  INFO(json);
  CHECK(field(json, "sent") == 20000);
  CHECK(field(json, "completed") == 20000);
  CHECK(field(json, "errors") == 0);
  CHECK(field(json, "max_ms") >= 450);
  CHECK(field(json, "p99_ms") >= 100);
  CHECK(field(json, "p50_ms") < 100);
  h.proc.signal(SIGTERM);
  CHECK(h.proc.wait() == 0);
}

TEST_CASE("a keep-alive connection the server closes between requests is no error") {
  ClosingServer server(false);
  const std::string json = generate(server.port);
  INFO(json);
  CHECK(field(json, "completed") == 100);
  CHECK(field(json, "errors") == 0);
  CHECK(field(json, "resent") == 0);
}

TEST_CASE("a request that crossed a reused connection's close is sent again once, on a new one") {
  ClosingServer server(true);
  const std::string json = generate(server.port);
  INFO(json);
  // Every request after the first goes out twice: dropped as its connection's second,
  // answered as the next connection's first.
  CHECK(field(json, "sent") == 100);
  CHECK(field(json, "completed") == 100);
  CHECK(field(json, "errors") == 0);
  CHECK(field(json, "resent") == 99);
}
