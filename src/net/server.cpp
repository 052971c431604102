#include "hiserve/net/server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <mutex>

#include "hiserve/alloc.hpp"
#include "ops.hpp"
#include "worker.hpp"

namespace hiserve {

namespace {
// Routes libuv's allocations through mem:: (counted, and on the chosen allocator);
// libuv allows it only before its first allocation.
void route_libuv_allocator() {
  static std::once_flag once;
  std::call_once(once, [] { uv_replace_allocator(mem::alloc, mem::resize, mem::alloc_zeroed, mem::release); });
}

// SO_REUSEPORT would let a second server silently share the port; a plain bind
// first tells "in use" apart.
int probe_port(const sockaddr* addr, socklen_t len) {
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return uv_translate_sys_error(errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int r = bind(fd, addr, len) == 0 ? 0 : uv_translate_sys_error(errno);
  ::close(fd);
  return r;
}

// An IP literal and port into *ss, probed for "in use" when the port is fixed; 0, or a
// libuv error with its line in *error.
int resolve(const char* flag, const std::string& host, int port, sockaddr_storage* ss, std::string* error) {
  socklen_t len;
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(ss)) == 0) {
    len = sizeof(sockaddr_in);
  } else if (uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(ss)) == 0) {
    len = sizeof(sockaddr_in6);
  } else {
    *error = std::string("invalid ") + flag + " " + host + ": not an IPv4 or IPv6 address";
    return UV_EINVAL;
  }
  if (port == 0) return 0;
  if (int r = probe_port(reinterpret_cast<sockaddr*>(ss), len)) {
    *error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + uv_strerror(r);
    return r;
  }
  return 0;
}

// One line of counters, for soak runs and operators (--stats-interval).
void log_stats(const Stats& s, const CounterStatus& c) {
  char line[2048];
  int n = std::snprintf(line, sizeof line, "stats open_connections=%lld", static_cast<long long>(s.open_connections));
#define HISERVE_LOG_COUNTER(name, what) \
  n += std::snprintf(line + n, sizeof line - n, " " #name "=%llu", static_cast<unsigned long long>(s.name));
  HISERVE_COUNTERS(HISERVE_LOG_COUNTER)
#undef HISERVE_LOG_COUNTER
  n += std::snprintf(line + n, sizeof line - n, " bad_requests=%llu too_large=%llu unsupported=%llu",
                     static_cast<unsigned long long>(s.bad_requests), static_cast<unsigned long long>(s.too_large),
                     static_cast<unsigned long long>(s.unsupported));
#define HISERVE_LOG_STATUS(name, what) \
  n += std::snprintf(line + n, sizeof line - n, " counter_" #name "=%llu", static_cast<unsigned long long>(c.name));
  HISERVE_COUNTER_STATUS(HISERVE_LOG_STATUS)
#undef HISERVE_LOG_STATUS
  std::fprintf(stderr, "%s\n", line);
}
}  // namespace

Server::Server(Config config) : config_(std::move(config)) {}

Server::~Server() {
  if (started_) stop();
  wait();
}

int Server::start(std::string* error) {
  route_libuv_allocator();
  store_ = VisitorStore::open(config_.counter, config_.counter_block, error);
  if (!store_) return UV_EINVAL;
  // A peer that resets while we write must cost an EPIPE, not the process.
  signal(SIGPIPE, SIG_IGN);
  sockaddr_storage ss{};
  auto* addr = reinterpret_cast<sockaddr*>(&ss);
  if (int r = resolve("--host", config_.host, config_.port, &ss, error)) return r;
  const std::string where = config_.host + ":" + std::to_string(config_.port);
  const bool metrics = config_.metrics_port >= 0;
  sockaddr_storage metrics_ss{};
  if (metrics) {
    if (int r = resolve("--metrics-addr", config_.metrics_host, config_.metrics_port, &metrics_ss, error)) return r;
  }
  nworkers_ = config_.threads ? config_.threads : uv_available_parallelism();
  workers_ = std::make_unique<std::unique_ptr<Worker>[]>(nworkers_);
  for (unsigned i = 0; i < nworkers_; ++i) {
    workers_[i] = std::make_unique<Worker>(config_, store_->counter(), open_connections_, kHiRouter, nullptr,
                                           metrics, i);
    const char* what = "";
    if (int r = workers_[i]->listen(addr, &what)) {
      *error = std::string("cannot listen on ") + where + ": " + what + ": " + uv_strerror(r);
      workers_.reset();
      return r;
    }
    if (i == 0) {  // port 0: the others join the port the first one got
      port_ = workers_[0]->bound_port();
      if (ss.ss_family == AF_INET6)
        reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(static_cast<std::uint16_t>(port_));
      else
        reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(static_cast<std::uint16_t>(port_));
    }
  }
  if (metrics) {
    ops_ = std::make_unique<Ops>(*this);
    metrics_worker_ = std::make_unique<Worker>(config_, store_->counter(), metrics_connections_, ops_->router(),
                                               ops_.get(), true, 0);
    const char* what = "";
    int r = metrics_worker_->listen(reinterpret_cast<sockaddr*>(&metrics_ss), &what);
    if (r == 0) r = ops_->attach(metrics_worker_->loop());
    if (r != 0) {
      *error = "cannot listen on " + config_.metrics_host + ":" + std::to_string(config_.metrics_port) +
               " (--metrics-addr): " + what + ": " + uv_strerror(r);
      metrics_worker_.reset();
      workers_.reset();
      return r;
    }
    metrics_port_ = metrics_worker_->bound_port();
  }
  store_->start();
  for (unsigned i = 0; i < nworkers_; ++i) workers_[i]->run_thread();
  if (metrics_worker_) metrics_worker_->run_thread();
  started_ = true;
  return 0;
}

void Server::stop() noexcept {
  for (unsigned i = 0; i < nworkers_ && workers_; ++i) workers_[i]->request_stop();
  if (metrics_worker_) metrics_worker_->request_stop();
}

void Server::wait() noexcept {
  for (unsigned i = 0; i < nworkers_ && workers_; ++i) workers_[i]->join();
  if (metrics_worker_) metrics_worker_->join();
  if (store_) store_->stop();
}

CounterStatus Server::counter_status() const noexcept { return store_ ? store_->status() : CounterStatus{}; }

int Server::run_until_signal() {
  // A loop of its own on the calling thread: signals and the stats timer, nothing else.
  uv_loop_t loop;
  if (int r = uv_loop_init(&loop)) return r;
  loop.data = this;
  uv_signal_t signals[2];
  uv_timer_t stats_timer;
  int r = uv_signal_init(&loop, &signals[0]);
  if (r == 0) r = uv_signal_init(&loop, &signals[1]);
  if (r == 0) r = uv_timer_init(&loop, &stats_timer);
  auto on_signal = [](uv_signal_t* s, int) { uv_stop(s->loop); };
  if (r == 0) r = uv_signal_start(&signals[0], on_signal, SIGINT);
  if (r == 0) r = uv_signal_start(&signals[1], on_signal, SIGTERM);
  if (r == 0 && config_.stats_interval_s > 0) {
    const auto ms = static_cast<std::uint64_t>(config_.stats_interval_s * 1000);
    auto on_stats = [](uv_timer_t* t) {
      const Server& s = *static_cast<Server*>(t->loop->data);
      log_stats(s.stats(), s.counter_status());
    };
    r = uv_timer_start(&stats_timer, on_stats, ms, ms);
  }
  if (r == 0) uv_run(&loop, UV_RUN_DEFAULT);  // until a signal
  stop();
  uv_walk(&loop, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  wait();
  uv_loop_close(&loop);
  return r;
}

Stats Server::stats() const noexcept {
  Stats s{};
  s.open_connections = open_connections_.load(std::memory_order_relaxed);
  for (unsigned i = 0; i < nworkers_ && workers_; ++i) workers_[i]->stats().add_to(s);
  finish(s);
  return s;
}

}  // namespace hiserve
