// Writing whole responses into an OutBuf: status line, the headers that matter, body.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hiserve/date_cache.hpp"
#include "hiserve/out_buf.hpp"

namespace hiserve {

// Which Connection header the response carries (the keep-alive decision is the
// caller's).
enum class ConnHeader : std::uint8_t { None, KeepAlive, Close };

inline constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
inline constexpr std::string_view kTextHtml = "text/html; charset=utf-8";

struct ResponseHead {
  int status;                     // one of the codes hiserve sends (see reason_phrase)
  std::string_view content_type;  // empty: no Content-Type header
  bool nosniff;                   // X-Content-Type-Options: nosniff
  std::size_t content_length;
  ConnHeader conn;
};

// Upper bound of write_head's output for a given content type.
constexpr std::size_t max_head_size(std::string_view content_type) {
  return 256 + content_type.size();
}
// Writes the status line and headers, through the blank line, at p; returns the end.
char* write_head(char* p, const ResponseHead& h, const DateCache& date) noexcept;
// Writes a complete response whose body is `body` (sent unless head_only).
void write_response(OutBuf& out, const ResponseHead& h, std::string_view body, bool head_only,
                    const DateCache& date);
// A protocol-level error (400, 413, 417, 431, 501, 505): text/plain, nosniff,
// Connection: close, body "<code> <reason>" as Go's server writes it.
void write_error(OutBuf& out, int status, const DateCache& date);
// "HTTP/1.1 100 Continue" and a blank line.
void write_continue(OutBuf& out);
// The reason phrase for a status hiserve sends ("OK", "Bad Request", ...).
std::string_view reason_phrase(int status) noexcept;

// Appends s at p; returns the end.
inline char* write_bytes(char* p, std::string_view s) noexcept {
  if (!s.empty()) __builtin_memcpy(p, s.data(), s.size());  // an empty view may be null
  return p + s.size();
}
// Appends the decimal digits of v at p; returns the end.
char* write_uint(char* p, std::uint64_t v) noexcept;

}  // namespace hiserve
