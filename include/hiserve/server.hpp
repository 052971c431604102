// The net layer's public face: a server of N loop threads on one port. Owns the
// visitor counter all its loops share.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "hiserve/handler.hpp"
#include "hiserve/session.hpp"

namespace hiserve {

struct Config {
  std::string host = "127.0.0.1";
  int port = 8080;            // 0: any free port (Server::port() tells which)
  unsigned threads = 0;       // loops; 0: one per core
  std::size_t max_connections = 10000;
  Limits limits;
  double header_timeout_s = 10;  // a request head must arrive within this
  double idle_timeout_s = 60;    // a keep-alive connection may sit idle this long
  double shutdown_grace_s = 5;   // on stop, in-flight requests get this long
  double trim_interval_s = 10;   // pooled blocks unused this long go back to the allocator
};

// Totals across loops, readable from any thread while the server runs.
struct Stats {
  std::int64_t open_connections;
  std::uint64_t accepted;
  std::uint64_t rejected;       // over --max-connections: closed at once
  std::uint64_t accept_errors;  // accept() errors libuv reports (EMFILE only if its reserve-fd trick fails)
  std::uint64_t requests;       // responses written by the handler (200, 400, 404)
  // Protocol errors, each answered and followed by a close: all of them, then by kind.
  std::uint64_t protocol_errors;
  std::uint64_t bad_requests;  // 400: malformed, Host missing or doubled, smuggling
  std::uint64_t too_large;     // 413 body, 431 head
  std::uint64_t unsupported;   // 417 Expect, 501 Transfer-Encoding, 505 version
  std::uint64_t header_timeouts;
  std::uint64_t idle_timeouts;
};

class Worker;

class Server {
 public:
  explicit Server(Config config);
  ~Server();  // stops and joins if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every loop's listener and starts the loop threads. 0, or a negative libuv
  // error code with a one-line explanation in *error.
  int start(std::string* error);
  // The port the listeners are bound to (the real one when Config::port was 0).
  int port() const noexcept { return port_; }
  // Stops accepting, lets in-flight responses finish, closes idle connections; returns
  // at once. Thread-safe; a second call does nothing.
  void stop() noexcept;
  // Blocks until every loop thread has exited.
  void wait() noexcept;

  Stats stats() const noexcept;
  VisitorCounter& visitors() noexcept { return visitors_; }
  const Config& config() const noexcept { return config_; }

 private:
  friend class Worker;
  Config config_;
  VisitorCounter visitors_;
  alignas(64) std::atomic<std::int64_t> open_connections_{0};
  std::unique_ptr<std::unique_ptr<Worker>[]> workers_;
  unsigned nworkers_ = 0;
  int port_ = 0;
  bool started_ = false;
};

}  // namespace hiserve
