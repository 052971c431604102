// The net layer's public face: a server of N loop threads on one port (and the
// metrics listener's loop), and the process around it: signals, systemd's readiness
// protocol, the stats line (process.cpp). Owns the visitor store (and its counter)
// all its loops share. No libuv here: callers see only plain C++.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hiserve/config.hpp"
#include "hiserve/counter.hpp"
#include "hiserve/net/handover.hpp"
#include "hiserve/stats.hpp"
#include "hiserve/store/store_thread.hpp"

namespace hiserve {

class AccessLogFile;

// Whether the server can take a visitor now: the one truth /readyz reads.
enum class Readiness : std::uint8_t {
  Ready,      // the public listeners accept and a visitor number can be handed out now
  Starting,   // not yet: the loops are coming up, or the store has not leased yet
  Draining,   // stopping (SIGTERM, or handed over to a new process): no new work
  StoreDown,  // the store leased before, and no leased number is left now
};
// "ready", or why not: "starting", "draining", "counter store down".
const char* readiness_text(Readiness r) noexcept;
class ListenerGroup;
class Ops;
class Upgrade;

class Server {
 public:
  explicit Server(Config config);
  ~Server();  // stops and joins if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens the access log and the visitor store (before anything listens), binds every loop's listener (and
  // the metrics listener, when configured) and starts the loop threads. 0, or a
  // negative code with a one-line explanation in *error. With `from`, the listeners and
  // the store are the ones an upgrading hiserve handed over, and the loops start
  // accepting once a visitor number is leased.
  int start(std::string* error, const Inherited* from = nullptr);
  // The port the listeners are bound to (the real one when Config::port was 0).
  int port() const noexcept;
  // The metrics listener's port, or -1 when it is off.
  int metrics_port() const noexcept;
  // Stops accepting, lets in-flight responses finish, closes idle connections; returns
  // at once. Thread-safe; a second call does nothing.
  void stop() noexcept;
  // Blocks until every public loop has exited, then stops the metrics listener (which
  // answers /readyz "draining" meanwhile) and the visitor store (a file store records
  // the exact next number).
  void wait() noexcept;
  // Reopens the access log by its path, then has every loop write out its lines
  // (SIGUSR1). false with a one-line *error if the old file had to be kept.
  bool reopen_access_log(std::string* error);
  // After start(): writes the pid file and tells systemd READY=1 (Type=notify, when
  // NOTIFY_SOCKET is set; with MAINPID= after an upgrade, whose old process hears
  // "ready" too), then blocks until SIGINT or SIGTERM, or until an upgrade (SIGUSR2,
  // which runs `launch` again) has handed everything over. Meanwhile SIGUSR1 reopens
  // the access log and Stats go to stderr every config().stats_interval_s. Then it
  // stops gracefully and waits for the loops (telling systemd STOPPING=1 and removing
  // the pid file, unless it handed over). 0, or a negative libuv error code if the
  // signal watchers could not be set up or the handed-over start never got ready.
  // on_ready (may be null) runs once the signals are caught, before READY=1: a signal
  // sent after it is always handled.
  int run_until_signal(const Launch& launch, Inherited* from, void (*on_ready)(const Server&) = nullptr);

  // The public listener's figures, summed over its loops (the metrics listener's own
  // requests are not in them).
  Stats stats() const noexcept;
  StoreStatus store_status() const noexcept;
  // Behind Sentinel, the Redis master in use ("HOST:PORT"); "" elsewhere.
  std::string store_master() const;
  // Thread-safe.
  Readiness readiness() const noexcept;
  // The counter the loops take visitor numbers from (after start()).
  LeasedCounter& visitors() noexcept { return store_->counter(); }
  const Config& config() const noexcept { return config_; }

 private:
  friend class Upgrade;  // the old process's half of an upgrade (src/net/upgrade.cpp)
  // Every listening socket's fd: the public loops', then the metrics listener's.
  std::vector<int> listener_fds(bool metrics) const;
  int counter_fd() const noexcept;
  StoreHandover lease_for_handover() noexcept;
  std::uint64_t pause_store() noexcept;
  // The new process serves: stop accepting (the sockets stay open there) and drain,
  // leaving the store to it.
  void hand_over() noexcept;

  Config config_;
  std::unique_ptr<AccessLogFile> access_log_;
  std::unique_ptr<StoreThread> store_;
  std::unique_ptr<ListenerGroup> public_;
  // The metrics listener: its routes and its loop.
  std::unique_ptr<Ops> ops_;
  std::unique_ptr<ListenerGroup> metrics_;
  std::atomic<bool> started_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace hiserve
