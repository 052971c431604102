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
  std::string_view location = {};     // empty: no Location header
  std::string_view retry_after = {};  // empty: no Retry-After header
};

// Upper bound of write_head's output.
constexpr std::size_t max_head_size(const ResponseHead& h) {
  return 256 + h.content_type.size() + h.location.size() + h.retry_after.size();
}
// Writes the status line and headers, through the blank line, at p; returns the end.
char* write_head(char* p, const ResponseHead& h, const DateCache& date) noexcept;
// Writes a complete response whose body is `body` (sent unless head_only).
void write_response(OutBuf& out, const ResponseHead& h, std::string_view body, bool head_only,
                    const DateCache& date);
// The protocol errors hiserve answers, then closes: each with its status and Go's text.
enum class ProtocolError : std::uint8_t {
  BadRequest,          // 400 "400 Bad Request"
  MissingHost,         // 400 "400 Bad Request: missing required Host header"
  MalformedHost,       // 400 "400 Bad Request: malformed Host header"
  InvalidHeaderName,   // 400 "400 Bad Request: invalid header name"
  InvalidHeaderValue,  // 400 "400 Bad Request: invalid header value"
  BodyTooLarge,        // 413
  ExpectationFailed,   // 417, empty body, no Content-Type (Go's sendExpectationFailed)
  HeadTooLarge,        // 431
  UnknownMethod,       // 501
  UnsupportedTransferEncoding,  // 501 "Unsupported transfer encoding"
  VersionNotSupported,          // 505 "...: unsupported protocol version"
};
int status_of(ProtocolError e) noexcept;
// The error's answer: text/plain, Connection: close, no nosniff (Go sends none).
void write_error(OutBuf& out, ProtocolError e, const DateCache& date);
// "HTTP/1.1 100 Continue" and a blank line.
void write_continue(OutBuf& out);
// The reason phrase for a status hiserve sends ("OK", "Bad Request", ...).
std::string_view reason_phrase(int status) noexcept;

// Writes s at p; returns the end.
inline char* write_bytes(char* p, std::string_view s) noexcept {
  if (!s.empty()) __builtin_memcpy(p, s.data(), s.size());  // an empty view may be null
  return p + s.size();
}
// Writes the decimal digits of v at p; returns the end.
char* write_uint(char* p, std::uint64_t v) noexcept;

}  // namespace hiserve
