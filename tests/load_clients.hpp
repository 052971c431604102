// Client threads that keep sending GET /hi to a set of servers (keep-alive, one
// connection each, reconnecting when a server goes away) and record every visitor
// number and every 503 they get, until stopped. For the counter's process tests.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <utility>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace test {

class LoadClients {
 public:
  // `threads` clients; client i talks to ports[i % ports.size()] (which may change).
  LoadClients(std::vector<std::atomic<int>>& ports, int threads);
  ~LoadClients();
  // Stops the clients and returns every number answered, in no order.
  std::vector<std::uint64_t> stop();
  // 503 answers so far, and whether each carried the Retry-After and body docs/counter.md gives.
  int unavailable() const { return unavailable_.load(); }
  bool unavailable_as_spec() const { return unavailable_as_spec_.load(); }
  std::uint64_t answered() const { return answered_.load(); }
  // Starts watching for 503s from now; the first and last since then, in seconds after
  // it (-1, -1 when there was none).
  void mark();
  std::pair<double, double> unavailable_window() const;

 private:
  void run(int i);
  std::vector<std::atomic<int>>& ports_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int> unavailable_{0};
  std::atomic<bool> unavailable_as_spec_{true};
  std::atomic<std::uint64_t> answered_{0};
  using Clock = std::chrono::steady_clock;
  std::atomic<std::int64_t> mark_ns_{0}, first_503_ns_{0}, last_503_ns_{0};  // since the clock's epoch
  std::mutex mu_;
  std::vector<std::uint64_t> numbers_;
};

}  // namespace test
