#include "hiserve/net/server.hpp"

#include <chrono>
#include <mutex>
#include <thread>

#include "access_log_file.hpp"
#include "hiserve/alloc.hpp"
#include "listener_group.hpp"
#include "ops.hpp"
#include "process.hpp"

namespace hiserve {

namespace {
// Routes libuv's allocations through mem:: (counted, and on the chosen allocator);
// libuv allows it only before its first allocation.
void route_libuv_allocator() {
  static std::once_flag once;
  std::call_once(once, [] { uv_replace_allocator(mem::alloc, mem::resize, mem::alloc_zeroed, mem::release); });
}
}  // namespace

Server::Server(Config config)
    : config_(std::move(config)),
      public_(std::make_unique<ListenerGroup>()),
      metrics_(std::make_unique<ListenerGroup>()) {}

Server::~Server() {
  if (started_) stop();
  wait();
}

int Server::start(std::string* error, const Inherited* from) {
  route_libuv_allocator();
  if (!config_.access_log.empty()) {
    access_log_ = std::make_unique<AccessLogFile>();
    if (!access_log_->open(config_.access_log, error)) return UV_EINVAL;
  }
  store_ = StoreThread::open(config_.counter, config_.counter_block, error, from ? &from->store : nullptr);
  if (!store_) return UV_EINVAL;
  ignore_sigpipe();
  const bool metrics = config_.metrics_port >= 0;
  if (from && metrics != !from->metrics_fds.empty()) {
    *error = metrics ? "the old process hands no metrics listener" : "the old process hands a metrics listener";
    return UV_EINVAL;
  }
  const unsigned loops = config_.threads ? config_.threads : uv_available_parallelism();
  // A JSON line's request_time needs each read's clock, as the histogram does.
  const bool json_log = access_log_ && config_.access_log_format == AccessLogFormat::Json;
  if (int r = public_->open(config_, store_->counter(),
                            {"--host", config_.host, config_.port, loops, &kHiRouter, metrics || json_log,
                             "hiserve-loop-%u", access_log_ ? access_log_->fd() : -1, config_.access_log_format},
                            error, from ? &from->public_fds : nullptr))
    return r;
  if (metrics) {
    ops_ = std::make_unique<Ops>(*this);
    int r = metrics_->open(config_, store_->counter(),
                           {"--metrics-addr", config_.metrics_host, config_.metrics_port, 1, &ops_->router(), true,
                            "hiserve-metrics"},
                           error, from ? &from->metrics_fds : nullptr);
    if (r == 0 && (r = ops_->attach(metrics_->loop(0).loop())) != 0)
      *error = std::string("cannot set up the metrics timer: ") + uv_strerror(r);
    if (r != 0) {
      metrics_ = std::make_unique<ListenerGroup>();
      public_ = std::make_unique<ListenerGroup>();
      return r;
    }
  }
  store_->start();
  if (from) {
    // A loop of this process must not take a request it could only answer 503: Redis
    // leases arrive after a connect, the others' came with open().
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kUpgradeTimeoutS);
    while (store_->status().leases == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (store_->status().leases == 0) {
      *error = "no visitor number leased within " + std::to_string(kUpgradeTimeoutS) + " s";
      return UV_ETIMEDOUT;
    }
  }
  public_->run();
  metrics_->run();
  started_ = true;
  return 0;
}

bool Server::reopen_access_log(std::string* error) {
  if (!access_log_) return true;
  const bool ok = access_log_->reopen(error);
  public_->flush_logs();
  return ok;
}

int Server::port() const noexcept { return public_->port() < 0 ? 0 : public_->port(); }

int Server::metrics_port() const noexcept { return metrics_->port(); }

std::vector<int> Server::listener_fds(bool metrics) const { return (metrics ? metrics_ : public_)->listener_fds(); }

int Server::counter_fd() const noexcept { return store_->handover_fd(); }

StoreHandover Server::lease_for_handover() noexcept { return store_->lease_for_handover(); }

std::uint64_t Server::pause_store() noexcept { return store_->pause(); }

void Server::hand_over() noexcept {
  store_->disown();
  stop();
  metrics_->stop();  // probes go to the new process from now on
}

void Server::stop() noexcept {
  draining_ = true;
  public_->stop();
}

void Server::wait() noexcept {
  // The metrics listener outlives the public one's drain, so probes see "draining".
  public_->join();
  metrics_->stop();
  metrics_->join();
  if (store_) store_->stop();
}

StoreStatus Server::store_status() const noexcept { return store_ ? store_->status() : StoreStatus{}; }

std::string Server::store_master() const { return store_ ? store_->master() : ""; }

Readiness Server::readiness() const noexcept {
  if (draining_) return Readiness::Draining;
  if (!started_) return Readiness::Starting;
  const StoreStatus s = store_status();
  if (s.leases == 0) return Readiness::Starting;
  return s.left > 0 ? Readiness::Ready : Readiness::StoreDown;
}

const char* readiness_text(Readiness r) noexcept {
  switch (r) {
    case Readiness::Ready: return "ready";
    case Readiness::Starting: return "starting";
    case Readiness::Draining: return "draining";
    case Readiness::StoreDown: return "counter store down";
  }
  return "starting";
}

Stats Server::stats() const noexcept {
  Stats s{};
  public_->add_to(s);
  finish(s);
  return s;
}

}  // namespace hiserve
