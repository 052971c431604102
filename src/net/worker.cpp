#include "worker.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <new>

namespace hiserve {
namespace {
constexpr std::size_t kChunkSize = 16 * 1024;
constexpr int kBacklog = 1024;
// How long a connection that was told to close may take to send its last bytes and
// go away (lingering close: a close with unread input would RST our response).
constexpr std::uint64_t kLingerMs = 2000;

std::uint64_t to_ms(double s) { return static_cast<std::uint64_t>(s * 1000 + 0.5); }
}  // namespace

void TimeoutList::push_back(Connection* c, std::uint64_t now) noexcept {
  unlink(c);
  c->deadline = now + timeout_ms;
  c->list = this;
  c->prev = tail;
  c->next = nullptr;
  (tail ? tail->next : head) = c;
  tail = c;
}

void TimeoutList::unlink(Connection* c) noexcept {
  TimeoutList* l = c->list;
  if (!l) return;
  (c->prev ? c->prev->next : l->head) = c->next;
  (c->next ? c->next->prev : l->tail) = c->prev;
  c->prev = c->next = nullptr;
  c->list = nullptr;
}

Worker::Worker(Server& s) noexcept
    : server(s),
      chunks(kChunkSize),
      conn_blocks((sizeof(Connection) + 15) & ~std::size_t{15}),
      env{s.config_.limits, &chunks, &s.visitors_, &date} {
  const Config& c = s.config_;
  header_list.timeout_ms = to_ms(c.header_timeout_s);
  idle_list.timeout_ms = to_ms(c.idle_timeout_s);
  linger_list.timeout_ms = std::min(kLingerMs, idle_list.timeout_ms);
  read_buf = static_cast<char*>(mem::alloc(kReadBufSize));
}

Worker::~Worker() {
  if (loop_ready_) {
    if (!thread_.joinable()) {  // never ran: close what listen() opened
      uv_walk(&loop, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); },
              nullptr);
      uv_run(&loop, UV_RUN_DEFAULT);
    }
    join();
    uv_loop_close(&loop);
  }
  mem::release(read_buf);
}

int Worker::listen(const struct sockaddr* addr, const char** what) noexcept {
  *what = "uv_loop_init";
  if (int r = uv_loop_init(&loop)) return r;
  loop_ready_ = true;
  loop.data = this;
  *what = "socket";
  if (int r = uv_tcp_init_ex(&loop, &listener_, addr->sa_family)) return r;
  listener_.data = this;
  // Debian's libuv 1.44 has no UV_TCP_REUSEPORT: set it on the fd before bind, so each
  // loop gets its own accept queue and the kernel spreads connections over them.
  uv_os_fd_t fd;
  uv_fileno(reinterpret_cast<uv_handle_t*>(&listener_), &fd);
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) return uv_translate_sys_error(errno);
  *what = "bind";
  if (int r = uv_tcp_bind(&listener_, addr, 0)) return r;
  *what = "listen";
  if (int r = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), kBacklog, on_connection))
    return r;
  uv_timer_init(&loop, &tick_);
  uv_timer_init(&loop, &grace_);
  uv_async_init(&loop, &wake_, on_wake);
  tick_.data = grace_.data = wake_.data = this;
  // The sweep runs a few times per shortest timeout, at most once a second.
  std::uint64_t shortest = std::min({header_list.timeout_ms, idle_list.timeout_ms, linger_list.timeout_ms});
  std::uint64_t tick = std::clamp<std::uint64_t>(shortest / 4, 5, 1000);
  ticks_per_trim_ = static_cast<unsigned>(std::max<std::uint64_t>(1, to_ms(server.config_.trim_interval_s) / tick));
  uv_timer_start(&tick_, on_tick, tick, tick);
  return 0;
}

int Worker::bound_port() const noexcept {
  sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

void Worker::run_thread() {
  thread_ = std::thread([this] { uv_run(&loop, UV_RUN_DEFAULT); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::request_stop() noexcept {
  stop_requested_.store(true, std::memory_order_relaxed);
  uv_async_send(&wake_);
}

void Worker::touch_date() noexcept {
  std::uint64_t now = uv_now(&loop);
  if (now - date_checked_ms >= 100) {
    date.refresh(std::time(nullptr));
    date_checked_ms = now;
  }
}

void Worker::on_connection(uv_stream_t* listener, int status) noexcept {
  Worker& w = *static_cast<Worker*>(listener->data);
  if (status < 0) {
    // On EMFILE libuv drains the backlog itself (its reserve-fd trick) and calls back
    // only if that fails, so the listener does not spin; errors are only counted.
    WorkerStats::bump(w.stats.accept_errors);
    return;
  }
  auto* c = new (w.conn_blocks.get()) Connection(w);
  ++w.live_;
  const std::int64_t open = w.server.open_connections_.fetch_add(1, std::memory_order_relaxed) + 1;
  uv_tcp_init(&w.loop, &c->tcp);
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) return c->close();
  if (open > static_cast<std::int64_t>(w.server.config_.max_connections) || w.stopping) {
    WorkerStats::bump(w.stats.rejected);
    return c->close();
  }
  WorkerStats::bump(w.stats.accepted);
  c->start();
}

void Worker::connection_gone() noexcept {
  --live_;
  server.open_connections_.fetch_sub(1, std::memory_order_relaxed);
  maybe_finish_stop();
}

void Worker::sweep(TimeoutList& list, std::atomic<std::uint64_t>* counter) noexcept {
  const std::uint64_t now = uv_now(&loop);
  while (list.head && list.head->deadline <= now) {
    if (counter) WorkerStats::bump(*counter);
    list.head->expire();  // unlinks it
  }
}

void Worker::on_tick(uv_timer_t* t) noexcept {
  Worker& w = *static_cast<Worker*>(t->data);
  w.touch_date();
  w.sweep(w.header_list, &w.stats.header_timeouts);
  w.sweep(w.idle_list, &w.stats.idle_timeouts);
  w.sweep(w.linger_list, nullptr);
  if (++w.ticks_ % w.ticks_per_trim_ == 0) {
    if (w.chunks.trim() + w.conn_blocks.trim() > 0) mem::return_free_memory();
  }
}

void Worker::on_wake(uv_async_t* a) noexcept {
  Worker& w = *static_cast<Worker*>(a->data);
  if (w.stop_requested_.load(std::memory_order_relaxed) && !w.stopping) w.begin_stop();
}

void Worker::begin_stop() noexcept {
  stopping = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  for (TimeoutList* l : {&header_list, &idle_list, &linger_list}) {
    for (Connection* c = l->head; c;) {
      Connection* next = c->next;
      c->stop();
      c = next;
    }
  }
  uv_timer_start(&grace_, on_grace, to_ms(server.config_.shutdown_grace_s), 0);
  maybe_finish_stop();
}

void Worker::on_grace(uv_timer_t* t) noexcept {
  Worker& w = *static_cast<Worker*>(t->data);
  for (TimeoutList* l : {&w.header_list, &w.idle_list, &w.linger_list}) {
    while (l->head) l->head->close();
  }
}

void Worker::maybe_finish_stop() noexcept {
  if (!stopping || live_ > 0) return;
  for (uv_handle_t* h : {reinterpret_cast<uv_handle_t*>(&tick_), reinterpret_cast<uv_handle_t*>(&grace_),
                         reinterpret_cast<uv_handle_t*>(&wake_)}) {
    if (!uv_is_closing(h)) uv_close(h, nullptr);
  }
}

}  // namespace hiserve
