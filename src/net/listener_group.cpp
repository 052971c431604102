#include "listener_group.hpp"

#include <cstdio>

#include "addresses.hpp"

namespace hiserve {

int ListenerGroup::open(const Config& config, LeasedCounter& visitors, const GroupSpec& spec, std::string* error) {
  std::vector<sockaddr_storage> addrs;
  if (int r = listen_addresses(spec.flag, spec.host, spec.port, &addrs, error)) return r;
  for (unsigned i = 0; i < spec.loops; ++i) {
    LoopOptions options{&config, &visitors, &open_connections_, spec.router, spec.timed, {},
                        spec.access_log_fd, spec.access_log_format};
    std::snprintf(options.name, sizeof options.name, spec.thread_name, i);
    auto& loop = loops_.emplace_back(std::make_unique<Worker>(options));
    const char* what = "loop";
    int r = loop->open_loop();
    if (r == 0) r = loop->listen(addrs.data(), addrs.size(), &what);
    if (r != 0) {
      const bool named_by_host = std::string_view(spec.flag) == "--host";
      *error = "cannot listen on " + spec.host + ":" + std::to_string(spec.port) +
               (named_by_host ? "" : std::string(" (") + spec.flag + ")") + ": " + what + ": " + uv_strerror(r);
      loops_.clear();
      port_ = -1;
      return r;
    }
    if (i == 0) {  // port 0: the others join the port the first one got
      port_ = loop->bound_port();
      for (sockaddr_storage& ss : addrs) set_port(ss, port_);
    }
  }
  return 0;
}

void ListenerGroup::run() {
  for (auto& l : loops_) l->run_thread();
}

void ListenerGroup::stop() noexcept {
  for (auto& l : loops_) l->request_stop();
}

void ListenerGroup::flush_logs() noexcept {
  for (auto& l : loops_) l->request_log_flush();
}

void ListenerGroup::join() noexcept {
  for (auto& l : loops_) l->join();
}

void ListenerGroup::add_to(Stats& s) const noexcept {
  s.open_connections += open_connections_.load(std::memory_order_relaxed);
  for (const auto& l : loops_) l->stats().add_to(s);
}

}  // namespace hiserve
