#include <cstring>
#include <new>

#include "worker.hpp"

namespace hiserve {
namespace {
static_assert(sizeof(OutBuf::Span) == sizeof(uv_buf_t) &&
                  offsetof(OutBuf::Span, base) == offsetof(uv_buf_t, base) &&
                  offsetof(OutBuf::Span, len) == offsetof(uv_buf_t, len),
              "OutBuf::Span must have uv_buf_t's layout");
constexpr int kMaxSpans = 64;

uv_stream_t* stream(uv_tcp_t* t) { return reinterpret_cast<uv_stream_t*>(t); }

void alloc_read(uv_handle_t* h, std::size_t, uv_buf_t* buf) noexcept {
  // Every connection of a loop reads into the loop's one buffer: a connection keeps
  // nothing between reads but what its parser pinned in its arena.
  Worker& w = *static_cast<Connection*>(h->data)->worker();
  *buf = uv_buf_init(w.read_buf, Worker::kReadBufSize);
}
}  // namespace

Connection::Connection(Worker& w) noexcept : w_(&w), session_(w.env), out_(w.chunks) {
  tcp.data = this;
}

void Connection::start() noexcept {
  uv_tcp_nodelay(&tcp, 1);
  w_->header_list.push_back(this, uv_now(&w_->loop));
  read_start();
}

void Connection::read_start() noexcept {
  if (!reading_ && uv_read_start(stream(&tcp), alloc_read, on_read) == 0) reading_ = true;
}

void Connection::read_stop() noexcept {
  if (reading_) uv_read_stop(stream(&tcp));
  reading_ = false;
}

Connection::Req* Connection::take_req() noexcept {
  static_assert(sizeof(Req) <= 16 * 1024);
  return static_cast<Req*>(w_->chunks.get());
}

void Connection::give_req(Req* r) noexcept { w_->chunks.put(r); }

void Connection::close() noexcept {
  if (state_ == State::Closing) return;
  state_ = State::Closing;
  TimeoutList::unlink(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp), on_close);
}

void Connection::on_close(uv_handle_t* h) noexcept {
  auto* c = static_cast<Connection*>(h->data);
  Worker& w = *c->w_;
  mem::release(c->tail_);
  c->~Connection();
  w.conn_blocks.put(c);
  w.connection_gone();
}

void Connection::stop() noexcept {
  if (state_ == State::Reading && !session_.in_request() && out_.empty()) return close();
  session_.close_after_response();
}

void Connection::expire() noexcept { close(); }

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* c = static_cast<Connection*>(s->data);
  if (nread == 0) return;
  if (nread < 0 || c->state_ == State::Draining) {
    // EOF, reset, or input after our last response: drop it; at EOF, we are done.
    if (nread < 0) c->close();
    return;
  }
  c->w_->touch_date();
  c->process(buf->base, static_cast<std::size_t>(nread));
}

void Connection::process(const char* data, std::size_t len) noexcept {
  const std::uint64_t before = session_.requests();
  for (;;) {
    const Session::Result r = session_.feed(data, len, out_);
    data += r.consumed;
    len -= r.consumed;
    if (r.next == Session::Next::Read) break;
    if (r.next == Session::Next::Close) {
      close_after_write_ = true;
      if (int status = session_.error_status()) {
        WorkerStats& st = w_->stats;
        WorkerStats::bump(status == 400 ? st.bad_requests : status == 413 || status == 431 ? st.too_large : st.unsupported);
      }
      break;
    }
    // Flush: the client pipelines faster than it reads. Write what we have; if the
    // socket is full, keep the unparsed input and read nothing until the write drains.
    if (!flush()) {
      if (state_ == State::Writing && len > 0) {
        tail_ = static_cast<char*>(mem::alloc(len));
        std::memcpy(tail_, data, len);
        tail_len_ = static_cast<std::uint32_t>(len);
      }
      WorkerStats::bump(w_->stats.requests, session_.requests() - before);
      return;
    }
  }
  WorkerStats::bump(w_->stats.requests, session_.requests() - before);
  if (flush()) after_round();
}

bool Connection::flush() noexcept {
  if (out_.empty()) return true;
  OutBuf::Span spans[kMaxSpans];
  int n = out_.spans(spans, kMaxSpans);
  const int r = uv_try_write(stream(&tcp), reinterpret_cast<uv_buf_t*>(spans), static_cast<unsigned>(n));
  if (r >= 0 && static_cast<std::size_t>(r) == out_.size()) {
    out_.reset();
    return true;
  }
  if (r < 0 && r != UV_EAGAIN) {
    close();
    return false;
  }
  if (r > 0) out_.consume(static_cast<std::size_t>(r));
  // Short write (redis style: only now wait for writable). One write in flight.
  n = out_.spans(spans, kMaxSpans);
  writing_ = 0;
  for (int i = 0; i < n; ++i) writing_ += static_cast<std::uint32_t>(spans[i].len);
  Req* req = take_req();
  req->write.data = this;
  if (uv_write(&req->write, stream(&tcp), reinterpret_cast<uv_buf_t*>(spans), static_cast<unsigned>(n), on_write) != 0) {
    give_req(req);
    close();
    return false;
  }
  state_ = State::Writing;
  read_stop();
  w_->idle_list.push_back(this, uv_now(&w_->loop));
  return false;
}

void Connection::on_write(uv_write_t* req, int status) noexcept {
  auto* c = static_cast<Connection*>(req->data);
  c->give_req(reinterpret_cast<Req*>(req));
  if (c->state_ == State::Closing) return;  // cancelled by close()
  if (status < 0) return c->close();
  c->out_.consume(c->writing_);
  c->state_ = State::Reading;
  if (!c->flush()) return;
  if (c->tail_) {
    char* tail = c->tail_;
    std::uint32_t n = c->tail_len_;
    c->tail_ = nullptr;
    c->tail_len_ = 0;
    c->process(tail, n);
    mem::release(tail);
    return;
  }
  c->after_round();
}

void Connection::after_round() noexcept {
  if (state_ == State::Closing) return;
  if (close_after_write_ || (w_->stopping && !session_.in_request())) return finish();
  read_start();
  const std::uint64_t now = uv_now(&w_->loop);
  if (session_.in_head()) {
    // The header timeout runs from the head's first byte; later bytes don't extend it.
    if (list != &w_->header_list) w_->header_list.push_back(this, now);
  } else {
    w_->idle_list.push_back(this, now);
  }
}

void Connection::finish() noexcept {
  // Lingering close: FIN after the last response, then read and drop until the client
  // closes (or the linger timeout), so unread input never turns into an RST that could
  // destroy the response on its way.
  state_ = State::Draining;
  Req* req = take_req();
  req->shutdown.data = this;
  if (uv_shutdown(&req->shutdown, stream(&tcp), on_shutdown) != 0) {
    give_req(req);
    return close();
  }
  read_start();
  w_->linger_list.push_back(this, uv_now(&w_->loop));
}

void Connection::on_shutdown(uv_shutdown_t* req, int status) noexcept {
  auto* c = static_cast<Connection*>(req->data);
  c->give_req(reinterpret_cast<Req*>(req));
  if (status < 0 && c->state_ != State::Closing) c->close();
}

}  // namespace hiserve
