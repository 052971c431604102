#include "worker.hpp"

#include <pthread.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <new>
#include <utility>

#include "addresses.hpp"
#include "hiserve/alloc.hpp"

namespace hiserve {
namespace {
constexpr int kBacklog = 1024;
// How long a connection that was told to close may take to send its last bytes and
// go away (lingering close: a close with unread input would RST our response).
constexpr std::uint64_t kLingerMs = 2000;

std::uint64_t to_ms(double s) { return static_cast<std::uint64_t>(s * 1000 + 0.5); }
uv_handle_t* handle(void* h) { return static_cast<uv_handle_t*>(h); }
}  // namespace

Worker::Worker(const LoopOptions& options) noexcept
    : options_(options),
      config_(*options.config),
      chunks_(kChunkSize),
      conn_blocks_(mem::align_up(sizeof(Connection), 16)),
      env_{config_.limits, &chunks_, options.visitors, &date_, &stats_, options.router},
      sessions_(env_),
      lists_{TimeoutList(to_ms(config_.header_timeout_s)), TimeoutList(to_ms(config_.idle_timeout_s)),
             TimeoutList(std::min(kLingerMs, to_ms(config_.idle_timeout_s)))},
      read_buf_(static_cast<char*>(mem::alloc(kReadBufSize))) {
  if (options.access_log_fd >= 0) {
    log_ = std::make_unique<AccessLog>(options.access_log_fd, options.access_log_format, date_, stats_);
    env_.access_log = log_.get();
  }
}

Worker::~Worker() {
  if (loop_ready_) {
    if (!thread_.joinable()) {  // never ran: close what open_loop() and listen() opened
      uv_walk(&loop_, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
      uv_run(&loop_, UV_RUN_DEFAULT);
    }
    join();
    uv_loop_close(&loop_);
  }
  mem::release(read_buf_);
}

int Worker::open_loop() noexcept {
  if (int r = uv_loop_init(&loop_)) return r;
  loop_ready_ = true;
  loop_.data = this;
  if (int r = uv_timer_init(&loop_, &tick_)) return r;
  if (int r = uv_timer_init(&loop_, &grace_)) return r;
  if (int r = uv_async_init(&loop_, &wake_, on_wake)) return r;
  tick_.data = grace_.data = wake_.data = this;
  // The sweep runs a few times per shortest timeout, at most once a second.
  std::uint64_t shortest = std::min({list(Timeout::Header).timeout_ms(), list(Timeout::Idle).timeout_ms(),
                                     list(Timeout::Linger).timeout_ms()});
  std::uint64_t tick = std::clamp<std::uint64_t>(shortest / 4, 5, 1000);
  ticks_per_trim_ = static_cast<unsigned>(std::max<std::uint64_t>(1, to_ms(config_.trim_interval_s) / tick));
  return uv_timer_start(&tick_, on_tick, tick, tick);
}

int Worker::listen(const sockaddr_storage* addrs, std::size_t count, const int* handed, const char** what) noexcept {
  listeners_ = std::make_unique<uv_tcp_t[]>(count);
  for (std::size_t i = 0; i < count && handed; ++i) {
    uv_tcp_t* l = &listeners_[i];
    *what = "socket";
    if (int r = uv_tcp_init(&loop_, l)) return r;
    ++nlisteners_;
    l->data = this;
    *what = "handed socket";
    if (int r = uv_tcp_open(l, handed[i])) return r;
    *what = "listen";
    if (int r = uv_listen(reinterpret_cast<uv_stream_t*>(l), kBacklog, on_connection)) return r;
  }
  for (std::size_t i = 0; i < count && !handed; ++i) {
    sockaddr_storage ss = addrs[i];
    if (i > 0 && port_of(ss) == 0) set_port(ss, bound_port());  // port 0: the first one's, everywhere
    const auto* addr = reinterpret_cast<const sockaddr*>(&ss);
    uv_tcp_t* l = &listeners_[i];
    *what = "socket";
    if (int r = uv_tcp_init_ex(&loop_, l, addr->sa_family)) return r;
    ++nlisteners_;
    l->data = this;
    // Debian's libuv 1.44 has no UV_TCP_REUSEPORT: set it on the fd before bind, so
    // each loop gets its own accept queue and the kernel spreads connections over them.
    uv_os_fd_t fd;
    if (int r = uv_fileno(handle(l), &fd)) return r;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) return uv_translate_sys_error(errno);
    *what = "bind";
    // Beside other addresses (a name's), an IPv6 one takes IPv6 alone, as nginx's do.
    const unsigned flags = count > 1 && addr->sa_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
    if (int r = uv_tcp_bind(l, addr, flags)) return r;
    *what = "listen";
    if (int r = uv_listen(reinterpret_cast<uv_stream_t*>(l), kBacklog, on_connection)) return r;
  }
  return 0;
}

void Worker::listener_fds(std::vector<int>* out) const noexcept {
  for (std::size_t i = 0; i < nlisteners_; ++i) {
    uv_os_fd_t fd;
    if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&listeners_[i]), &fd) == 0) out->push_back(fd);
  }
}

int Worker::bound_port() const noexcept {
  sockaddr_storage ss;
  int len = sizeof ss;
  if (nlisteners_ == 0 || uv_tcp_getsockname(&listeners_[0], reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
  return port_of(ss);
}

void Worker::run_thread() {
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  pthread_setname_np(thread_.native_handle(), options_.name);
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::request_stop() noexcept {
  stop_requested_.store(true, std::memory_order_relaxed);
  uv_async_send(&wake_);
}

void Worker::request_log_flush() noexcept {
  flush_requested_.store(true, std::memory_order_relaxed);
  uv_async_send(&wake_);
}

void Worker::flush_log() noexcept {
  if (!log_) return;
  log_->flush();
  log_flushed_ms_ = uv_now(&loop_);
}

void Worker::touch_date() noexcept {
  std::uint64_t now = uv_now(&loop_);
  if (now - date_checked_ms_ >= 100) {
    date_.refresh(std::time(nullptr));
    date_checked_ms_ = now;
  }
}

void Worker::watch(Connection& c, Timeout kind) noexcept { list(kind).push_back(c, uv_now(&loop_)); }

bool Worker::is_watching(const Connection& c, Timeout kind) const noexcept {
  return lists_[static_cast<int>(kind)].contains(c);
}

void Worker::on_connection(uv_stream_t* listener, int status) noexcept {
  Worker& w = *static_cast<Worker*>(listener->data);
  if (status < 0) {
    // On EMFILE libuv drains the backlog itself (its reserve-fd trick) and calls back
    // only if that fails, so the listener does not spin; errors are only counted.
    LoopStats::bump(w.stats_.accept_errors);
    return;
  }
  auto* c = new (w.conn_blocks_.get()) Connection(w);
  ++w.live_;
  const std::int64_t open = w.options_.open_connections->fetch_add(1, std::memory_order_relaxed) + 1;
  if (c->accept(listener) != 0) {
    LoopStats::bump(w.stats_.accept_errors);
    return;
  }
  if (open > static_cast<std::int64_t>(w.config_.max_connections) || w.stopping_) {
    LoopStats::bump(w.stats_.rejected);
    return c->close();
  }
  LoopStats::bump(w.stats_.accepted);
  c->start();
}

void Worker::connection_gone(Connection* c) noexcept {
  conn_blocks_.put(c);
  --live_;
  options_.open_connections->fetch_sub(1, std::memory_order_relaxed);
  maybe_finish_stop();
}

void Worker::close_expired(Timeout kind, std::uint64_t now, std::atomic<std::uint64_t>* counter) noexcept {
  for (TimeoutList& l = list(kind); Connection* c = l.front_due(now);) {
    if (counter) LoopStats::bump(*counter);  // before the close a client can see
    c->close();                                // unlinks it
  }
}

void Worker::on_tick(uv_timer_t* t) noexcept {
  Worker& w = *static_cast<Worker*>(t->data);
  w.touch_date();
  const std::uint64_t now = uv_now(&w.loop_);
  w.close_expired(Timeout::Header, now, &w.stats_.header_timeouts);
  w.close_expired(Timeout::Idle, now, &w.stats_.idle_timeouts);
  w.close_expired(Timeout::Linger, now, nullptr);
  if (now - w.log_flushed_ms_ >= 1000) w.flush_log();
  if (++w.ticks_ % w.ticks_per_trim_ == 0) {
    if (w.sessions_.trim() + w.chunks_.trim() + w.conn_blocks_.trim() > 0) mem::return_free_memory();
  }
  w.publish_pool_bytes();
}

void Worker::publish_pool_bytes() noexcept {
  std::uint64_t held = 0, used = 0;
  for (const BlockPool* p : {&std::as_const(chunks_), &std::as_const(conn_blocks_), &sessions_.blocks()}) {
    held += (p->in_use() + p->free_count()) * p->block_size();
    used += p->in_use() * p->block_size();
  }
  LoopStats::set(stats_.pool_held_bytes, held);
  LoopStats::set(stats_.pool_used_bytes, used);
}

void Worker::on_wake(uv_async_t* a) noexcept {
  Worker& w = *static_cast<Worker*>(a->data);
  if (w.flush_requested_.exchange(false, std::memory_order_relaxed)) w.flush_log();
  if (w.stop_requested_.load(std::memory_order_relaxed) && !w.stopping_) w.begin_stop();
}

void Worker::stop_all(bool forced) noexcept {
  // Every connection not yet closing is in exactly one list; close() unlinks it.
  for (TimeoutList& l : lists_) {
    if (forced) {
      while (Connection* c = l.front()) c->close();
      continue;
    }
    for (Connection* c = l.front(); c;) {
      Connection* next = TimeoutList::next(*c);
      c->stop();
      c = next;
    }
  }
}

void Worker::begin_stop() noexcept {
  stopping_ = true;
  for (std::size_t i = 0; i < nlisteners_; ++i) uv_close(handle(&listeners_[i]), nullptr);
  if (const Router& r = *env_.router; r.drain) r.drain(r.state);  // owed responses are written now
  stop_all(false);
  uv_timer_start(&grace_, on_grace, to_ms(config_.shutdown_grace_s), 0);
  maybe_finish_stop();
}

void Worker::on_grace(uv_timer_t* t) noexcept { static_cast<Worker*>(t->data)->stop_all(true); }

void Worker::maybe_finish_stop() noexcept {
  if (!stopping_ || live_ > 0) return;
  flush_log();  // every response has its line: nothing is lost at a graceful stop
  for (uv_handle_t* h : {handle(&tick_), handle(&grace_), handle(&wake_)}) {
    if (!uv_is_closing(h)) uv_close(h, nullptr);
  }
}

}  // namespace hiserve
