// The request nearly every client sends, read in one pass without llhttp: GET or HEAD,
// an origin-form target, HTTP/1.0 or 1.1, CRLF line ends, token header names, and no
// header that changes the framing or the connection beyond keep-alive and close. Like
// picohttpparser beside a full parser (h2o), it declines anything else, and anything
// not wholly in the buffer: the session then hands those bytes to llhttp, whose answer
// for every input read here is the same (the fuzzer checks both ways agree).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hiserve/request.hpp"
#include "hiserve/uri.hpp"

namespace hiserve {

struct QuickHead {
  Method method;
  std::uint8_t minor;       // HTTP/1.minor
  bool wants_keep_alive;    // 1.1: no "Connection: close"; 1.0: "Connection: keep-alive"
  std::string_view target;  // starts with '/'
  Target parts;             // target parsed as parse_target would (check .ok)
  std::size_t length;       // of the whole head, through the blank line
  // The first Referer and User-Agent values, for the access log (null data(): none).
  std::string_view referer, user_agent;
};

// Reads a head at the start of [p, end) of at most max_bytes; false to decline.
bool read_quick_head(const char* p, const char* end, std::size_t max_bytes, QuickHead* out) noexcept;

}  // namespace hiserve
