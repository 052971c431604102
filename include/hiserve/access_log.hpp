// The access log, nginx's way (docs/operations.md): one line per response, formatted
// into the loop's buffer at the point the response is finished, and written with one
// write() per buffer to a file opened O_APPEND, so lines from every loop stay whole.
// The file itself (open, reopen at SIGUSR1) is the process's: this is one loop's part.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

#include "hiserve/config.hpp"
#include "hiserve/date_cache.hpp"
#include "hiserve/stats.hpp"

namespace hiserve {

// A peer's address, kept in each connection: 17 bytes, not a 128-byte sockaddr_storage.
struct PeerAddress {
  std::uint8_t bytes[16] = {};
  std::uint8_t family = 0;  // 0: unknown, 4 or 6
};

// What one response's line says. A string_view with a null data() was not read (a
// missing header, or a request line cut short) and logs as "-" (json: null or "").
struct AccessRecord {
  const PeerAddress* peer = nullptr;
  std::string_view method, target, protocol;  // the request line's three parts
  // The whole request line, when it is known to need no escaping (quick heads read
  // only bytes that need none): copied as it is.
  std::string_view plain_line;
  std::string_view referer, user_agent;
  int status = 0;
  std::uint64_t body_bytes = 0;
  std::uint64_t visitor = 0;  // 0: none given
  std::uint64_t started_ns = 0;  // CLOCK_MONOTONIC at the request's first byte; 0: unknown
};

// Longer values are cut to this many bytes and end in "...": a line always fits the
// buffer, escaped (at most 6 bytes out per byte in).
inline constexpr std::size_t kLogFieldMax = 2048;

// nginx's escaping for combined: '"', '\\', bytes below 0x20 and from 0x7F as \xHH.
char* escape_combined(char* p, std::string_view s) noexcept;
// A JSON string's inside: '"', '\\' and control bytes escaped, a byte that is not part
// of valid UTF-8 written as \u00XX.
char* escape_json(char* p, std::string_view s) noexcept;
// "192.0.2.1", "2001:db8::1" (RFC 5952), or "-".
char* write_peer(char* p, const PeerAddress& a) noexcept;
// CLOCK_MONOTONIC in nanoseconds (libuv's uv_hrtime clock).
std::uint64_t monotonic_ns() noexcept;

class AccessLog {
 public:
  static constexpr std::size_t kBufferBytes = 64 * 1024;
  // fd: the process's log file, open O_APPEND for as long as this lives (a reopen
  // replaces the file under the same number).
  AccessLog(int fd, AccessLogFormat format, const DateCache& date, LoopStats& stats);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Appends r's line, first writing the buffer out if the line might not fit.
  void record(const AccessRecord& r) noexcept;
  // Writes the buffered lines with one write(). If it fails (a full disk) they are
  // dropped and counted; stderr hears of it at most once a minute, process-wide.
  void flush() noexcept;
  std::size_t buffered() const noexcept { return len_; }

 private:
  char* combined(char* p, const AccessRecord& r) noexcept;
  char* json(char* p, const AccessRecord& r) noexcept;
  // What every line from a's peer in this second starts with (its time and address).
  char* prefix(char* p, const PeerAddress* a) noexcept;

  int fd_;
  AccessLogFormat format_;
  const DateCache* date_;
  LoopStats* stats_;
  char* buf_;
  std::size_t len_ = 0;
  std::uint64_t lines_ = 0;  // in the buffer
  PeerAddress prefix_peer_;
  std::time_t prefix_second_ = -1;
  char prefix_[128];
  std::uint8_t prefix_len_ = 0;
};

}  // namespace hiserve
