#include "hiserve/net/server.hpp"

#include <csignal>
#include <cstdio>
#include <mutex>
#include <vector>

#ifdef HISERVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "addresses.hpp"
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

// Tells systemd (Type=notify) how the service stands; nothing without NOTIFY_SOCKET
// or a build without libsystemd.
void notify_systemd(const char* state) {
#ifdef HISERVE_SYSTEMD
  sd_notify(0, state);
#else
  (void)state;
#endif
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
  std::vector<sockaddr_storage> addrs, metrics_addrs;
  if (int r = listen_addresses("--host", config_.host, config_.port, &addrs, error)) return r;
  const bool metrics = config_.metrics_port >= 0;
  if (metrics) {
    if (int r = listen_addresses("--metrics-addr", config_.metrics_host, config_.metrics_port, &metrics_addrs, error))
      return r;
  }
  const std::string where = config_.host + ":" + std::to_string(config_.port);
  nworkers_ = config_.threads ? config_.threads : uv_available_parallelism();
  workers_ = std::make_unique<std::unique_ptr<Worker>[]>(nworkers_);
  for (unsigned i = 0; i < nworkers_; ++i) {
    workers_[i] = std::make_unique<Worker>(config_, store_->counter(), open_connections_, kHiRouter, nullptr,
                                           metrics, i);
    const char* what = "";
    if (int r = workers_[i]->listen(addrs.data(), addrs.size(), &what)) {
      *error = std::string("cannot listen on ") + where + ": " + what + ": " + uv_strerror(r);
      workers_.reset();
      return r;
    }
    if (i == 0) {  // port 0: the others join the port the first one got
      port_ = workers_[0]->bound_port();
      for (sockaddr_storage& ss : addrs) set_port(ss, port_);
    }
  }
  if (metrics) {
    ops_ = std::make_unique<Ops>(*this);
    metrics_worker_ = std::make_unique<Worker>(config_, store_->counter(), metrics_connections_, ops_->router(),
                                               ops_.get(), true, 0);
    const char* what = "";
    int r = metrics_worker_->listen(metrics_addrs.data(), metrics_addrs.size(), &what);
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

int Server::run_until_signal(void (*on_ready)(const Server&)) {
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
  if (r == 0) {
    if (on_ready) on_ready(*this);
    notify_systemd("READY=1");  // every loop listens and the store is open (start())
    uv_run(&loop, UV_RUN_DEFAULT);  // until a signal
  }
  notify_systemd("STOPPING=1");
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
