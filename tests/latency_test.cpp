// bench/latency's engine measures what a client waits, not what a closed loop sees:
// with the server stopped (SIGSTOP) for 500 ms in a 10 s run at 2,000 requests/s, every
// request scheduled in the stall counts its wait from its scheduled time.
#include <doctest/doctest.h>

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
