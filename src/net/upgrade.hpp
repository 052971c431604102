// An upgrade by handover, the old process's half (docs/operations.md): on SIGUSR2 it
// starts the binary it was started from, with the same arguments, handing it every
// listening socket and the visitor store; when the new process says ready, this one
// stops accepting and drains. Anything else (no binary, a child that exits or stays
// silent for kUpgradeTimeoutS) is one log line, and this process goes on serving.
#pragma once
#include <uv.h>

#include <string>
#include <vector>

#include "hiserve/net/handover.hpp"

namespace hiserve {

// The handover's names (include/hiserve/net/handover.hpp).
inline constexpr int kFirstHandedFd = 3;
inline constexpr const char* kUpgradeFromEnv = "HISERVE_UPGRADE_FROM";
inline constexpr const char* kPublicName = "public";
inline constexpr const char* kMetricsName = "metrics";
inline constexpr const char* kCounterName = "counter";
inline constexpr const char* kChannelName = "upgrade";

class Server;

class Upgrade {
 public:
  // On `loop` (the signal loop's thread), for `server`.
  Upgrade(Server& server, uv_loop_t* loop, const Launch& launch) noexcept;
  Upgrade(const Upgrade&) = delete;
  Upgrade& operator=(const Upgrade&) = delete;

  // SIGUSR2: starts one, or says (one line) why not now.
  void begin();
  // The new process is ready and this one has handed over: stop serving.
  bool handed_over() const noexcept { return state_ == State::HandedOver; }
  // This process stops (SIGTERM) with an upgrade under way: the child is killed.
  void abandon();

 private:
  enum class State { Idle, Waiting, Failing, HandedOver };
  static void on_readable(uv_poll_t* p, int status, int events);
  static void on_sigchld(uv_signal_t* s, int signum);
  static void on_timeout(uv_timer_t* t);
  // Starts the binary with the handed fds from 3 on; its pid, or -errno.
  pid_t spawn(const std::vector<int>& fds, const std::string& names);
  void heard(const std::string& line);
  // One line to the new process.
  void say(const std::string& line);
  // The child has exited (reaped): a failure while waiting.
  void exited(int status);
  // One line, the child killed if it lives.
  void fail(const std::string& why, bool serving = true);
  void close_channel() noexcept;

  Server& server_;
  uv_loop_t* loop_;
  const Launch& launch_;
  State state_ = State::Idle;
  pid_t child_ = 0;  // not yet reaped
  // The socket to the child, polled here and closed by this class (libuv's own close
  // is a raw syscall that ThreadSanitizer cannot see, and the fd number comes back as
  // a loop's socket).
  int channel_fd_ = -1;
  uv_poll_t channel_;
  uv_signal_t sigchld_;
  uv_timer_t timer_;
  std::string heard_;
};

}  // namespace hiserve
