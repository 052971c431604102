#include "hiserve/response.hpp"

#include <charconv>

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
  return std::to_chars(p, p + 20, v).ptr;
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

void write_error(OutBuf& out, ProtocolError e, const DateCache& date) {
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
    return write_response(out, {status, {}, false, 0, ConnHeader::Close}, {}, false, date);
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
}

void write_continue(OutBuf& out) { out.append("HTTP/1.1 100 Continue\r\n\r\n"); }

}  // namespace hiserve
