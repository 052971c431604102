#include "listener_group.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "addresses.hpp"

namespace hiserve {

namespace {

// The addresses of the handed sockets of one loop (the first loop's; every loop has the
// same), checked against the rest; 0 or a libuv error with one line in *error.
int handed_addresses(const GroupSpec& spec, const std::vector<int>& handed, std::vector<sockaddr_storage>* out,
                     std::string* error) {
  out->clear();
  for (int fd : handed) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
      *error = std::string("a handed socket for ") + spec.flag + ": " + uv_strerror(uv_translate_sys_error(errno));
      return UV_EBADF;
    }
    if (!out->empty() && same_address(ss, (*out)[0])) break;  // the next loop's begin
    out->push_back(ss);
  }
  if (handed.size() != out->size() * spec.loops) {
    *error = "the old process hands " + std::to_string(handed.size()) + " listeners for " + spec.flag + ", this one wants " +
             std::to_string(out->size() * spec.loops) + " (" + std::to_string(spec.loops) + " loops x " +
             std::to_string(out->size()) + " addresses)";
    return UV_EINVAL;
  }
  return 0;
}

}  // namespace

int ListenerGroup::open(const Config& config, LeasedCounter& visitors, const GroupSpec& spec, std::string* error,
                        const std::vector<int>* handed) {
  std::vector<sockaddr_storage> addrs, held;
  if (handed) {
    if (int r = handed_addresses(spec, *handed, &held, error)) return r;
  }
  if (int r = listen_addresses(spec.flag, spec.host, spec.port, &addrs, error, held)) return r;
  if (handed) {
    // The same arguments can name other addresses now (a name resolved anew): then the
    // old process goes on serving, and a restart is the way to move.
    const bool same = addrs.size() == held.size() &&
                      std::all_of(held.begin(), held.end(), [&](const sockaddr_storage& h) {
                        return std::any_of(addrs.begin(), addrs.end(), [&](sockaddr_storage a) {
                          if (spec.port == 0) set_port(a, port_of(h));
                          return same_address(a, h);
                        });
                      });
    if (!same) {
      *error = std::string("the handed listeners are not what ") + spec.flag + " " + spec.host + " names now";
      return UV_EINVAL;
    }
    addrs = held;  // in the order of the handed fds
  }
  for (unsigned i = 0; i < spec.loops; ++i) {
    LoopOptions options{&config, &visitors, &open_connections_, spec.router, spec.timed, {},
                        spec.access_log_fd, spec.access_log_format};
    std::snprintf(options.name, sizeof options.name, spec.thread_name, i);
    auto& loop = loops_.emplace_back(std::make_unique<Worker>(options));
    const char* what = "loop";
    int r = loop->open_loop();
    if (r == 0) r = loop->listen(addrs.data(), addrs.size(), handed ? handed->data() + i * addrs.size() : nullptr, &what);
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

std::vector<int> ListenerGroup::listener_fds() const {
  std::vector<int> fds;
  for (const auto& l : loops_) l->listener_fds(&fds);
  return fds;
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
