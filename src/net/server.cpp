#include "hiserve/server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <mutex>

#include "hiserve/alloc.hpp"
#include "hiserve/net.hpp"
#include "worker.hpp"

namespace hiserve {

void route_libuv_allocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    uv_replace_allocator(mem::alloc, mem::resize, mem::alloc_zeroed, mem::release);
  });
}

namespace {
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
}  // namespace

Server::Server(Config config) : config_(std::move(config)) {}

Server::~Server() {
  if (started_) {
    stop();
    wait();
  }
}

int Server::start(std::string* error) {
  route_libuv_allocator();
  // A peer that resets while we write must cost an EPIPE, not the process.
  signal(SIGPIPE, SIG_IGN);
  sockaddr_storage ss{};
  auto* addr = reinterpret_cast<sockaddr*>(&ss);
  socklen_t addr_len;
  if (uv_ip4_addr(config_.host.c_str(), config_.port, reinterpret_cast<sockaddr_in*>(&ss)) == 0) {
    addr_len = sizeof(sockaddr_in);
  } else if (uv_ip6_addr(config_.host.c_str(), config_.port, reinterpret_cast<sockaddr_in6*>(&ss)) == 0) {
    addr_len = sizeof(sockaddr_in6);
  } else {
    *error = "invalid --host " + config_.host + ": not an IPv4 or IPv6 address";
    return UV_EINVAL;
  }
  const std::string where = config_.host + ":" + std::to_string(config_.port);
  if (config_.port != 0) {
    if (int r = probe_port(addr, addr_len)) {
      *error = "cannot listen on " + where + ": " + uv_strerror(r);
      return r;
    }
  }
  nworkers_ = config_.threads ? config_.threads : uv_available_parallelism();
  workers_ = std::make_unique<std::unique_ptr<Worker>[]>(nworkers_);
  for (unsigned i = 0; i < nworkers_; ++i) {
    workers_[i] = std::make_unique<Worker>(*this);
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
  for (unsigned i = 0; i < nworkers_; ++i) workers_[i]->run_thread();
  started_ = true;
  return 0;
}

void Server::stop() noexcept {
  for (unsigned i = 0; i < nworkers_ && workers_; ++i) workers_[i]->request_stop();
}

void Server::wait() noexcept {
  for (unsigned i = 0; i < nworkers_ && workers_; ++i) workers_[i]->join();
}

Stats Server::stats() const noexcept {
  Stats s{};
  s.open_connections = open_connections_.load(std::memory_order_relaxed);
  auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  for (unsigned i = 0; i < nworkers_ && workers_; ++i) {
    const WorkerStats& w = workers_[i]->stats;
    s.accepted += get(w.accepted);
    s.rejected += get(w.rejected);
    s.accept_errors += get(w.accept_errors);
    s.requests += get(w.requests);
    s.bad_requests += get(w.bad_requests);
    s.too_large += get(w.too_large);
    s.unsupported += get(w.unsupported);
    s.header_timeouts += get(w.header_timeouts);
    s.idle_timeouts += get(w.idle_timeouts);
  }
  s.protocol_errors = s.bad_requests + s.too_large + s.unsupported;
  return s;
}

}  // namespace hiserve
