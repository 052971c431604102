// The net layer's public face: a server of N loop threads on one port (and the
// metrics listener's loop), and the process around it: signals, systemd's readiness
// protocol, the stats line (process.cpp). Owns the visitor store (and its counter)
// all its loops share. No libuv here: callers see only plain C++.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "hiserve/config.hpp"
#include "hiserve/counter.hpp"
#include "hiserve/stats.hpp"
#include "hiserve/store/store_thread.hpp"

namespace hiserve {

class AccessLogFile;

// Whether the server can take a visitor now: the one truth /readyz reads.
enum class Readiness : std::uint8_t {
  Ready,      // the public listeners accept and a visitor number can be handed out now
  Starting,   // not yet: the loops are coming up, or the store has not leased yet
  Draining,   // stopping (SIGTERM): no new work
  StoreDown,  // the store leased before, and no leased number is left now
};
// "ready", or why not: "starting", "draining", "counter store down".
const char* readiness_text(Readiness r) noexcept;
class ListenerGroup;
class Ops;

class Server {
 public:
  explicit Server(Config config);
  ~Server();  // stops and joins if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens the access log and the visitor store (before anything listens), binds every loop's listener (and
  // the metrics listener, when configured) and starts the loop threads. 0, or a
  // negative code with a one-line explanation in *error.
  int start(std::string* error);
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
  // After start(): tells systemd READY=1 (Type=notify, when NOTIFY_SOCKET is set), blocks
  // until SIGINT or SIGTERM (SIGUSR1 reopens the access log), logging Stats to stderr every config().stats_interval_s
  // meanwhile, then tells systemd STOPPING=1, stops gracefully and waits for the loops.
  // 0, or a negative libuv error code if the signal watchers could not be set up.
  // on_ready (may be null) runs once SIGINT/SIGTERM are caught, before READY=1: a
  // signal sent after it always stops gracefully.
  int run_until_signal(void (*on_ready)(const Server&) = nullptr);

  // The public listener's figures, summed over its loops (the metrics listener's own
  // requests are not in them).
  Stats stats() const noexcept;
  StoreStatus store_status() const noexcept;
  // Thread-safe.
  Readiness readiness() const noexcept;
  // The counter the loops take visitor numbers from (after start()).
  LeasedCounter& visitors() noexcept { return store_->counter(); }
  const Config& config() const noexcept { return config_; }

 private:
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
