// One loop thread: its uv_loop_t, its SO_REUSEPORT listener, its connections and the
// pools they draw from. Nothing here is touched by another thread except through
// request_stop() (a uv_async) and the relaxed stat counters.
#pragma once
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "connection.hpp"
#include "hiserve/access_log.hpp"
#include "hiserve/block_pool.hpp"
#include "hiserve/config.hpp"
#include "hiserve/date_cache.hpp"
#include "hiserve/http/session.hpp"
#include "hiserve/http/session_pool.hpp"
#include "hiserve/stats.hpp"
#include "timeout_list.hpp"

namespace hiserve {

// Which deadline a connection is waiting on.
enum class Timeout : std::uint8_t {
  Header,  // a request head has started: it must complete in time
  Idle,    // between requests on a keep-alive connection (or a write is stuck)
  Linger,  // lingering close after the last answer
};

// What a loop serves and how; the listener group that owns the loop owns these too.
struct LoopOptions {
  const Config* config;
  LeasedCounter* visitors;                     // shared by every loop
  std::atomic<std::int64_t>* open_connections;  // the group's, for --max-connections
  const Router* router;
  bool timed;        // request durations go into the histogram
  char name[16];     // the thread's, for top -H, perf and /proc/PID/task
  int access_log_fd = -1;  // the process's access log (AccessLogFile), or -1: none
  AccessLogFormat access_log_format = AccessLogFormat::Combined;
};

class Worker {
 public:
  explicit Worker(const LoopOptions& options) noexcept;
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Sets up the loop and its timers; 0 or a libuv error.
  int open_loop() noexcept;
  // After open_loop(): listens on each address (all with one port; port 0 takes the
  // first one's), or with `handed` (count fds), on the listening sockets an upgrading
  // hiserve handed over, bound to those addresses; 0 or a libuv error (*what says
  // which step).
  int listen(const sockaddr_storage* addrs, std::size_t count, const int* handed, const char** what) noexcept;
  // The listening sockets' fds, appended to out (what an upgrade hands over).
  void listener_fds(std::vector<int>* out) const noexcept;
  // Bound port of this worker's listeners, or -1.
  int bound_port() const noexcept;
  // Runs the loop on a thread of its own.
  void run_thread();
  void join();
  // Asks the loop to stop gracefully (thread-safe).
  void request_stop() noexcept;
  // Asks the loop to write out its access-log lines now (thread-safe; SIGUSR1).
  void request_log_flush() noexcept;
  // This loop's counters: written by the loop only, read by anyone.
  LoopStats& stats() noexcept { return stats_; }
  const LoopStats& stats() const noexcept { return stats_; }

  // For this loop's connections.
  uv_loop_t* loop() noexcept { return &loop_; }
  BlockPool& chunks() noexcept { return chunks_; }
  // Sessions for connections with a request under way.
  SessionPool& sessions() noexcept { return sessions_; }
  const DateCache& date() const noexcept { return date_; }
  bool stopping() const noexcept { return stopping_; }
  bool timing() const noexcept { return options_.timed; }
  bool logging() const noexcept { return log_ != nullptr; }
  // Every connection of a loop reads into the loop's one buffer: a connection keeps
  // nothing between reads but what its parser pinned in its arena.
  uv_buf_t read_buffer() noexcept { return uv_buf_init(read_buf_, kReadBufSize); }
  // Refreshes the Date header's cache if the loop's clock says a new second may have begun.
  void touch_date() noexcept;
  // Starts c's deadline of that kind, ending the one it had.
  void watch(Connection& c, Timeout kind) noexcept;
  bool is_watching(const Connection& c, Timeout kind) const noexcept;
  // c has been destroyed; its block goes back to the pool.
  void connection_gone(Connection* c) noexcept;

 private:
  static constexpr unsigned kReadBufSize = 64 * 1024;
  static void on_connection(uv_stream_t* server, int status) noexcept;
  static void on_tick(uv_timer_t* t) noexcept;
  static void on_wake(uv_async_t* a) noexcept;
  static void on_grace(uv_timer_t* t) noexcept;
  TimeoutList& list(Timeout kind) noexcept { return lists_[static_cast<int>(kind)]; }
  // Closes the connections whose deadline in `kind` has passed, counting each.
  void close_expired(Timeout kind, std::uint64_t now, std::atomic<std::uint64_t>* counter) noexcept;
  // Writes out the access log's lines (once a second, at SIGUSR1 and at the stop).
  void flush_log() noexcept;
  // Publishes the pools' sizes for the metrics (the pools themselves are this loop's).
  void publish_pool_bytes() noexcept;
  // Calls stop() (or close(), when forced) on every connection of this loop.
  void stop_all(bool forced) noexcept;
  void begin_stop() noexcept;
  void maybe_finish_stop() noexcept;

  const LoopOptions options_;
  const Config& config_;
  uv_loop_t loop_;
  BlockPool chunks_;       // arena and output chunks, queued write requests
  BlockPool conn_blocks_;  // Connection objects
  DateCache date_;
  LoopStats stats_;
  SessionEnv env_;
  SessionPool sessions_;
  TimeoutList lists_[3];
  char* read_buf_;
  std::uint64_t date_checked_ms_ = 0;
  std::unique_ptr<uv_tcp_t[]> listeners_;  // one per address --host resolved to
  std::size_t nlisteners_ = 0;
  uv_timer_t tick_;
  uv_timer_t grace_;
  uv_async_t wake_;
  std::unique_ptr<AccessLog> log_;
  std::uint64_t log_flushed_ms_ = 0;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> flush_requested_{false};
  std::thread thread_;
  std::size_t live_ = 0;  // connections of this loop not yet destroyed
  unsigned ticks_ = 0;
  unsigned ticks_per_trim_ = 1;
  bool loop_ready_ = false;
  bool stopping_ = false;
};

}  // namespace hiserve
