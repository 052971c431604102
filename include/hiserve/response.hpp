// Writing whole responses into an OutBuf: status line, the headers that matter, body.
#pragma once
#include <array>
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
// X(enumerator, metric label, status)
#define HISERVE_PROTOCOL_ERRORS(X)                                                             \
  X(BadRequest, "bad_request", 400)              /* "400 Bad Request" */                        \
  X(MissingHost, "missing_host", 400)            /* "400 Bad Request: missing required Host header" */ \
  X(MalformedHost, "malformed_host", 400)        /* "400 Bad Request: malformed Host header" */ \
  X(InvalidHeaderName, "invalid_header_name", 400)   /* "400 Bad Request: invalid header name" */ \
  X(InvalidHeaderValue, "invalid_header_value", 400) /* "400 Bad Request: invalid header value" */ \
  X(BodyTooLarge, "body_too_large", 413)                                                          \
  X(ExpectationFailed, "expectation_failed", 417) /* empty body, no Content-Type (Go's) */     \
  X(HeadTooLarge, "head_too_large", 431)                                                          \
  X(UnknownMethod, "unknown_method", 501)                                                         \
  X(UnsupportedTransferEncoding, "unsupported_transfer_encoding", 501) /* Go's text */          \
  X(VersionNotSupported, "version_not_supported", 505) /* "...: unsupported protocol version" */

enum class ProtocolError : std::uint8_t {
#define HISERVE_PROTOCOL_ERROR_ENUM(e, label, status) e,
  HISERVE_PROTOCOL_ERRORS(HISERVE_PROTOCOL_ERROR_ENUM)
#undef HISERVE_PROTOCOL_ERROR_ENUM
};
inline constexpr std::size_t kProtocolErrorKinds = 0
#define HISERVE_PROTOCOL_ERROR_COUNT(e, label, status) +1
    HISERVE_PROTOCOL_ERRORS(HISERVE_PROTOCOL_ERROR_COUNT)
#undef HISERVE_PROTOCOL_ERROR_COUNT
    ;
// The error's label in metrics ("bad_request", ...).
std::string_view protocol_error_label(ProtocolError e) noexcept;
int status_of(ProtocolError e) noexcept;
// The error's answer: text/plain, Connection: close, no nosniff (Go sends none).
// Returns its body's size.
std::size_t write_error(OutBuf& out, ProtocolError e, const DateCache& date);
// "HTTP/1.1 100 Continue" and a blank line.
void write_continue(OutBuf& out);
// The final statuses hiserve sends, each with its reason phrase: X(code, phrase).
#define HISERVE_STATUSES(X)                    \
  X(200, "OK")                                 \
  X(301, "Moved Permanently")                  \
  X(400, "Bad Request")                        \
  X(404, "Not Found")                          \
  X(409, "Conflict")                           \
  X(413, "Content Too Large")                  \
  X(417, "Expectation Failed")                 \
  X(431, "Request Header Fields Too Large")    \
  X(500, "Internal Server Error")              \
  X(501, "Not Implemented")                    \
  X(503, "Service Unavailable")                \
  X(505, "HTTP Version Not Supported")
inline constexpr int kStatusCodes[] = {
#define HISERVE_STATUS_CODE(code, phrase) code,
    HISERVE_STATUSES(HISERVE_STATUS_CODE)
#undef HISERVE_STATUS_CODE
};
inline constexpr std::size_t kStatusCount = sizeof kStatusCodes / sizeof kStatusCodes[0];
// The index of a status in kStatusCodes (an unknown one counts as 500).
inline constexpr auto kStatusSlots = [] {
  std::array<std::uint8_t, 600> t{};
  std::uint8_t slot_500 = 0;
  for (std::size_t i = 0; i < kStatusCount; ++i)
    if (kStatusCodes[i] == 500) slot_500 = static_cast<std::uint8_t>(i);
  for (auto& s : t) s = slot_500;
  for (std::size_t i = 0; i < kStatusCount; ++i) t[static_cast<std::size_t>(kStatusCodes[i])] = static_cast<std::uint8_t>(i);
  return t;
}();
inline std::size_t status_slot(int status) noexcept {
  return kStatusSlots[status >= 0 && status < 600 ? static_cast<std::size_t>(status) : 500];
}
// The reason phrase for a status hiserve sends ("OK", "Bad Request", ...; 100's too).
std::string_view reason_phrase(int status) noexcept;

// Writes s at p; returns the end.
inline char* write_bytes(char* p, std::string_view s) noexcept {
  if (!s.empty()) __builtin_memcpy(p, s.data(), s.size());  // an empty view may be null
  return p + s.size();
}
// Writes the decimal digits of v at p; returns the end.
char* write_uint(char* p, std::uint64_t v) noexcept;

}  // namespace hiserve
