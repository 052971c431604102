#include "hiserve/response.hpp"

#include <array>
#include <cstring>

namespace hiserve {

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100: return "Continue";
#define HISERVE_STATUS_PHRASE(code, phrase) \
  case code: return phrase;
    HISERVE_STATUSES(HISERVE_STATUS_PHRASE)
#undef HISERVE_STATUS_PHRASE
    default: return "Internal Server Error";
  }
}

char* write_uint(char* p, std::uint64_t v) noexcept {
  // Two digits a step from a table (the visitor number and Content-Length of every
  // answer): std::to_chars spent about twice the instructions.
  static constexpr auto kPairs = [] {
    std::array<char, 200> t{};
    for (int i = 0; i < 100; ++i) t[2 * i] = static_cast<char>('0' + i / 10), t[2 * i + 1] = static_cast<char>('0' + i % 10);
    return t;
  }();
  if (v < 100) {  // Content-Length of most answers
    if (v < 10) {
      *p = static_cast<char>('0' + v);
      return p + 1;
    }
    std::memcpy(p, &kPairs[v * 2], 2);
    return p + 2;
  }
  int n = 3;
  for (std::uint64_t bound = 1000; n < 20 && v >= bound; bound *= 10) ++n;
  char* const end = p + n;
  char* q = end;
  while (v >= 100) {
    const std::size_t pair = static_cast<std::size_t>(v % 100) * 2;
    v /= 100;
    *--q = kPairs[pair + 1];
    *--q = kPairs[pair];
  }
  if (v >= 10) {
    *--q = kPairs[v * 2 + 1];
    *--q = kPairs[v * 2];
  } else {
    *--q = static_cast<char>('0' + v);
  }
  return end;
}

char* write_head(char* p, const ResponseHead& h, const DateCache& date) noexcept {
  if (h.status == 200) {
    p = write_bytes(p, "HTTP/1.1 200 OK\r\n");
  } else {
    p = write_bytes(p, "HTTP/1.1 ");
    p = write_uint(p, static_cast<std::uint64_t>(h.status));
    *p++ = ' ';
    p = write_bytes(p, reason_phrase(h.status));
    p = write_bytes(p, "\r\n");
  }
  if (!h.content_type.empty()) {
    p = write_bytes(p, "Content-Type: ");
    p = write_bytes(p, h.content_type);
    p = write_bytes(p, "\r\n");
  }
  if (!h.location.empty()) {
    p = write_bytes(p, "Location: ");
    p = write_bytes(p, h.location);
    p = write_bytes(p, "\r\n");
  }
  if (!h.retry_after.empty()) {
    p = write_bytes(p, "Retry-After: ");
    p = write_bytes(p, h.retry_after);
    p = write_bytes(p, "\r\n");
  }
  if (h.nosniff) p = write_bytes(p, "X-Content-Type-Options: nosniff\r\n");
  p = write_bytes(p, "Date: ");
  p = write_bytes(p, date.value());
  p = write_bytes(p, "\r\nContent-Length: ");
  p = write_uint(p, h.content_length);
  if (h.conn == ConnHeader::Close) p = write_bytes(p, "\r\nConnection: close");
  if (h.conn == ConnHeader::KeepAlive) p = write_bytes(p, "\r\nConnection: keep-alive");
  return write_bytes(p, "\r\n\r\n");
}

void write_response(OutBuf& out, const ResponseHead& h, std::string_view body, bool head_only,
                    const DateCache& date) {
  const std::size_t body_len = head_only ? 0 : body.size();
  char* start = out.reserve(max_head_size(h) + body_len);
  char* p = write_head(start, h, date);
  if (!head_only) p = write_bytes(p, body);
  out.commit(static_cast<std::size_t>(p - start));
}

int status_of(ProtocolError e) noexcept {
  switch (e) {
#define HISERVE_PROTOCOL_ERROR_STATUS(e, label, status) \
  case ProtocolError::e: return status;
    HISERVE_PROTOCOL_ERRORS(HISERVE_PROTOCOL_ERROR_STATUS)
#undef HISERVE_PROTOCOL_ERROR_STATUS
  }
  return 400;
}

std::string_view protocol_error_label(ProtocolError e) noexcept {
  switch (e) {
#define HISERVE_PROTOCOL_ERROR_LABEL(e, label, status) \
  case ProtocolError::e: return label;
    HISERVE_PROTOCOL_ERRORS(HISERVE_PROTOCOL_ERROR_LABEL)
#undef HISERVE_PROTOCOL_ERROR_LABEL
  }
  return "bad_request";
}

std::size_t write_error(OutBuf& out, ProtocolError e, const DateCache& date) {
  // Go's conn.serve texts where Go answers the same error, else "CODE Reason".
  std::string_view detail;
  switch (e) {
    case ProtocolError::MissingHost: detail = ": missing required Host header"; break;
    case ProtocolError::MalformedHost: detail = ": malformed Host header"; break;
    case ProtocolError::InvalidHeaderName: detail = ": invalid header name"; break;
    case ProtocolError::InvalidHeaderValue: detail = ": invalid header value"; break;
    case ProtocolError::VersionNotSupported: detail = ": unsupported protocol version"; break;
    default: break;
  }
  const int status = status_of(e);
  if (e == ProtocolError::ExpectationFailed) {
    write_response(out, {status, {}, false, 0, ConnHeader::Close}, {}, false, date);
    return 0;
  }
  char body[96];
  char* p = body;
  if (e == ProtocolError::UnsupportedTransferEncoding) {
    p = write_bytes(p, "Unsupported transfer encoding");
  } else {
    p = write_uint(p, static_cast<std::uint64_t>(status));
    *p++ = ' ';
    p = write_bytes(p, reason_phrase(status));
    p = write_bytes(p, detail);
  }
  const std::string_view b{body, static_cast<std::size_t>(p - body)};
  write_response(out, {status, kTextPlain, false, b.size(), ConnHeader::Close}, b, false, date);
  return b.size();
}

void write_continue(OutBuf& out) { out.append("HTTP/1.1 100 Continue\r\n\r\n"); }

}  // namespace hiserve
