#include "connection.hpp"

#include <sys/socket.h>

#include <cassert>
#include <cstring>

#include "hiserve/alloc.hpp"
#include "hiserve/response.hpp"
#include "worker.hpp"

namespace hiserve {
namespace {
static_assert(sizeof(OutBuf::Span) == sizeof(uv_buf_t) &&
                  offsetof(OutBuf::Span, base) == offsetof(uv_buf_t, base) &&
                  offsetof(OutBuf::Span, len) == offsetof(uv_buf_t, len),
              "OutBuf::Span must have uv_buf_t's layout");
constexpr int kMaxSpans = 64;
// docs/performance.md's idle memory per connection rests on this (see peer_).
static_assert(sizeof(Connection) <= 384, "a Connection outgrew the 384-byte size class");

void alloc_read(uv_handle_t* h, std::size_t, uv_buf_t* buf) noexcept {
  *buf = static_cast<Connection*>(h->data)->worker()->read_buffer();
}
}  // namespace

Connection::Connection(Worker& w) noexcept : out_(w.chunks()) {
  tcp_.loop = w.loop();  // uv_tcp_init sets it again; the worker is found through it from here on
}

Session& Connection::session() noexcept {
  if (!session_) {
    session_ = w().sessions().take();
    session_->restart(memo_, &peer_);
  }
  return *session_;
}

void Connection::park_session() noexcept {
  if (!session_ || !session_->idle()) return;
  memo_ = session_->memo();
  w().sessions().park(session_);
  session_ = nullptr;
}

int Connection::accept(uv_stream_t* listener) noexcept {
  if (int r = uv_tcp_init(w().loop(), &tcp_)) {
    destroy();  // no handle was made, so there is nothing to close
    return r;
  }
  tcp_.data = this;
  if (int r = uv_accept(listener, stream())) {
    close();
    return r;
  }
  return 0;
}

void Connection::start() noexcept {
  uv_tcp_nodelay(&tcp_, 1);
  if (w().logging()) read_peer();
  w().watch(*this, Timeout::Header);
  read_start();
}

void Connection::read_peer() noexcept {
  sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return;
  if (ss.ss_family == AF_INET) {
    std::memcpy(peer_.bytes, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, 4);
    peer_.family = 4;
  } else if (ss.ss_family == AF_INET6) {
    std::memcpy(peer_.bytes, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, 16);
    peer_.family = 6;
  }
}

void Connection::read_start() noexcept {
  if (!reading_ && uv_read_start(stream(), alloc_read, on_read) == 0) reading_ = true;
}

void Connection::read_stop() noexcept {
  if (reading_) uv_read_stop(stream());
  reading_ = false;
}

Connection::Req* Connection::take_req() noexcept {
  static_assert(sizeof(Req) <= kChunkSize);
  return static_cast<Req*>(w().chunks().get());
}

void Connection::give_req(Req* r) noexcept { w().chunks().put(r); }

void Connection::close() noexcept {
  if (state_ == State::Closing) return;
  if (waiting()) {
    const Router& r = session_->router();
    r.cancel(r.state, this);
  }
  state_ = State::Closing;
  TimeoutList::unlink(*this);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
}

void Connection::on_close(uv_handle_t* h) noexcept { static_cast<Connection*>(h->data)->destroy(); }

void Connection::destroy() noexcept {
  Worker& w = this->w();
  mem::release(pending_);
  if (session_) w.sessions().drop(session_);
  this->~Connection();
  w.connection_gone(this);
}

void Connection::stop() noexcept {
  // A connection not yet answered is one a client opened to send a request: closing it
  // would fail that request (a client resends only on a reused connection, RFC 9112
  // section 9.3.1). It gets its answer, with Connection: close, within the header
  // timeout and the grace period; a keep-alive connection between requests closes now,
  // unless its next request is already in the kernel's buffer: closing would reset it,
  // so it is answered, with Connection: close, like a request in progress.
  const std::uint64_t answered = session_ ? session_->responses() : memo_.responses;
  if (state_ == State::Reading && !in_request() && out_.empty() && answered > 0 && !request_waiting())
    return close();
  if (session_) session_->close_after_response();
  else memo_.close_requested = true;
}

bool Connection::request_waiting() noexcept {
  uv_os_fd_t fd;
  char byte;
  return uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) == 0 &&
         ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* c = static_cast<Connection*>(s->data);
  if (nread == 0) return;
  if (nread < 0 || c->state_ == State::Draining) {
    // EOF, reset, or input after our last answer: drop it; at EOF, we are done.
    if (nread < 0) c->close();
    return;
  }
  if (c->waiting()) return c->hold(buf->base, static_cast<std::size_t>(nread));
  c->w().touch_date();
  c->process(buf->base, static_cast<std::size_t>(nread));
}

void Connection::hold(const char* data, std::size_t len) noexcept {
  pending_ = static_cast<char*>(mem::resize(pending_, pending_len_ + len));
  std::memcpy(pending_ + pending_len_, data, len);
  pending_len_ += static_cast<std::uint32_t>(len);
  if (pending_len_ >= OutBuf::kFlushBytes) read_stop();  // enough queued behind the answer
}

void Connection::process(const char* data, std::size_t len) noexcept {
  assert(state_ == State::Reading);
  // Request durations, when metrics are on: a request that began in an earlier read
  // keeps its start; every other one began with this read. One clock read per read and
  // one per write, not per request.
  const bool timed = w().timing();
  const std::uint64_t read_at = timed ? uv_hrtime() : 0;
  Session& session = this->session();
  std::uint64_t started = session.in_request() ? session.started_ns() : read_at;
  session.set_read_time(read_at);
  std::uint64_t observed = session.responses();
  auto observe = [&] {
    const std::uint64_t done = session.responses() - observed;
    if (!timed || done == 0) return;
    const std::uint64_t now = uv_hrtime();
    LoopStats& stats = w().stats();
    stats.observe(now - started, 1);
    if (done > 1) stats.observe(now - read_at, done - 1);
    observed += done;
    started = read_at;  // whatever is still in progress began in this read
  };
  Flushed flushed = Flushed::Sent;
  for (;;) {
    const Session::Result r = session.feed(data, len, out_);
    data += r.consumed;
    len -= r.consumed;
    if (r.next == Session::Next::Read) break;
    if (r.next == Session::Next::Close) {
      close_after_write_ = true;
      break;
    }
    if (r.next == Session::Next::Wait) {  // after the responses so far, wait for the owed one
      keep_pending(data, len);
      const Router& router = session.router();
      router.defer(router.state, {this, write_deferred});
      break;
    }
    // Flush: the client pipelines faster than it reads. Write what we have; if the
    // socket is full, keep the unparsed input and read nothing until the write drains.
    observe();
    flushed = flush();
    if (flushed != Flushed::Sent) {
      if (flushed == Flushed::Queued) keep_pending(data, len);
      break;
    }
  }
  observe();
  if (flushed == Flushed::Sent) resume_after_flush();
}

void Connection::keep_pending(const char* data, std::size_t len) noexcept {
  assert(!pending_);
  if (len == 0) return;
  pending_ = static_cast<char*>(mem::alloc(len));
  std::memcpy(pending_, data, len);
  pending_len_ = static_cast<std::uint32_t>(len);
}

void Connection::write_deferred(void* connection, int status, std::string_view content_type,
                                std::string_view body) noexcept {
  Connection& c = *static_cast<Connection*>(connection);
  assert(c.waiting() && c.state_ != State::Closing);
  Session& s = *c.session_;
  if (c.w().stopping()) s.close_after_response();
  write_response(c.out_, {status, content_type, false, body.size(), s.waiting_conn()}, body, s.waiting_head_only(),
                 c.w().date());
  if (s.deferred_written(status) == Session::Next::Close) c.close_after_write_ = true;
  if (c.state_ == State::Reading) c.resume_after_flush();  // else on_write carries on
}

Connection::Flushed Connection::flush() noexcept {
  assert(state_ == State::Reading);
  if (out_.empty()) return Flushed::Sent;
  OutBuf::Span spans[kMaxSpans];
  int n = out_.spans(spans, kMaxSpans);
  const int r = uv_try_write(stream(), reinterpret_cast<uv_buf_t*>(spans), static_cast<unsigned>(n));
  if (r >= 0 && static_cast<std::size_t>(r) == out_.size()) {
    out_.reset();
    return Flushed::Sent;
  }
  if (r < 0 && r != UV_EAGAIN) {
    close();
    return Flushed::Closed;
  }
  if (r > 0) out_.consume(static_cast<std::size_t>(r));
  // Short write (redis style: only now wait for writable). One write in flight.
  n = out_.spans(spans, kMaxSpans);
  writing_ = 0;
  for (int i = 0; i < n; ++i) writing_ += static_cast<std::uint32_t>(spans[i].len);
  Req* req = take_req();
  req->write.data = this;
  if (uv_write(&req->write, stream(), reinterpret_cast<uv_buf_t*>(spans), static_cast<unsigned>(n), on_write) != 0) {
    give_req(req);
    close();
    return Flushed::Closed;
  }
  state_ = State::Writing;
  read_stop();
  w().watch(*this, Timeout::Idle);  // a client that never reads is idle too
  return Flushed::Queued;
}

void Connection::on_write(uv_write_t* req, int status) noexcept {
  auto* c = static_cast<Connection*>(req->data);
  c->give_req(reinterpret_cast<Req*>(req));
  if (c->state_ == State::Closing) return;  // cancelled by close()
  assert(c->state_ == State::Writing);
  if (status < 0) return c->close();
  c->out_.consume(c->writing_);
  c->state_ = State::Reading;
  c->resume_after_flush();
}

void Connection::resume_after_flush() noexcept {
  if (flush() != Flushed::Sent) return;
  if (pending_ && !waiting() && !close_after_write_) {
    char* pending = pending_;
    std::uint32_t n = pending_len_;
    pending_ = nullptr;
    pending_len_ = 0;
    process(pending, n);
    mem::release(pending);
    return;
  }
  after_round();
}

void Connection::after_round() noexcept {
  if (state_ == State::Closing) return;
  assert(state_ == State::Reading);
  if (waiting()) {
    // No deadline until answer(); reading on, to see the client leave (and to hold
    // what it sends meanwhile).
    TimeoutList::unlink(*this);
    if (pending_len_ < OutBuf::kFlushBytes) read_start();
    return;
  }
  if (close_after_write_ || (w().stopping() && !in_request())) return start_lingering_close();
  park_session();  // an idle connection keeps only its memo
  read_start();
  if (in_head()) {
    // The header timeout runs from the head's first byte; later bytes don't extend it.
    if (!w().is_watching(*this, Timeout::Header)) w().watch(*this, Timeout::Header);
  } else {
    w().watch(*this, Timeout::Idle);
  }
}

void Connection::start_lingering_close() noexcept {
  assert(state_ == State::Reading);
  state_ = State::Draining;
  Req* req = take_req();
  req->shutdown.data = this;
  if (uv_shutdown(&req->shutdown, stream(), on_shutdown) != 0) {
    give_req(req);
    return close();
  }
  read_start();
  w().watch(*this, Timeout::Linger);
}

void Connection::on_shutdown(uv_shutdown_t* req, int status) noexcept {
  auto* c = static_cast<Connection*>(req->data);
  c->give_req(reinterpret_cast<Req*>(req));
  if (status < 0 && c->state_ != State::Closing) c->close();
}

}  // namespace hiserve
