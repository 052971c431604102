// One accepted TCP connection: its libuv handle, its Session and the answers waiting
// to be written. Lives in a block of its loop's connection pool from accept to the
// handle's close callback.
#pragma once
#include <uv.h>

#include <cstdint>

#include "hiserve/http/session.hpp"
#include "hiserve/out_buf.hpp"
#include "timeout_list.hpp"

namespace hiserve {

class Worker;

class Connection {
 public:
  explicit Connection(Worker& w) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Takes the next connection off listener. On failure (a negative libuv code) this
  // connection is closing or already gone: the caller must not touch it again.
  int accept(uv_stream_t* listener) noexcept;
  // Accepted and admitted: start reading.
  void start() noexcept;
  // Closes now (RST if unread data is pending); idempotent.
  void close() noexcept;
  // Graceful stop: keep-alive connections between requests close now, the others
  // (and those whose next request has arrived unread) after their next response.
  void stop() noexcept;
  // The loop's worker: its uv_loop_t's data, so no connection stores it again.
  Worker* worker() const noexcept { return static_cast<Worker*>(tcp_.loop->data); }

 private:
  friend class TimeoutList;
  enum class State : std::uint8_t {
    Reading,   // reading requests; answers go out with uv_try_write
    Writing,   // a short write left a uv_write queued; reading is paused
    Draining,  // FIN sent after the last answer; input is read and dropped
    Closing,   // uv_close called; gone in on_close
  };
  // What flush() did with the answers in out_.
  enum class Flushed : std::uint8_t {
    Sent,    // all of them went out now
    Queued,  // a uv_write holds the rest; on_write carries on
    Closed,  // the write failed and the connection is closing
  };
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_write(uv_write_t* req, int status) noexcept;
  static void on_shutdown(uv_shutdown_t* req, int status) noexcept;
  static void on_close(uv_handle_t* h) noexcept;
  // Whether the kernel holds bytes no read has delivered yet (MSG_PEEK).
  bool request_waiting() noexcept;
  // A DeferredResponse's write (handler.hpp): the response owed since Session::Next::Wait;
  // writes it, then carries on with the requests that came after it.
  static void write_deferred(void* connection, int status, std::string_view content_type,
                             std::string_view body) noexcept;
  uv_stream_t* stream() noexcept { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  Worker& w() const noexcept { return *worker(); }
  // Feeds input to the session and writes the answers.
  void process(const char* data, std::size_t len) noexcept;
  Flushed flush() noexcept;
  // The session, taken from the loop's pool when there is none.
  Session& session() noexcept;
  // Gives the session back for its memo when it holds nothing.
  void park_session() noexcept;
  bool in_request() const noexcept { return session_ && session_->in_request(); }
  bool in_head() const noexcept { return session_ && session_->in_head(); }
  bool waiting() const noexcept { return session_ && session_->waiting(); }
  // Keeps unparsed input until the connection may go on with it.
  void keep_pending(const char* data, std::size_t len) noexcept;
  // Input that arrives while an answer is owed waits behind it, up to a flush's worth.
  void hold(const char* data, std::size_t len) noexcept;
  // Writes the answers; once they are out, feeds the input kept meanwhile, or reads.
  void resume_after_flush() noexcept;
  // After a read's answers are out: keep reading, park for an owed answer, or start
  // the lingering close.
  void after_round() noexcept;
  // FIN after the last answer, then read and drop until the client closes or the
  // linger timeout, so unread input never turns into an RST that destroys the answer.
  void start_lingering_close() noexcept;
  void read_start() noexcept;
  void read_stop() noexcept;
  // The remote address, for the access log.
  void read_peer() noexcept;
  // Runs the destructor and hands this block back to the loop.
  void destroy() noexcept;

  // A queued write or shutdown is rare and short-lived: its request lives in a pool
  // block while in flight, not in every idle connection.
  union Req {
    uv_write_t write;
    uv_shutdown_t shutdown;
  };
  Req* take_req() noexcept;
  void give_req(Req* r) noexcept;

  uv_tcp_t tcp_;
  TimeoutLink timeout_;
  // The session lives in a pool block while a request is under way (or answers are
  // owed); an idle connection keeps only its memo.
  Session* session_ = nullptr;
  StreamMemo memo_;
  OutBuf out_;
  char* pending_ = nullptr;  // unparsed input kept while a write is blocked or an answer owed
  std::uint32_t pending_len_ = 0;
  std::uint32_t writing_ = 0;  // bytes of out_ in the queued write
  State state_ = State::Reading;
  bool close_after_write_ = false;
  bool reading_ = false;
  // Read at accept only when the access log is on. Last, packed with the flags: a
  // Connection stays within 384 bytes, the allocators' size class below 448.
  PeerAddress peer_;
};

}  // namespace hiserve
