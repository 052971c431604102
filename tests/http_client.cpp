#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace test {

std::optional<Response> take_response(std::string& buf, bool head_only) {
  std::size_t end = buf.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  Response r;
  std::string_view head(buf.data(), end);
  std::size_t eol = head.find("\r\n");
  r.status_line = std::string(head.substr(0, eol));
  if (r.status_line.rfind("HTTP/1.1 ", 0) != 0 || r.status_line.size() < 12) return std::nullopt;
  r.status = std::atoi(r.status_line.c_str() + 9);
  while (eol != std::string_view::npos) {
    std::size_t start = eol + 2;
    eol = head.find("\r\n", start);
    std::string_view line = head.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers[name] = std::string(value);
  }
  std::size_t len = 0;
  if (!head_only && r.status != 100) len = std::strtoull(r.header("content-length").c_str(), nullptr, 10);
  if (buf.size() < end + 4 + len) return std::nullopt;
  r.body = buf.substr(end + 4, len);
  buf.erase(0, end + 4 + len);
  return r;
}

std::vector<Response> parse_all(std::string bytes) {
  std::vector<Response> out;
  while (auto r = take_response(bytes)) out.push_back(std::move(*r));
  return out;
}

Client::Client(int port, int timeout_ms) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

bool Client::send(std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

int Client::recv_some() {
  char tmp[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<std::size_t>(n));
      return static_cast<int>(n);
    }
    if (n == 0) return 0;
    if (errno == EINTR) continue;
    return errno == ECONNRESET ? 0 : -1;
  }
}

std::optional<Response> Client::read_response(bool head_only) {
  for (;;) {
    if (auto r = take_response(buf_, head_only)) return r;
    if (recv_some() <= 0) return std::nullopt;
  }
}

bool Client::wait_closed() {
  for (;;) {
    int n = recv_some();
    if (n == 0) return true;
    if (n < 0) return false;
  }
}

void Client::reset() {
  linger l{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd_);
  fd_ = -1;
}

void Client::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

std::optional<Response> fetch(int port, std::string_view request, bool head_only) {
  Client c(port);
  if (!c.send(request)) return std::nullopt;
  return c.read_response(head_only);
}

}  // namespace test
