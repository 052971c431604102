// Loops that serve one router on one set of addresses, each loop listening on every
// address with SO_REUSEPORT: the public listener (--threads loops) and the metrics
// listener (one loop) are two groups brought up the same way.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hiserve/config.hpp"
#include "hiserve/counter.hpp"
#include "hiserve/handler.hpp"
#include "hiserve/stats.hpp"
#include "worker.hpp"

namespace hiserve {

// What a group serves, and where.
struct GroupSpec {
  const char* flag;  // the flag that set the address, for error lines
  std::string host;
  int port;          // 0: any free port, the same for every loop and address
  unsigned loops;
  const Router* router;
  bool timed;              // request durations go into the histogram
  const char* thread_name; // printf format with the loop's index (%u), at most 15 bytes out
  int access_log_fd = -1;  // -1: no access log
  AccessLogFormat access_log_format = AccessLogFormat::Combined;
};

class ListenerGroup {
 public:
  ListenerGroup() = default;
  ListenerGroup(const ListenerGroup&) = delete;
  ListenerGroup& operator=(const ListenerGroup&) = delete;

  // Resolves the spec's addresses and opens each loop listening on all of them: on
  // sockets of its own, or on `handed` (an upgrade's, loop by loop, address by address),
  // which must be what the spec resolves to now. 0, or a negative code with a one-line
  // *error (then nothing of the group is left open).
  int open(const Config& config, LeasedCounter& visitors, const GroupSpec& spec, std::string* error,
           const std::vector<int>* handed = nullptr);
  // Every listening socket's fd, loop by loop (what an upgrade hands over).
  std::vector<int> listener_fds() const;
  // The port every listener of the group is bound to; -1 before open().
  int port() const noexcept { return port_; }
  Worker& loop(std::size_t i) noexcept { return *loops_[i]; }
  // Runs each loop on its thread.
  void run();
  // Asks each loop to stop gracefully (thread-safe).
  void stop() noexcept;
  // Asks each loop to write out its access-log lines (thread-safe).
  void flush_logs() noexcept;
  void join() noexcept;
  // Adds the group's figures to s (open connections and every loop's counters).
  void add_to(Stats& s) const noexcept;

 private:
  std::vector<std::unique_ptr<Worker>> loops_;
  alignas(64) std::atomic<std::int64_t> open_connections_{0};
  int port_ = -1;
};

}  // namespace hiserve
