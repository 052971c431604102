#include "addresses.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace hiserve {
namespace {

int probe(const sockaddr_storage& ss, bool v6only) {
  const int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return uv_translate_sys_error(errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (v6only) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  const socklen_t len = ss.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  const int r = bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) == 0 ? 0 : uv_translate_sys_error(errno);
  ::close(fd);
  return r;
}

}  // namespace

int port_of(const sockaddr_storage& ss) noexcept {
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
}

void set_port(sockaddr_storage& ss, int port) noexcept {
  const auto p = htons(static_cast<std::uint16_t>(port));
  if (ss.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6&>(ss).sin6_port = p;
  else reinterpret_cast<sockaddr_in&>(ss).sin_port = p;
}

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) noexcept {
  if (a.ss_family != b.ss_family || port_of(a) != port_of(b)) return false;
  if (a.ss_family == AF_INET6)
    return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, &reinterpret_cast<const sockaddr_in6&>(b).sin6_addr,
                       sizeof(in6_addr)) == 0;
  return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr == reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
}

int listen_addresses(const char* flag, const std::string& host, int port, std::vector<sockaddr_storage>* out,
                     std::string* error, const std::vector<sockaddr_storage>& held) {
  const std::string where = host + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (int r = getaddrinfo(host.c_str(), service.c_str(), &hints, &res)) {
    *error = std::string("cannot resolve ") + flag + " " + host + ": " + gai_strerror(r);
    return UV_EINVAL;
  }
  std::vector<sockaddr_storage> found;
  for (const addrinfo* a = res; a; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    sockaddr_storage ss{};
    std::memcpy(&ss, a->ai_addr, a->ai_addrlen);
    const bool seen = std::any_of(found.begin(), found.end(), [&](const sockaddr_storage& f) {
      return std::memcmp(&f, &ss, sizeof ss) == 0;
    });
    if (!seen) found.push_back(ss);
  }
  freeaddrinfo(res);
  out->clear();
  int last = UV_EADDRNOTAVAIL;
  for (const sockaddr_storage& ss : found) {
    // As the listener will: IPv6 alone beside other addresses (Worker::listen).
    sockaddr_storage at = ss;
    if (port == 0 && !held.empty()) set_port(at, port_of(held[0]));  // port 0: the one the old process got
    const bool handed = std::any_of(held.begin(), held.end(), [&](const sockaddr_storage& h) { return same_address(h, at); });
    const int r = handed ? 0 : probe(ss, found.size() > 1 && ss.ss_family == AF_INET6);
    if (r == 0) {
      out->push_back(ss);
    } else if (r == UV_EADDRNOTAVAIL || r == UV_EAFNOSUPPORT) {
      last = r;  // not on this machine: skipped while another address serves
    } else {
      *error = "cannot listen on " + where + ": " + uv_strerror(r);
      return r;
    }
  }
  if (out->empty()) {
    *error = "cannot listen on " + where + ": " + uv_strerror(last);
    return last;
  }
  return 0;
}

}  // namespace hiserve
