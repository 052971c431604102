// Test helpers: a blocking loopback client with timeouts, and a strict parser for the
// responses hiserve writes.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace test {

struct Response {
  int status = 0;
  std::string status_line;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

// Parses one response at the front of buf (body per Content-Length unless head_only);
// removes it from buf. nullopt if buf does not hold a whole response yet.
std::optional<Response> take_response(std::string& buf, bool head_only = false);
// All whole responses in bytes, in order (a trailing partial one is left out).
std::vector<Response> parse_all(std::string bytes);

class Client {
 public:
  explicit Client(int port, int timeout_ms = 5000);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends all of s; false if the peer is gone.
  bool send(std::string_view s);
  // Reads until one whole response is buffered; nullopt on EOF or timeout.
  std::optional<Response> read_response(bool head_only = false);
  // Reads until the server closes; true on EOF or reset, false on timeout.
  bool wait_closed();
  // Raw bytes received and not yet taken.
  std::string& buffered() { return buf_; }
  // Closes with an RST (SO_LINGER 0).
  void reset();
  void shutdown_write();
  int fd() const { return fd_; }

 private:
  // One recv into buf_; >0 bytes, 0 on EOF, -1 on timeout or error.
  int recv_some();
  int fd_ = -1;
  std::string buf_;
};

// One request/response on a fresh connection.
std::optional<Response> fetch(int port, std::string_view request, bool head_only = false);

}  // namespace test
