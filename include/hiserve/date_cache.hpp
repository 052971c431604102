// The Date header value (RFC 9110 IMF-fixdate), formatted once a second per loop.
#pragma once
#include <ctime>
#include <string_view>

namespace hiserve {

class DateCache {
 public:
  DateCache() noexcept { refresh(std::time(nullptr)); }
  // Reformats if `now` is a different second than the cached one.
  void refresh(std::time_t now) noexcept;
  // "Sun, 06 Nov 1994 08:49:37 GMT": always 29 bytes.
  std::string_view value() const noexcept { return {buf_, 29}; }

 private:
  std::time_t sec_ = -1;
  char buf_[30];
};

}  // namespace hiserve
