// A real server on 127.0.0.1, port 0, for the loop tests.
#pragma once
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "hiserve/net/server.hpp"

namespace test {

inline hiserve::Config small_config(unsigned threads = 2) {
  hiserve::Config c;
  c.port = 0;
  c.threads = threads;
  c.counter = "memory";  // numbers from 1, no file in the working directory
  return c;
}

struct RunningServer {
  hiserve::Server server;
  explicit RunningServer(hiserve::Config c = small_config()) : server(std::move(c)) {
    std::string err;
    REQUIRE_MESSAGE(server.start(&err) == 0, err);
  }
  int port() const { return server.port(); }
};

// Polls cond until it holds or `seconds` pass (server-side state has no event to wait
// on from here).
inline bool eventually(const std::function<bool()>& cond, double seconds = 5) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return cond();
}

}  // namespace test
