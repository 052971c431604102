// One loop thread: its uv_loop_t, its SO_REUSEPORT listener, its connections and the
// pools they draw from. Nothing here is touched by another thread except through
// wake_ (uv_async) and the relaxed stat counters.
#pragma once
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "hiserve/alloc.hpp"
#include "hiserve/block_pool.hpp"
#include "hiserve/date_cache.hpp"
#include "hiserve/out_buf.hpp"
#include "hiserve/server.hpp"
#include "hiserve/session.hpp"

namespace hiserve {

class Connection;

// Connections whose deadlines share one timeout, oldest first: appending keeps the
// list sorted, so a sweep only looks at the head. O(1) per request, no timer per
// connection.
struct TimeoutList {
  Connection* head = nullptr;
  Connection* tail = nullptr;
  std::uint64_t timeout_ms = 0;
  void push_back(Connection* c, std::uint64_t now) noexcept;
  static void unlink(Connection* c) noexcept;
};

// Counters one loop writes and anyone may read; single writer, so plain relaxed
// load+store, no locked instruction.
struct alignas(64) WorkerStats {
  std::atomic<std::uint64_t> accepted{0}, rejected{0}, accept_errors{0}, requests{0}, bad_requests{0},
      too_large{0}, unsupported{0}, header_timeouts{0}, idle_timeouts{0};
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

class Connection {
 public:
  explicit Connection(Worker& w) noexcept;
  // Accepted: start reading.
  void start() noexcept;
  // Closes now (RST if unread data is pending); idempotent.
  void close() noexcept;
  // Graceful stop: idle connections close now, busy ones after their response.
  void stop() noexcept;
  // Called by the sweep when this connection's deadline has passed.
  void expire() noexcept;
  Worker* worker() const noexcept { return w_; }

  uv_tcp_t tcp;
  // TimeoutList links.
  Connection* prev = nullptr;
  Connection* next = nullptr;
  TimeoutList* list = nullptr;
  std::uint64_t deadline = 0;

 private:
  enum class State : std::uint8_t { Reading, Writing, Draining, Closing };
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_write(uv_write_t* req, int status) noexcept;
  static void on_shutdown(uv_shutdown_t* req, int status) noexcept;
  static void on_close(uv_handle_t* h) noexcept;
  void process(const char* data, std::size_t len) noexcept;
  // Writes out_; true when all of it went out now, false when a write is queued (or
  // the connection closed).
  bool flush() noexcept;
  // After a read's responses are out: keep reading, or start the lingering close.
  void after_round() noexcept;
  void finish() noexcept;
  void read_start() noexcept;
  void read_stop() noexcept;

  Worker* w_;
  Session session_;
  OutBuf out_;
  // A queued write or shutdown is rare and short-lived: its request lives in a pool
  // block while in flight, not in every idle connection.
  union Req {
    uv_write_t write;
    uv_shutdown_t shutdown;
  };
  Req* take_req() noexcept;
  void give_req(Req* r) noexcept;
  char* tail_ = nullptr;  // unparsed input kept while a write is blocked
  std::uint32_t tail_len_ = 0;
  std::uint32_t writing_ = 0;  // bytes of out_ in the queued write
  State state_ = State::Reading;
  bool close_after_write_ = false;
  bool reading_ = false;
};

class Worker {
 public:
  explicit Worker(Server& server) noexcept;
  ~Worker();
  // Sets up the loop and binds its listener; 0 or a libuv error (*what says which step).
  int listen(const struct sockaddr* addr, const char** what) noexcept;
  // Bound port of this worker's listener.
  int bound_port() const noexcept;
  void run_thread();
  void join();
  // Asks the loop to stop (thread-safe).
  void request_stop() noexcept;

  Server& server;
  uv_loop_t loop;
  BlockPool chunks;       // arena and output chunks
  BlockPool conn_blocks;  // Connection objects
  DateCache date;
  SessionEnv env;
  WorkerStats stats;
  TimeoutList header_list, idle_list, linger_list;
  char* read_buf;
  static constexpr std::size_t kReadBufSize = 64 * 1024;
  bool stopping = false;
  std::uint64_t date_checked_ms = 0;

  void touch_date() noexcept;
  // A connection has been closed and its memory returned.
  void connection_gone() noexcept;

 private:
  static void on_connection(uv_stream_t* server, int status) noexcept;
  static void on_tick(uv_timer_t* t) noexcept;
  static void on_wake(uv_async_t* a) noexcept;
  static void on_grace(uv_timer_t* t) noexcept;
  void sweep(TimeoutList& list, std::atomic<std::uint64_t>* counter) noexcept;
  void begin_stop() noexcept;
  void maybe_finish_stop() noexcept;

  uv_tcp_t listener_;
  uv_timer_t tick_;
  uv_timer_t grace_;
  uv_async_t wake_;
  std::atomic<bool> stop_requested_{false};
  std::thread thread_;
  std::size_t live_ = 0;  // connections of this loop not yet closed
  unsigned ticks_ = 0;
  unsigned ticks_per_trim_ = 1;
  bool loop_ready_ = false;
};

}  // namespace hiserve
